import { AdminAlerts } from "../admin/alert-store.js";
import { AdminEventBus } from "../admin/event-bus.js";
/**
 * Test support (no production module imports it): the parts of a WorkerContext and a Reconciler the API's unit tests
 * share and never vary: a Docker Engine that answers `info`, a fully enforced sandbox, a healthy follower at block 10,
 * fresh metrics, a silent logger, and a reconciler with nothing desired. Each test adds its chain, state, stores and
 * runtime calls.
 */
import type { WorkerContext } from "../context.js";
import { createLogger } from "../log.js";
import { OpenOrders } from "../market/open-orders.js";
import { createMetrics } from "../metrics.js";
import type { Reconciler } from "../pods/reconciler.js";

/** What `docker info` answers in the stub runtime. */
export const stubEngineInfo = async () => ({
  version: "27.0.0",
  os: "linux",
  arch: "x86_64",
  cgroup: "2",
  kernel: "6.1.0",
  runc: "1.1.5",
  storageDriver: "btrfs",
});

/** The context fields every API test sets alike; spread it first, then the test's own fields. */
export function stubContextBase() {
  return {
    sandbox: {
      userns: true,
      seccomp: "default",
      apparmor: null,
      rootfsQuota: true,
      volumeQuota: true,
      egressFirewall: true,
      publicEgress: true,
      notEnforced: [],
    },
    metrics: createMetrics(),
    adminEvents: new AdminEventBus(),
    alerts: new AdminAlerts(new AdminEventBus()),
    openOrders: new OpenOrders(),
    log: createLogger("error", () => undefined),
    follower: {
      healthy: true,
      chainState: "ok",
      head: { number: 10n },
      headAgeSec: 1,
      consecutiveFailures: 0,
      reorgs: 0,
    },
  } satisfies Partial<Record<keyof WorkerContext, unknown>>;
}

/** A reconciler with no pod desired, no phase known and no failed pass. */
export function stubReconciler(): Reconciler {
  return {
    desired: () => undefined,
    phases: new Map(),
    failedPasses: 0,
    guard: { deferred: 0, refused: 0 },
  } as unknown as Reconciler;
}

/** A worker config with the admin API on (loopback port 7071, 1 h sessions, 10 min links) over `dataDir`. */
export function stubAdminConfig(dataDir: string, sessionTtlSec = 3600) {
  return {
    dataDir,
    trustedProxies: [],
    adminEnabled: true,
    adminPort: 7071,
    adminSessionTtlSec: sessionTtlSec,
    adminLinkTtlSec: 600,
  };
}
