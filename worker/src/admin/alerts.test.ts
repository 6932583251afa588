import { createHmac, timingSafeEqual } from "node:crypto";
import { chmodSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stubReconciler } from "../api/stub-context.js";
import type { WorkerConfig } from "../config.js";
import { createLogger } from "../log.js";
import { type StubWorker, stubProvider, stubWorker } from "../market/stub-worker.js";
import { RouteTable } from "../pods/routes.js";
import { AddonSupervisor, configuredAddons } from "./addon-supervisor.js";
import { AdminAlerts, type Alert } from "./alert-store.js";
import { alertOnLeaseClosed, watchAlerts } from "./alerts.js";
import { createAdminApi } from "./app.js";
import { AdminEventBus } from "./event-bus.js";
import { AdminTokens } from "./tokens.js";

// Alerts against a stub chain, and the alert-webhooks addon for real: a child process started by the supervisor,
// reading the admin API over HTTP, delivering to a real local HTTP receiver that is down at first.

let stub: StubWorker;
let balance: bigint;
let lastHeartbeat: number;

beforeEach(() => {
  stub = stubWorker();
  balance = 10n ** 18n;
  lastHeartbeat = stub.now - 10;
  stub.reads.stakeOf = () => ({
    free: 0n,
    locked: 0n,
    unbonding: 0n,
    jailed: false,
    lastHeartbeat: BigInt(lastHeartbeat),
  });
  Object.assign(stub.ctx.chain.publicClient, { getBalance: async () => balance });
  stub.ctx.config = { ...stub.ctx.config, alertMinGasWei: 10n ** 16n } as WorkerConfig;
});

const open = () => stub.ctx.alerts.list().filter((a) => a.clearedAt === undefined);

describe("alerts", () => {
  it("raises a late heartbeat past half the threshold, critical past three quarters, and clears it", async () => {
    const published: unknown[] = [];
    stub.ctx.adminEvents.subscribe((e) => published.push(e.data));
    await watchAlerts(stub.ctx, new Map());
    expect(open()).toEqual([]);
    lastHeartbeat = stub.now - 301; // threshold 600
    await watchAlerts(stub.ctx, new Map());
    expect(open()).toMatchObject([{ kind: "heartbeat-late", severity: "warning" }]);
    lastHeartbeat = stub.now - 451;
    await watchAlerts(stub.ctx, new Map());
    expect(open()).toMatchObject([{ kind: "heartbeat-late", severity: "critical" }]);
    expect(published).toHaveLength(1); // raised once, not once per pass
    lastHeartbeat = stub.now;
    await watchAlerts(stub.ctx, new Map());
    expect(open()).toEqual([]);
    expect(stub.ctx.alerts.list()[0]).toMatchObject({ kind: "heartbeat-late", clearedAt: stub.now });
    expect(published).toHaveLength(2);
  });

  it("raises low gas below alertMinGasWei and clears it after a top-up", async () => {
    balance = 10n ** 16n - 1n;
    await watchAlerts(stub.ctx, new Map());
    expect(open()).toMatchObject([{ kind: "low-gas", severity: "warning" }]);
    expect(open()[0]?.message).toContain("9999999999999999 wei");
    balance = 10n ** 16n;
    await watchAlerts(stub.ctx, new Map());
    expect(open()).toEqual([]);
  });

  it("raises a failing pod of an active lease, with its lease id, and clears it when it runs", async () => {
    stub.ctx.state.data.leases["3"] = { id: "3", status: "active" } as never;
    await watchAlerts(stub.ctx, new Map([["3", { phase: "failed", reason: "image pull failed", at: 1 }]]));
    expect(open()).toMatchObject([
      { kind: "pod-failing", leaseId: "3", message: expect.stringContaining("image pull failed") },
    ]);
    await watchAlerts(stub.ctx, new Map([["3", { phase: "running", since: 1 }]]));
    expect(open()).toEqual([]);
  });

  it("raises a lease closed by someone else under a running pod; not its own closures, nor one never deployed", () => {
    const publisher = "0x00000000000000000000000000000000000000aa";
    alertOnLeaseClosed(stub.ctx, "4", stubProvider.address, 2, true);
    alertOnLeaseClosed(stub.ctx, "5", publisher, 1, false);
    expect(open()).toEqual([]);
    alertOnLeaseClosed(stub.ctx, "6", publisher, 1, true);
    alertOnLeaseClosed(stub.ctx, "7", publisher, 4, true);
    expect(
      open()
        .map((a) => [a.kind, a.leaseId, a.severity])
        .sort(),
    ).toEqual([
      ["lease-closed", "6", "warning"],
      ["lease-closed", "7", "critical"],
    ]);
  });
});

describe("alert persistence", () => {
  it("keeps alerts across a restart (the state file), so an open one stays open and a lease closure is not lost", () => {
    let saved: Record<string, Alert> = {};
    const persistence = { load: () => structuredClone(saved), save: (a: Record<string, Alert>) => (saved = a) };
    const before = new AdminAlerts(new AdminEventBus(), () => 100, persistence);
    before.raise("lease-closed:6", { kind: "lease-closed", severity: "warning", message: "closed", leaseId: "6" });
    before.raise("low-gas", { kind: "low-gas", severity: "warning", message: "low" });
    before.clear("low-gas");
    const after = new AdminAlerts(new AdminEventBus(), () => 200, persistence);
    expect(after.list()).toEqual(before.list());
    // A condition raised again after its clear is a new alert with a new id.
    after.raise("low-gas", { kind: "low-gas", severity: "warning", message: "low again" });
    const ids = after.list().map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(after.list().find((a) => a.kind === "low-gas")).toMatchObject({ since: 200, message: "low again" });
  });
});

describe("alert-webhooks addon", () => {
  const SECRET = "s3cret-webhook-key-0123456789";
  let adminServer: Server | undefined;
  let receiver: Server | undefined;
  let supervisor: AddonSupervisor | undefined;

  afterEach(async () => {
    await supervisor?.stop();
    adminServer?.close();
    receiver?.close();
  });

  it("refuses a secret file others can read", () => {
    const file = join(stub.ctx.config.dataDir, "webhook-secret");
    writeFileSync(file, SECRET);
    chmodSync(file, 0o644);
    const config = {
      ...stub.ctx.config,
      addons: { bidder: false, alertWebhooks: { url: "http://127.0.0.1:1/", secretFile: file } },
    };
    expect(() => configuredAddons(config as WorkerConfig, {})).toThrow(/secretFile: .* readable by others/);
  });

  it("POSTs each alert signed with HMAC-SHA256 over timestamp.body; retries while the receiver is down", async () => {
    const lines: string[] = [];
    stub.ctx.config = { ...stub.ctx.config, trustedProxies: [], adminSessionTtlSec: 3600, adminLinkTtlSec: 600 };
    const tokens = new AdminTokens(stub.ctx.config.dataDir);
    let origin = "";
    const admin = createAdminApi({
      ctx: stub.ctx,
      reconciler: stubReconciler(),
      ingressRoutes: new RouteTable("pods.localhost"),
      origins: () => [origin],
      tokens,
    });
    adminServer = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: admin.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s as Server)) as Server;
    });
    origin = `http://127.0.0.1:${(adminServer.address() as AddressInfo).port}`;
    // A port that nothing listens on yet: the receiver comes up later on it.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));

    const file = join(stub.ctx.config.dataDir, "webhook-secret");
    writeFileSync(file, `${SECRET}\n`, { mode: 0o600 });
    const config = {
      ...stub.ctx.config,
      addons: { bidder: true, alertWebhooks: { url: `http://127.0.0.1:${port}/hook`, secretFile: file } },
      bidding: { enabled: false, priceBps: 10_000 },
    } as WorkerConfig;
    const specs = configuredAddons(config, {});
    expect(specs.map((s) => [s.name, s.scopes])).toEqual([["alert-webhooks", ["read"]]]);
    supervisor = new AddonSupervisor(
      tokens,
      () => origin,
      createLogger("debug", (line) => lines.push(line)),
      { restart: true, delayMs: 100, maxDelayMs: 1000 },
    );
    supervisor.start(specs);

    stub.ctx.alerts.raise("low-gas", { kind: "low-gas", severity: "warning", message: "gas is low" });
    const until = async (what: string, check: () => boolean, ms = 20_000) => {
      const end = Date.now() + ms;
      while (!check()) {
        if (Date.now() > end) throw new Error(`timed out: ${what}\n${lines.join("\n")}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until("a failed delivery", () => lines.some((l) => l.includes("webhook unreachable")));

    const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => receiver?.listen(port, "127.0.0.1", resolve));
    await until("the delivery", () => received.length >= 1);
    stub.ctx.alerts.clear("low-gas");
    await until("the clear", () => received.length >= 2);

    const [raised, cleared] = received;
    for (const r of [raised, cleared]) {
      const timestamp = String(r?.headers["x-podnet-timestamp"]);
      const expected = `sha256=${createHmac("sha256", SECRET).update(`${timestamp}.${r?.body}`).digest("hex")}`;
      const got = String(r?.headers["x-podnet-signature"]);
      expect(got.length).toBe(expected.length);
      expect(timingSafeEqual(Buffer.from(got), Buffer.from(expected))).toBe(true);
      expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
    }
    expect(JSON.parse(raised?.body as string)).toMatchObject({
      event: "raised",
      alert: { kind: "low-gas", message: "gas is low" },
    });
    expect(JSON.parse(cleared?.body as string)).toMatchObject({ event: "cleared", alert: { kind: "low-gas" } });
    expect(supervisor.list()[0]).toMatchObject({ name: "alert-webhooks", running: true, restarts: 0 });
    expect(lines.join("\n")).not.toContain(SECRET);
  }, 40_000);
});
