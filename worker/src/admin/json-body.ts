import type { Context } from "hono";
import { HttpError } from "../api/http-error.js";

/** The request's JSON object body, or 400 `body: must be a JSON object`. */
export async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new HttpError(400, "body: must be a JSON object");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, "body: must be a JSON object");
  }
  return body as Record<string, unknown>;
}
