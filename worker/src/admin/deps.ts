import type { WorkerContext } from "../context.js";
import type { Reconciler } from "../pods/reconciler.js";
import type { RouteTable } from "../pods/routes.js";
import type { AddonSupervisor } from "./addon-supervisor.js";
import type { ConsoleAssets } from "./console-assets.js";
import type { AdminGuard } from "./guard.js";
import type { AdminTokens } from "./tokens.js";
import type { UsageSampler } from "./usage-sampler.js";

/** What the admin API is built from. */
export interface AdminDeps {
  ctx: WorkerContext;
  reconciler: Reconciler;
  ingressRoutes: RouteTable;
  /**
   * The console's origins (scheme://host:port) requests may come from and name in Host: `adminUrl`, or the loopback
   * addresses on the admin port. A function: the port is known only once the listener is bound.
   */
  origins: () => string[];
  /** The worker's token store, shared with the addon supervisor (which mints its children's tokens); else a new one. */
  tokens?: AdminTokens;
  /** The addons the worker runs, for GET /admin/v1/addons; none when absent. */
  addons?: AddonSupervisor;
  /** The console's files, read once (tests and the bench build many admin apps from one). */
  assets?: ConsoleAssets;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
  /** The pods' live CPU and memory use (started and stopped by the worker); without it, usage is unknown. */
  usage?: UsageSampler;
}

/** What a module of admin routes is built from: the admin API's deps and its guard (scopes, CSRF). */
export interface AdminRouteDeps extends AdminDeps {
  guard: AdminGuard;
}

/** The loopback origins of a port: what a browser on the worker's machine (or an SSH tunnel) uses. */
export function loopbackOrigins(port: number) {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`];
}
