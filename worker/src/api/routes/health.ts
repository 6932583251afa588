import { providerApiRoutes } from "@podnet/sdk/protocol";
import { Hono } from "hono";
import type { ApiDeps } from "../deps.js";

/** GET /health (chain and Docker; 503 when degraded) and GET /metrics (Prometheus). */
export function healthRoutes({ ctx, ingressRoutes }: ApiDeps) {
  const app = new Hono();

  app.on(providerApiRoutes.health.method, providerApiRoutes.health.pattern, async (c) => {
    let docker = "ok";
    try {
      await ctx.runtime.ping();
    } catch (error) {
      docker = (error as Error).message;
    }
    const healthy = docker === "ok" && ctx.follower.healthy;
    return c.json(
      {
        status: healthy ? "ok" : "degraded",
        provider: ctx.chain.account.address,
        chainId: ctx.chain.chainId,
        chain: {
          healthy: ctx.follower.healthy,
          head: ctx.follower.head.number.toString(),
          cursor: ctx.state.data.cursor,
        },
        docker,
        // What of the pod sandbox is enforced here; `notEnforced` names every part that is not.
        sandbox: ctx.sandbox,
        leases: Object.values(ctx.state.data.leases).filter((l) => l.status === "active").length,
        routes: ingressRoutes.size,
      },
      healthy ? 200 : 503,
    );
  });

  app.on(providerApiRoutes.metrics.method, providerApiRoutes.metrics.pattern, async (c) => {
    ctx.metrics.chainCursor.set(ctx.state.data.cursor);
    return c.text(await ctx.metrics.registry.metrics(), 200, { "content-type": ctx.metrics.registry.contentType });
  });

  return app;
}
