import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { type Address, getAddress, isAddress } from "viem";
import type { AppStatus } from "../status-wire.js";

/** One network-mode app as this node sees it (`GET /v1/node`). */
export interface NodeAppView {
  vault: Address;
  /** The node the assignment names; null when no node is live. */
  servedBy: Address | null;
  /** Whether this node runs the app's reconciler now. */
  runningHere: boolean;
  /** Why this node cannot serve an app assigned to it (no bundle), or the runner's own problems. */
  problems: string[];
}

/** `GET /v1/node`. */
export interface NodeOverview {
  node: Address;
  chainId: number;
  /** The live nodes at the last tick. */
  live: Address[];
  apps: NodeAppView[];
  /** ISO time of the last tick that read the chain; null before the first. */
  lastTick: string | null;
}

/** What the API reads from the running node. */
export interface NodeApiSource {
  overview(): NodeOverview;
  /** The app's status when this node runs it. */
  appStatus(vault: Address): AppStatus | undefined;
  metrics(): Promise<{ text: string; type: string }>;
}

/**
 * The node's HTTP API, read-only: `GET /v1/node` (the live nodes and every network app with who serves it),
 * `GET /v1/apps/:vault/status` (the app's status, the standalone autoscaler's `/status` format, when this node runs
 * it; else 404 naming the node that should) and `GET /metrics`. The Hono app is returned so more routes (the app
 * handover, DNS data) can be mounted on it with `app.route()`.
 */
export function nodeApi(source: NodeApiSource): Hono {
  const app = new Hono();
  app.get("/v1/node", (c) => c.json(source.overview()));
  app.get("/v1/apps/:vault/status", (c) => {
    const raw = c.req.param("vault");
    if (!isAddress(raw, { strict: false })) {
      throw new HTTPException(400, { message: `vault: "${raw.slice(0, 64)}" is not a 0x address` });
    }
    const vault = getAddress(raw);
    const status = source.appStatus(vault);
    if (status) return c.json(status);
    const known = source.overview().apps.find((a) => a.vault === vault);
    return c.json(
      {
        error: {
          code: "NOT_SERVED_HERE",
          message: known ? `${vault} is not run by this node` : `${vault} is not a network-mode app of this network`,
        },
        servedBy: known?.servedBy ?? null,
      },
      404,
    );
  });
  app.get("/metrics", async (c) => {
    const { text, type } = await source.metrics();
    return c.body(text, 200, { "content-type": type });
  });
  app.notFound((c) =>
    c.json({ error: { code: "NOT_FOUND", message: `${c.req.method} ${c.req.path}: no such route` } }, 404),
  );
  app.onError((error, c) => {
    if (error instanceof HTTPException) {
      return c.json({ error: { code: "BAD_REQUEST", message: error.message } }, error.status);
    }
    return c.json({ error: { code: "INTERNAL", message: "internal error" } }, 500);
  });
  return app;
}
