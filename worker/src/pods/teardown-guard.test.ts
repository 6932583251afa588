import { privateKeyToAccount } from "viem/accounts";
import { beforeEach, describe, expect, it } from "vitest";
import type { WorkerContext } from "../context.js";
import type { Logger } from "../log.js";
import { createMetrics } from "../metrics.js";
import type { LeaseRecord } from "../store/worker-state.js";
import { type StopVerdict, TeardownGuard } from "./teardown-guard.js";

const provider = privateKeyToAccount(`0x${"11".repeat(32)}`);
const other = privateKeyToAccount(`0x${"22".repeat(32)}`);

/** What the stub chain answers for getLease(id): a lease (status 1 active, 2 closed, 0 none) or an RPC error. */
let onChain: Record<string, { provider: string; status: number } | "down">;
let logged: ({ level: string; msg: string } & Record<string, unknown>)[];

/** A logger that keeps what it is given (the assertions read the level, message and fields). */
const keepingLogger = (): Logger => {
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    logged.push({ level, msg, ...fields });
  const logger: Logger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: () => logger,
  };
  return logger;
};
let ctx: WorkerContext;

beforeEach(() => {
  onChain = {};
  logged = [];
  ctx = {
    config: { maxUnconfirmedTeardownShare: 0.1 },
    chain: {
      account: provider,
      deployment: { contracts: { podnetMarket: { address: other.address } } },
      publicClient: {
        readContract: async ({ args }: { args: [bigint] }) => {
          const lease = onChain[args[0].toString()];
          if (lease === "down") throw new Error("fetch failed: ECONNREFUSED");
          return lease ?? { provider: "0x0000000000000000000000000000000000000000", status: 0 };
        },
      },
    },
    metrics: createMetrics(),
    log: keepingLogger(),
  } as unknown as WorkerContext;
});

const record = (id: string, status: "active" | "closed", ending?: LeaseRecord["ending"]) =>
  ({ id, status, ...(ending ? { ending } : {}) }) as LeaseRecord;

describe("TeardownGuard.verdict", () => {
  it("stops only for a reason the chain gives now; keeps a lease the chain shows active; defers when it cannot ask", async () => {
    const guard = new TeardownGuard(ctx);
    onChain = {
      "1": { provider: provider.address, status: 2 },
      "2": { provider: other.address, status: 1 },
      "3": { provider: provider.address, status: 1 },
      "4": "down",
    };
    expect(await guard.verdict("1", record("1", "closed"))).toMatchObject({ action: "stop", confirmed: true });
    expect(await guard.verdict("2", undefined)).toMatchObject({ action: "stop", confirmed: true });
    // The state says closed (a close that a reorg took back, a node that lagged): the chain wins, the pod stays.
    expect(await guard.verdict("3", record("3", "closed"))).toMatchObject({ action: "keep" });
    expect(await guard.verdict("4", record("4", "closed"))).toMatchObject({ action: "defer" });
    expect(await guard.verdict("5", undefined)).toEqual({
      action: "stop",
      confirmed: false,
      reason: "no such lease on chain",
    });
    // The money loop proved the escrow spent before it set `ending`.
    onChain["6"] = "down";
    expect(await guard.verdict("6", record("6", "active", "out-of-funds"))).toMatchObject({
      action: "stop",
      confirmed: true,
    });
    expect(logged.filter((l) => l.msg.startsWith("pod kept")).map((l) => l.msg)).toEqual([
      "pod kept: its lease is active on chain",
      "pod kept: cannot prove its lease unpaid now, will ask the chain again",
    ]);
  });

  it("logs a deferred pod once per outage, not once per pass", async () => {
    const guard = new TeardownGuard(ctx);
    onChain["4"] = "down";
    for (let pass = 0; pass < 5; pass++) await guard.verdict("4", record("4", "closed"));
    expect(logged.filter((l) => l.msg.startsWith("pod kept"))).toHaveLength(1);
  });
});

describe("TeardownGuard.allowedStops", () => {
  const unconfirmed: StopVerdict = { action: "stop", confirmed: false, reason: "no such lease on chain" };
  const confirmed: StopVerdict = { action: "stop", confirmed: true, reason: "lease closed on chain" };

  it("lets every confirmed stop through and a few unconfirmed ones (at least one)", () => {
    const guard = new TeardownGuard(ctx);
    const verdicts = new Map<string, StopVerdict>([
      ["1", confirmed],
      ["2", confirmed],
      ["3", unconfirmed],
      ["4", { action: "defer", reason: "chain unreachable" }],
    ]);
    expect([...guard.allowedStops(verdicts, 4)].sort()).toEqual(["1", "2", "3"]);
    expect(guard.refused).toBe(0);
  });

  it("refuses all unconfirmed stops past the share of the pods, and says so as an error", async () => {
    const guard = new TeardownGuard(ctx);
    const verdicts = new Map<string, StopVerdict>([["1", confirmed]]);
    for (let id = 2; id <= 4; id++) verdicts.set(String(id), unconfirmed);
    // 20 pods, share 0.1: at most 2 without a confirmed reason; 3 are planned, so none of them goes.
    expect([...guard.allowedStops(verdicts, 20)]).toEqual(["1"]);
    expect(guard.refused).toBe(3);
    expect(await ctx.metrics.registry.getSingleMetricAsString("podnet_worker_teardowns_refused_total")).toMatch(/ 3$/m);
    const error = logged.find((l) => l.level === "error");
    expect(error?.msg).toMatch(/^TEARDOWN GUARD: refusing to stop pods without a confirmed on-chain reason/);
    expect(error).toMatchObject({ pods: 20, wouldStop: 3, limit: 2, leases: ["2", "3", "4"] });
  });
});
