import type { Context } from "hono";
import { HttpError } from "./http-error.js";

/** Manifest uploads are references and wrapped keys: 256 KiB is generous. */
export const MAX_JSON_BODY = 256 * 1024;

/** The request body as text; 413 past {@link MAX_JSON_BODY}, by the declared length before reading any of it. */
export async function readText(c: Context): Promise<string> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_JSON_BODY)
    throw new HttpError(413, `body: ${declared} bytes is over the limit of ${MAX_JSON_BODY}`);
  const text = await c.req.text();
  if (Buffer.byteLength(text) > MAX_JSON_BODY)
    throw new HttpError(413, `body: over the limit of ${MAX_JSON_BODY} bytes`);
  return text;
}

/** Parses a body read with {@link readText}; 400 when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "body: not valid JSON");
  }
}

/** {@link readText} then {@link parseJson}, for bodies the request signature does not cover. */
export async function readJson(c: Context): Promise<unknown> {
  return parseJson(await readText(c));
}
