/**
 * `npm run bench:admin`: how fast the console's data routes answer from a worker's state at scale, in process (no
 * network, no chain: the routes read local state only). 500 active leases with their money figures and a usage sample
 * each, and 10 000 recorded withdrawals; prints the median and p99 time of GET /admin/v1/leases, /capacity and
 * /earnings, and the size of each answer.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { createAdminApi } from "../../worker/src/admin/app.js";
import { consoleLink } from "../../worker/src/admin/console-command.js";
import type { UsageSampler } from "../../worker/src/admin/usage-sampler.js";
import { stubAdminConfig, stubContextBase, stubReconciler } from "../../worker/src/api/stub-context.js";
import type { WorkerConfig } from "../../worker/src/config.js";
import type { WorkerContext } from "../../worker/src/context.js";
import { RouteTable } from "../../worker/src/pods/routes.js";
import { MAX_WITHDRAWALS, type WorkerStateData } from "../../worker/src/store/worker-state.js";

const LEASES = 500;
const RUNS = 200;
const ORIGIN = "http://127.0.0.1:7071";
const account = privateKeyToAccount(`0x${"11".repeat(32)}`);
const dataDir = mkdtempSync(join(tmpdir(), "podnet-bench-admin-"));
const now = Math.floor(Date.now() / 1000);

const leases: WorkerStateData["leases"] = {};
const usageLeases: Record<string, { cpuMillis: number; memoryMiB: number }> = {};
for (let i = 1; i <= LEASES; i++) {
  const id = String(i);
  leases[id] = {
    id,
    publisher: account.address,
    orderId: String(i),
    specHash: `0x${"ab".repeat(32)}`,
    resources: { cpuMillis: 250, memoryMiB: 256, storageMiB: 1024 },
    pricePerSecond: String(10n ** 18n + BigInt(i)),
    startedAt: now - 86_400 - i,
    runsOutAt: now + 3600 * i,
    settledAt: now - 600,
    status: "active",
  };
  usageLeases[id] = { cpuMillis: i % 250, memoryMiB: 100 + (i % 50) };
}
const withdrawals = Array.from({ length: MAX_WITHDRAWALS }, (_, i) => ({
  at: now - i * 3600,
  tx: `0x${"22".repeat(32)}` as const,
  gross: String(10n ** 21n + BigInt(i)),
  fee: "1000",
  net: String(10n ** 21n + BigInt(i) - 1000n),
  leases: LEASES,
}));
const ctx = {
  ...stubContextBase(),
  config: stubAdminConfig(dataDir),
  chain: { account, chainId: 31337, deployment: { contracts: {} } },
  state: {
    data: { leases, bids: {}, events: {}, disputes: {}, liveness: {}, withdrawals, lastWithdrawAt: now - 600 },
  },
  profile: {
    registered: true,
    active: true,
    capacity: { cpuMillis: 200_000, memoryMiB: 200_000, storageMiB: 10 ** 6 },
  },
  chainNow: () => now,
} as unknown as WorkerContext;
const usage = {
  latest: { sampledAt: Date.now(), cpuMillis: 0, memoryMiB: 0, leases: usageLeases },
} as unknown as UsageSampler;
const admin = createAdminApi({
  ctx,
  reconciler: stubReconciler(),
  ingressRoutes: new RouteTable("pods.localhost"),
  origins: () => [ORIGIN],
  usage,
});

const link = /#token=([\w-]+)/.exec(consoleLink(ctx.config as WorkerConfig))?.[1];
const signIn = await admin.request(`${ORIGIN}/admin/v1/sign-in/link`, {
  method: "POST",
  headers: { origin: ORIGIN, "content-type": "application/json" },
  body: JSON.stringify({ token: link }),
});
const cookie = `podnet_admin=${/podnet_admin=([^;]+)/.exec(signIn.headers.get("set-cookie") ?? "")?.[1]}`;

async function measure(path: string) {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const res = await admin.request(`${ORIGIN}${path}`, { headers: { cookie } });
    const body = await res.text();
    times.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body}`);
    bytes = body.length;
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => (times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0).toFixed(2);
  console.log(`${path.padEnd(34)} median ${at(0.5)} ms  p99 ${at(0.99)} ms  ${(bytes / 1024).toFixed(0)} KiB`);
}

console.log(`${LEASES} active leases, ${withdrawals.length} withdrawals, ${RUNS} requests each, in process`);
await measure("/admin/v1/leases");
await measure("/admin/v1/capacity");
await measure("/admin/v1/earnings?period=day");
await measure("/admin/v1/earnings?period=month");
rmSync(dataDir, { recursive: true, force: true });
