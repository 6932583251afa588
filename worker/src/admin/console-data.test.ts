import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApiErrorBody } from "@podnet/sdk/protocol";
import { privateKeyToAccount } from "viem/accounts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stubAdminConfig, stubContextBase, stubReconciler } from "../api/stub-context.js";
import type { WorkerConfig } from "../config.js";
import type { WorkerContext } from "../context.js";
import { RouteTable } from "../pods/routes.js";
import type { LeaseRecord, WithdrawalRecord, WorkerStateData } from "../store/worker-state.js";
import { createAdminApi } from "./app.js";
import { consoleLink } from "./console-command.js";
import { bucketStart, earningsReport } from "./earnings.js";
import { USAGE_SAMPLE_CONCURRENCY, UsageSampler } from "./usage-sampler.js";

// The console's data routes and the input checks of its actions, against a stub worker: no chain (every transaction
// the stub would send is counted, and must stay 0 for refused input), no Docker. The actions on a real chain are
// test/admin-actions.test.ts's; logs and live usage of a real pod test/admin-worker.test.ts's.

const provider = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const publisher = privateKeyToAccount("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");
const ORIGIN = "http://127.0.0.1:7071";
const NOW = 10_000;
/** A price far past 2^53 per second: the money figures must stay exact. */
const BIG_PRICE = 10n ** 30n + 7n;

let dataDir: string;
let ctx: WorkerContext;
let sent: string[];
let admin: ReturnType<typeof createAdminApi>;
let usage: UsageSampler;
let containers: { id: string; leaseId: bigint; container: string; replica: number; state: string }[];
let cpuNanos: Map<string, bigint>;
let clock: number;

const lease = (id: string, fields: Partial<LeaseRecord> = {}): LeaseRecord => ({
  id,
  publisher: publisher.address,
  orderId: "0",
  specHash: `0x${"ab".repeat(32)}`,
  resources: { cpuMillis: 500, memoryMiB: 256, storageMiB: 1024 },
  pricePerSecond: "3",
  startedAt: 1000,
  status: "active",
  ...fields,
});

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "podnet-admin-data-"));
  sent = [];
  clock = Date.UTC(2026, 5, 10, 12);
  containers = [];
  cpuNanos = new Map();
  const state: Partial<WorkerStateData> = {
    cursor: 5,
    lastWithdrawAt: 4000,
    liveness: { darkGap: { from: 10, until: 20 } },
    leases: {
      "7": lease("7", { pricePerSecond: BIG_PRICE.toString(), runsOutAt: 9000, settledAt: 5000, orderId: "3" }),
      "8": lease("8", { status: "closed", closedAt: 2000 }),
      "9": lease("9", { startedAt: 6000, resources: { cpuMillis: 250, memoryMiB: 128, storageMiB: 0 } }),
    },
    bids: {
      "4": {
        orderId: "4",
        resources: { cpuMillis: 100, memoryMiB: 64, storageMiB: 10 },
        pricePerSecond: "1",
        bidDeadline: 0,
        status: "placed",
      },
    },
    events: { "7": [{ at: 1000, type: "lease-created", message: "lease started" }] },
    disputes: {
      "1": {
        id: "1",
        leaseId: "7",
        publisher: publisher.address,
        evidenceURI: "ipfs://a",
        answerBy: 5,
        status: "ruled",
      },
      "2": {
        id: "2",
        leaseId: "9",
        publisher: publisher.address,
        evidenceURI: "ipfs://b",
        answerBy: 9,
        status: "open",
      },
    },
    withdrawals: [],
  };
  const write = async (call: { functionName: string }) => {
    sent.push(call.functionName);
    return "0x01";
  };
  ctx = {
    config: stubAdminConfig(dataDir),
    chain: {
      account: provider,
      chainId: 31337,
      deployment: {
        contracts: {
          podnetMarket: { address: provider.address },
          providerRegistry: { address: provider.address },
          paymentToken: { address: publisher.address },
        },
      },
      publicClient: {
        readContract: async () => {
          throw new Error("chain down");
        },
        estimateContractGas: async () => 21_000n,
      },
      walletClient: { writeContract: write },
    },
    txs: { run: async (label: string) => sent.push(label) },
    state: {
      data: state,
      save: () => undefined,
      saveNow: () => undefined,
      recordEvent: () => {
        throw new Error("the journal must not change");
      },
    },
    runtime: {
      listContainers: async () => containers,
      sampleStats: async (id: string) => ({ cpuNanos: cpuNanos.get(id) ?? 0n, memoryBytes: 3 * 2 ** 20 }),
    },
    ...stubContextBase(),
    profile: { registered: true, active: true, capacity: { cpuMillis: 4000, memoryMiB: 8192, storageMiB: 100_000 } },
    chainNow: () => NOW,
    reconcileLease: async () => {
      throw new Error("no pod may be touched");
    },
  } as unknown as WorkerContext;
  (ctx.config as WorkerConfig).usageSampleSec = 5;
  usage = new UsageSampler(ctx, () => clock);
  admin = createAdminApi({
    ctx,
    reconciler: stubReconciler(),
    ingressRoutes: new RouteTable("pods.localhost"),
    origins: () => [ORIGIN],
    usage,
    now: () => clock,
  });
});

afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

function call(path: string, { method = "GET", body, bearer }: { method?: string; body?: unknown; bearer?: string }) {
  const headers: Record<string, string> = { origin: ORIGIN };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  return admin.request(`${ORIGIN}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
}

/** A token with `scopes`, made by a signed-in session. */
async function tokenWith(...scopes: string[]): Promise<string> {
  const token = /#token=([\w-]+)/.exec(consoleLink(ctx.config as WorkerConfig, clock))?.[1];
  const signIn = await call("/admin/v1/sign-in/link", { method: "POST", body: { token } });
  const cookie = `podnet_admin=${/podnet_admin=([^;]+)/.exec(signIn.headers.get("set-cookie") ?? "")?.[1]}`;
  const { csrfToken } = (await signIn.json()) as { csrfToken: string };
  const created = await admin.request(`${ORIGIN}/admin/v1/tokens`, {
    method: "POST",
    headers: { origin: ORIGIN, cookie, "x-csrf-token": csrfToken, "content-type": "application/json" },
    body: JSON.stringify({ name: "test", scopes, expiresIn: 600 }),
  });
  expect(created.status).toBe(201);
  return ((await created.json()) as { token: string }).token;
}

async function refusal(res: Response, status: number): Promise<string> {
  expect(res.status).toBe(status);
  return ((await res.json()) as ApiErrorBody).error.message;
}

describe("admin API: capacity and live usage", () => {
  it("answers what is listed, promised (leases and open bids) and free, and the sampler's per-lease use", async () => {
    const bearer = await tokenWith("read");
    let res = await call("/admin/v1/capacity", { bearer });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      capacity: { cpuMillis: 4000, memoryMiB: 8192, storageMiB: 100_000 },
      committed: { cpuMillis: 850, memoryMiB: 448, storageMiB: 1034 },
      free: { cpuMillis: 3150, memoryMiB: 7744, storageMiB: 98_966 },
      usage: { sampledAt: null, cpuMillis: 0, memoryMiB: 0, leases: {} },
    });

    containers = [
      { id: "a", leaseId: 7n, container: "web", replica: 0, state: "running" },
      { id: "b", leaseId: 7n, container: "db", replica: 0, state: "running" },
      { id: "c", leaseId: 9n, container: "web", replica: 0, state: "running" },
      { id: "d", leaseId: 9n, container: "old", replica: 0, state: "exited" },
    ];
    const events: string[] = [];
    ctx.adminEvents.subscribe((e) => events.push(e.topic));
    await usage.sample();
    // 2 s later: a used 1 s of CPU (1000 millicores), b 0.5 s, c nothing.
    clock += 2000;
    cpuNanos.set("a", 2_000_000_000n);
    cpuNanos.set("b", 1_000_000_000n);
    await usage.sample();
    expect(events).toEqual(["usage", "usage"]);
    res = await call("/admin/v1/capacity", { bearer });
    expect(((await res.json()) as { usage: unknown }).usage).toEqual({
      sampledAt: clock,
      cpuMillis: 1500,
      memoryMiB: 9,
      leases: { "7": { cpuMillis: 1500, memoryMiB: 6 }, "9": { cpuMillis: 0, memoryMiB: 3 } },
    });
    const leases = (await (await call("/admin/v1/leases", { bearer })).json()) as {
      leases: { id: string; usage: unknown }[];
    };
    expect(leases.leases.find((l) => l.id === "7")?.usage).toEqual({ cpuMillis: 1500, memoryMiB: 6 });
  });

  it("samples at most USAGE_SAMPLE_CONCURRENCY containers at once, and skips a container gone meanwhile", async () => {
    containers = Array.from({ length: 100 }, (_, i) => ({
      id: `c${i}`,
      leaseId: BigInt(i),
      container: "web",
      replica: 0,
      state: "running",
    }));
    let inFlight = 0;
    let most = 0;
    ctx.runtime.sampleStats = async (id: string) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((done) => setTimeout(done, 2));
      inFlight--;
      if (id === "c3") throw new Error("no such container");
      return { cpuNanos: 0n, memoryBytes: 2 ** 20 } as never;
    };
    const sample = await usage.sample();
    expect(most).toBe(USAGE_SAMPLE_CONCURRENCY);
    expect(Object.keys(sample.leases)).toHaveLength(99);
    expect(sample.leases["3"]).toBeUndefined();
  });
});

describe("admin API: leases", () => {
  it("lists active leases with exact accrued and withdrawable money, computed without the chain", async () => {
    const bearer = await tokenWith("read");
    const res = await call("/admin/v1/leases", { bearer });
    expect(res.status).toBe(200);
    const { leases } = (await res.json()) as { leases: Record<string, unknown>[] };
    expect(leases.map((l) => l.id)).toEqual(["7", "9"]);
    // Lease 7: ran out at 9000, started at 1000, paid up to 5000.
    expect(leases[0]).toMatchObject({
      id: "7",
      publisher: publisher.address,
      orderId: "3",
      pricePerSecond: BIG_PRICE.toString(),
      resources: { cpuMillis: 500, memoryMiB: 256, storageMiB: 1024 },
      startedAt: 1000,
      runsOutAt: 9000,
      phase: "pending",
      accrued: (BIG_PRICE * 8000n).toString(),
      withdrawable: (BIG_PRICE * 4000n).toString(),
      usage: null,
    });
    // Lease 9: no run-out known, no settlement followed: the last withdrawal (4000) is before its start (6000).
    expect(leases[1]).toMatchObject({ id: "9", runsOutAt: null, accrued: "12000", withdrawable: "12000" });
  });

  it("answers one lease with its journal; an unknown or malformed id is a 404 naming it", async () => {
    const bearer = await tokenWith("read");
    const res = await call("/admin/v1/leases/7", { bearer });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      lease: { id: "7", accrued: (BIG_PRICE * 8000n).toString() },
      events: [{ at: 1000, type: "lease-created", message: "lease started" }],
    });
    expect((await (await call("/admin/v1/leases/8", { bearer })).json()) as unknown).toMatchObject({
      lease: { id: "8", status: "closed", closedAt: 2000 },
    });
    for (const id of ["12", "abc", "7x", "-7"]) {
      expect(await refusal(await call(`/admin/v1/leases/${id}`, { bearer }), 404)).toBe(
        `lease ${id}: not a lease of this provider`,
      );
      expect(await refusal(await call(`/admin/v1/leases/${id}/logs`, { bearer }), 404)).toContain(`lease ${id}`);
    }
  });

  it("merges the pod's containers' logs by time, the newest `tail` lines, while the chain is down", async () => {
    const bearer = await tokenWith("read");
    const asked: { id: string; tail: number | undefined }[] = [];
    const records: Record<string, { stream: "stdout" | "stderr"; text: string }[]> = {
      a: [
        { stream: "stdout", text: "2026-06-10T12:00:01.000000001Z web one\n" },
        { stream: "stderr", text: "2026-06-10T12:00:03.5Z web three\n" },
      ],
      b: [{ stream: "stdout", text: "2026-06-10T12:00:02Z db two\r\n" }],
    };
    containers = [
      { id: "a", leaseId: 7n, container: "web", replica: 0, state: "running" },
      { id: "b", leaseId: 7n, container: "db", replica: 1, state: "exited" },
    ];
    ctx.runtime.logs = async function* (id: string, options: { tail?: number } = {}) {
      asked.push({ id, tail: options.tail });
      yield* (records[id] ?? []).slice(-(options.tail ?? 0));
    } as never;
    const res = await call("/admin/v1/leases/7/logs?tail=2", { bearer });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      lines: [
        { container: "db", replica: 1, stream: "stdout", at: Date.parse("2026-06-10T12:00:02Z"), text: "db two" },
        { container: "web", replica: 0, stream: "stderr", at: Date.parse("2026-06-10T12:00:03.5Z"), text: "web three" },
      ],
    });
    expect(asked).toEqual([
      { id: "a", tail: 2 },
      { id: "b", tail: 2 },
    ]);
    // Without tail: the newest 200.
    await call("/admin/v1/leases/7/logs", { bearer });
    expect(asked.at(-1)?.tail).toBe(200);
  });

  it("refuses a bad log tail with 400 naming tail", async () => {
    const bearer = await tokenWith("read");
    for (const tail of ["0", "5001", "abc", "-1", "1.5", "1e3", ""]) {
      const res = await call(`/admin/v1/leases/7/logs?tail=${encodeURIComponent(tail)}`, { bearer });
      expect(await refusal(res, 400)).toBe("tail: must be a whole number of lines from 1 to 5000");
    }
  });

  it("stops nothing without a reason or without the leases:stop scope", async () => {
    const reader = await tokenWith("read", "money", "listing");
    expect(
      await refusal(
        await call("/admin/v1/leases/7/stop", { method: "POST", body: { reason: "x" }, bearer: reader }),
        403,
      ),
    ).toBe("authorization: the token lacks the scope leases:stop");
    const stopper = await tokenWith("leases:stop");
    for (const body of [{}, { reason: "" }, { reason: "   " }, { reason: 5 }, { reason: "x".repeat(201) }]) {
      const res = await call("/admin/v1/leases/7/stop", { method: "POST", body, bearer: stopper });
      expect(await refusal(res, 400)).toMatch(/^reason: must be 1 to 200 characters/);
    }
    expect(
      await refusal(
        await call("/admin/v1/leases/7/stop", { method: "POST", body: { reason: "a\nb" }, bearer: stopper }),
        400,
      ),
    ).toBe("reason: must be one line of printable text");
    expect(
      await refusal(
        await call("/admin/v1/leases/12/stop", { method: "POST", body: { reason: "x" }, bearer: stopper }),
        404,
      ),
    ).toBe("lease 12: not a lease of this provider");
    expect(
      await refusal(
        await call("/admin/v1/leases/8/stop", { method: "POST", body: { reason: "x" }, bearer: stopper }),
        409,
      ),
    ).toBe("lease 8: already closed");
    expect(ctx.state.data.leases["7"]?.ending).toBeUndefined();
    expect(sent).toEqual([]);
  });
});

describe("admin API: money actions refuse bad input before sending anything", () => {
  it("needs the money scope: a read or listing token cannot withdraw, stake or unstake", async () => {
    const bearer = await tokenWith("read", "listing", "leases:stop", "bids");
    for (const path of ["/admin/v1/withdraw", "/admin/v1/stake", "/admin/v1/unstake"]) {
      const res = await call(path, { method: "POST", body: { amount: "1" }, bearer });
      expect(await refusal(res, 403)).toBe("authorization: the token lacks the scope money");
    }
    expect(sent).toEqual([]);
  });

  it("refuses negative, fractional, exponent, huge, non-numeric, numeric-JSON and zero amounts naming amount", async () => {
    const bearer = await tokenWith("money");
    const bad = ["-1", "1.5", "1e18", "0x10", "abc", "", " 1", "01", (2n ** 96n).toString(), "9".repeat(100), 5, null];
    for (const path of ["/admin/v1/stake", "/admin/v1/unstake"]) {
      for (const amount of bad) {
        const res = await call(path, { method: "POST", body: { amount }, bearer });
        expect(await refusal(res, 400)).toMatch(/^amount: must be/);
      }
      expect(await refusal(await call(path, { method: "POST", body: {}, bearer }), 400)).toMatch(/^amount: must be/);
      expect(await refusal(await call(path, { method: "POST", body: { amount: "0" }, bearer }), 400)).toBe(
        "amount: must be at least 1",
      );
      expect(await refusal(await call(path, { method: "POST", body: "[1]", bearer }), 400)).toBe(
        "body: must be a JSON object",
      );
    }
    expect(sent).toEqual([]);
  });

  it("refuses a bad listing change naming the field", async () => {
    const bearer = await tokenWith("listing");
    const cases: [unknown, RegExp][] = [
      [{}, /^body: name at least one of/],
      [{ price: {} }, /^price: unknown field/],
      [{ pricing: { perCpuMilli: "-1" } }, /^pricing\.perCpuMilli: must be/],
      [{ pricing: { perCpuMilli: 1 } }, /^pricing\.perCpuMilli: must be/],
      [{ pricing: { flat: (2n ** 96n).toString() } }, /^pricing\.flat: must be at most/],
      [{ pricing: { perGpu: "1" } }, /^pricing\.perGpu: unknown field/],
      [{ pricing: "1" }, /^pricing: must be an object/],
      [{ capacity: { cpuMillis: -1 } }, /^capacity\.cpuMillis: must be a whole number/],
      [{ capacity: { memoryMiB: 1.5 } }, /^capacity\.memoryMiB: must be a whole number/],
      [{ capacity: { storageMiB: 2 ** 32 } }, /^capacity\.storageMiB: must be a whole number/],
      [{ attributes: "region=eu" }, /^attributes: must be a list/],
      [{ attributes: ["region"] }, /^attributes\[0\]: /],
      [{ attributes: ["a=b", 3] }, /^attributes\[1\]: /],
      [{ attributes: [`k=${"v".repeat(40)}`] }, /^attributes\[0\]: /],
    ];
    for (const [body, message] of cases) {
      const res = await call("/admin/v1/listing", { method: "PUT", body, bearer });
      expect(await refusal(res, 400)).toMatch(message);
    }
    expect(sent).toEqual([]);
  });
});

describe("admin API: earnings and disputes", () => {
  const withdrawal = (at: number, gross: bigint, fee: bigint): WithdrawalRecord => ({
    at,
    tx: `0x${"11".repeat(32)}`,
    gross: gross.toString(),
    fee: fee.toString(),
    net: (gross - fee).toString(),
    leases: 2,
  });

  it("puts each withdrawal in its UTC day, Monday-started week and month", () => {
    const wed = Date.UTC(2026, 5, 10, 23, 59, 59) / 1000; // Wednesday 10 June 2026
    expect(bucketStart("day", wed)).toBe(Date.UTC(2026, 5, 10) / 1000);
    expect(bucketStart("week", wed)).toBe(Date.UTC(2026, 5, 8) / 1000);
    expect(bucketStart("week", Date.UTC(2026, 5, 7, 12) / 1000)).toBe(Date.UTC(2026, 5, 1) / 1000); // a Sunday
    expect(bucketStart("month", wed)).toBe(Date.UTC(2026, 5, 1) / 1000);
    const big = 2n ** 80n;
    const report = earningsReport(
      [
        withdrawal(Date.UTC(2026, 5, 10, 1) / 1000, big, 1n),
        withdrawal(Date.UTC(2026, 5, 10, 2) / 1000, big, 1n),
        withdrawal(Date.UTC(2026, 5, 9) / 1000, 10n, 0n),
        withdrawal(Date.UTC(2025, 0, 1) / 1000, 999n, 0n), // outside every window
      ],
      "day",
      wed,
    );
    expect(report.buckets).toHaveLength(30);
    expect(report.buckets.at(-1)).toEqual({
      start: Date.UTC(2026, 5, 10) / 1000,
      gross: (2n * big).toString(),
      fee: "2",
      net: (2n * big - 2n).toString(),
      withdrawals: 2,
    });
    expect(report.buckets.at(-2)).toMatchObject({ start: Date.UTC(2026, 5, 9) / 1000, gross: "10", withdrawals: 1 });
    expect(report.buckets[0]).toMatchObject({ start: Date.UTC(2026, 4, 12) / 1000, gross: "0", withdrawals: 0 });
    expect(report.total).toEqual({ gross: (2n * big + 10n).toString(), fee: "2", net: (2n * big + 8n).toString() });
    expect(earningsReport([], "month", wed).buckets.map((b) => new Date(b.start * 1000).toISOString())).toEqual(
      Array.from({ length: 12 }, (_, i) => new Date(Date.UTC(2025, 6 + i, 1)).toISOString()),
    );
  });

  it("serves the report as JSON and CSV; a bad period is a 400 naming period", async () => {
    const bearer = await tokenWith("read");
    ctx.state.data.withdrawals.push(withdrawal(clock / 1000 - 3600, 100n, 3n));
    const json = await call("/admin/v1/earnings?period=week", { bearer });
    expect(json.status).toBe(200);
    const report = (await json.json()) as { period: string; buckets: unknown[]; total: unknown };
    expect(report.period).toBe("week");
    expect(report.buckets).toHaveLength(26);
    expect(report.total).toEqual({ gross: "100", fee: "3", net: "97" });
    const csv = await call("/admin/v1/earnings.csv?period=month", { bearer });
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.headers.get("content-disposition")).toBe('attachment; filename="podnet-earnings-month.csv"');
    const lines = (await csv.text()).trim().split("\r\n");
    expect(lines[0]).toBe("start,date,gross,fee,net,withdrawals");
    expect(lines).toHaveLength(13);
    expect(lines.at(-1)).toBe(`${Date.UTC(2026, 5, 1) / 1000},2026-06-01,100,3,97,1`);
    for (const period of ["year", "", "DAY"]) {
      expect(await refusal(await call(`/admin/v1/earnings?period=${period}`, { bearer }), 400)).toBe(
        "period: must be day, week or month",
      );
    }
  });

  it("lists disputes newest first with the liveness record", async () => {
    const bearer = await tokenWith("read");
    const res = await call("/admin/v1/disputes", { bearer });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { disputes: { id: string }[]; liveness: unknown };
    expect(body.disputes.map((d) => d.id)).toEqual(["2", "1"]);
    expect(body.liveness).toEqual({ darkGap: { from: 10, until: 20 } });
  });
});
