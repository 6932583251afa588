import { Hono } from "hono";
import type { Metrics } from "./metrics.js";
import type { AppStatus } from "./status-wire.js";

/**
 * The autoscaler's HTTP API: `GET /status`, the app's instances and their health (what [App DNS] reads to route to
 * the healthy ones), and `GET /metrics` for Prometheus. Read-only: nothing here changes what the autoscaler does.
 */
export function statusApi(status: () => AppStatus, metrics: Metrics): Hono {
  const app = new Hono();
  app.get("/status", (c) => c.json(status()));
  app.get("/metrics", async (c) =>
    c.body(await metrics.registry.metrics(), 200, { "content-type": metrics.registry.contentType }),
  );
  app.notFound((c) =>
    c.json({ error: { code: "NOT_FOUND", message: `${c.req.method} ${c.req.path}: no such route` } }, 404),
  );
  return app;
}
