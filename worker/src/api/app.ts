import { apiErrorBody } from "@podnet/sdk/protocol";
import { Hono } from "hono";
import type { WorkerContext } from "../context.js";
import type { Reconciler } from "../pods/reconciler.js";
import type { RouteTable } from "../pods/routes.js";
import { BlobError } from "../store/blob-store.js";
import { PublisherAuth } from "./auth.js";
import type { ApiDeps } from "./deps.js";
import { HttpError } from "./http-error.js";
import { blobRoutes } from "./routes/blobs.js";
import { disputeRoutes } from "./routes/disputes.js";
import { healthRoutes } from "./routes/health.js";
import { leaseRoutes } from "./routes/leases.js";
import { manifestRoutes } from "./routes/manifest.js";
import { quoteRoutes } from "./routes/quote.js";

/**
 * The provider API (Hono): quotes and attestation, blob upload/download, manifest upload, pod status, usage, events
 * and logs, health and metrics. Each group of routes is a sub-app in routes/, registered from the protocol's route
 * table (`providerApiRoutes`); lease routes are signed by the lease's publisher (PublisherAuth). This file only
 * composes them: request metrics, and every error shaped once into the protocol's error body.
 */
export function createApi(ctx: WorkerContext, reconciler: Reconciler, ingressRoutes: RouteTable) {
  const app = new Hono();
  const deps: ApiDeps = { ctx, reconciler, ingressRoutes, auth: new PublisherAuth(ctx) };

  // Registered before the routes are mounted, so it wraps every one of them.
  app.use(async (c, next) => {
    await next();
    ctx.metrics.apiRequests.inc({ route: c.req.routePath, status: String(c.res.status) });
  });

  app.onError((error, c) => {
    if (error instanceof HttpError) return c.json(error.toJSON(), error.status);
    if (error instanceof BlobError) return c.json(new HttpError(error.status, error.message).toJSON(), error.status);
    ctx.log.error("api error", { path: c.req.path, error: error.message });
    return c.json(apiErrorBody(500, "internal error"), 500);
  });
  app.notFound((c) => c.json(new HttpError(404, `${c.req.method} ${c.req.path}: no such route`).toJSON(), 404));

  for (const routes of [healthRoutes, quoteRoutes, blobRoutes, manifestRoutes, disputeRoutes, leaseRoutes]) {
    app.route("/", routes(deps));
  }
  return app;
}
