import type { Hono } from "hono";
import type { AdminDeps } from "./deps.js";
import type { AdminGuard } from "./guard.js";

/** GET /admin/v1/addons [read]: the addons the worker runs, whether each is up, its restarts and last exit. */
export function registerAddonRoutes(app: Hono, deps: AdminDeps, guard: AdminGuard) {
  app.get("/admin/v1/addons", guard.require("read"), (c) => c.json({ addons: deps.addons?.list() ?? [] }));
}
