import type { WorkerContext } from "../context.js";
import type { Reconciler } from "../pods/reconciler.js";
import type { RouteTable } from "../pods/routes.js";
import type { PublisherAuth } from "./auth.js";
import type { ApiLimits } from "./rate-limit.js";

/** What the provider API's route modules (routes/*.ts) are built from; createApi makes one for all of them. */
export interface ApiDeps {
  ctx: WorkerContext;
  reconciler: Reconciler;
  /** The ingress' hostname → pod table: pod status lists its URLs, health counts them. */
  ingressRoutes: RouteTable;
  /** Shared by every signed route: its nonce memory is what refuses a request replayed to another route. */
  auth: PublisherAuth;
  limits: ApiLimits;
}
