// How the indexer's HTTP API refuses: every error, thrown anywhere as an HTTPException (validate.ts, the routes),
// becomes the protocol's error body, the same shape as the provider API's, so the SDK reads both with one parser.
import { apiErrorBody } from "@podnet/sdk/protocol";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";

/** `app.onError`: an HTTPException answers with its status and message; anything else is logged and a 500. */
export function errorResponse(error: Error, c: Context): Response {
  if (error instanceof HTTPException) return c.json(apiErrorBody(error.status, error.message), error.status);
  console.error(error);
  return c.json(apiErrorBody(500, "internal error"), 500);
}

/**
 * The last route: a path nothing else answered. A catch-all route rather than `app.notFound`, because Ponder mounts
 * this app inside its own server, where a sub-app's notFound handler is never called.
 */
export function noSuchRoute(c: Context): never {
  throw new HTTPException(404, { message: `${c.req.method} ${c.req.path}: no such route` });
}
