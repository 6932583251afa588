import { apiErrorBody, providerApiRoutes } from "@podnet/sdk/protocol";
import { Hono, type MiddlewareHandler } from "hono";
import type { WorkerContext } from "../context.js";
import { TrustedProxies } from "../net/forwarded.js";
import type { Reconciler } from "../pods/reconciler.js";
import type { RouteTable } from "../pods/routes.js";
import { BlobError } from "../store/blob-store.js";
import { PublisherAuth } from "./auth.js";
import { closeAfterAnswer } from "./body.js";
import type { ApiDeps } from "./deps.js";
import { HttpError } from "./http-error.js";
import { type ApiLimits, apiLimitsOf, SourceRateLimiter, sourceOf } from "./rate-limit.js";
import { blobRoutes } from "./routes/blobs.js";
import { disputeRoutes } from "./routes/disputes.js";
import { healthRoutes } from "./routes/health.js";
import { leaseRoutes } from "./routes/leases.js";
import { manifestRoutes } from "./routes/manifest.js";
import { quoteRoutes } from "./routes/quote.js";

/** Statuses of signed routes that cost the caller a token: refusals a publisher with its own lease never gets. */
const REFUSED = new Set([400, 401, 403, 404]);

/**
 * The provider API (Hono): quotes and attestation, blob upload/download, manifest upload, pod status, usage, events
 * and logs, health and metrics. Each group of routes is a sub-app in routes/, registered from the protocol's route
 * table (`providerApiRoutes`); lease routes are signed by the lease's publisher (PublisherAuth). This file only
 * composes them: request metrics, per-source rate limits, connections closed after a body nobody reads, and every
 * error shaped once into the protocol's error body.
 */
export function createApi(
  ctx: WorkerContext,
  reconciler: Reconciler,
  ingressRoutes: RouteTable,
  limits: ApiLimits = apiLimitsOf(ctx.config),
) {
  const app = new Hono();
  const deps: ApiDeps = { ctx, reconciler, ingressRoutes, auth: new PublisherAuth(ctx), limits };
  const limiter = new SourceRateLimiter(limits.rateLimit);
  const trusted = new TrustedProxies(ctx.config.trustedProxies);

  // Registered before the routes are mounted, so it wraps every one of them.
  app.use(async (c, next) => {
    await next();
    ctx.metrics.apiRequests.inc({ route: c.req.routePath, status: String(c.res.status) });
    if (closeAfterAnswer(c)) c.res.headers.set("connection", "close");
  });

  app.onError((error, c) => {
    if (error instanceof HttpError) {
      const headers = error.retryAfter === undefined ? undefined : { "retry-after": String(error.retryAfter) };
      return c.json(error.toJSON(), error.status, headers);
    }
    if (error instanceof BlobError) return c.json(new HttpError(error.status, error.message).toJSON(), error.status);
    ctx.log.error("api error", { path: c.req.path, error: error.message });
    return c.json(apiErrorBody(500, "internal error"), 500);
  });
  app.notFound((c) => c.json(new HttpError(404, `${c.req.method} ${c.req.path}: no such route`).toJSON(), 404));

  // Anonymous routes: a token per request, per source, so one caller cannot keep the worker signing quotes or
  // pinging Docker for everyone. Signed routes: only refusals cost a token, and a source out of tokens is refused
  // before its signature is looked at; a publisher using its own lease is never slowed down.
  const anonymous: MiddlewareHandler = async (c, next) => {
    const wait = limiter.take(sourceOf(c, trusted));
    if (wait !== undefined) throw tooMany(wait);
    await next();
  };
  const signed: MiddlewareHandler = async (c, next) => {
    const source = sourceOf(c, trusted);
    const wait = limiter.waitOf(source);
    if (wait !== undefined) throw tooMany(wait);
    try {
      await next();
    } finally {
      if (REFUSED.has(c.res.status)) limiter.take(source);
    }
  };
  // Each pattern is one route of the table, so `use` on it (any method: HEAD too) guards exactly that route.
  for (const route of Object.values(providerApiRoutes)) app.use(route.pattern, route.signed ? signed : anonymous);

  for (const routes of [healthRoutes, quoteRoutes, blobRoutes, manifestRoutes, disputeRoutes, leaseRoutes]) {
    app.route("/", routes(deps));
  }
  return app;
}

function tooMany(wait: number) {
  return HttpError.later(429, `rate limit: too many requests from this address, retry in ${wait} s`, wait);
}
