import { Hono } from "hono";
import { committedResources, freeResources } from "../market/capacity.js";
import type { AdminRouteDeps } from "./deps.js";

/**
 * GET /admin/v1/capacity: what the provider listed (the registry's capacity), what it promised (active leases and
 * bids that may still win, market/capacity.ts: the same figures quotes and bids are checked against) and what is
 * free, and the pods' live use from the background sampler (admin/usage-sampler.ts; `sampledAt` null before the first
 * sample). Local state only: it answers while the chain is unreachable.
 */
export function capacityRoutes({ ctx, guard, usage }: AdminRouteDeps) {
  return new Hono().get("/admin/v1/capacity", guard.require("read"), (c) => {
    const capacity = { ...ctx.profile.capacity };
    const committed = committedResources(ctx.state.data);
    return c.json({
      capacity,
      committed,
      free: freeResources(capacity, committed),
      usage: usage?.latest ?? { sampledAt: null, cpuMillis: 0, memoryMiB: 0, leases: {} },
    });
  });
}
