import { Hono } from "hono";
import type { AdminRouteDeps } from "./deps.js";

/**
 * GET /admin/v1/disputes: the disputes publishers opened on this provider's leases (followed from the court's events,
 * answered by market/disputes.ts), newest first, and what the chain said about its liveness: a dark gap it may still
 * be reported for, a jail. Local state only.
 */
export function disputeRoutes({ ctx, guard }: AdminRouteDeps) {
  return new Hono().get("/admin/v1/disputes", guard.require("read"), (c) =>
    c.json({
      disputes: Object.values(ctx.state.data.disputes).sort((a, b) => Number(BigInt(b.id) - BigInt(a.id))),
      liveness: ctx.state.data.liveness,
    }),
  );
}
