import type { Context } from "hono";
import { HttpError } from "./http-error.js";

/** Manifest uploads are references and wrapped keys: 256 KiB is generous. */
export const MAX_JSON_BODY = 256 * 1024;

/** A quote request is a spec hash, three numbers and an address. */
export const MAX_QUOTE_BODY = 16 * 1024;

/** Requests whose body a route read to its end. */
const readToEnd = new WeakSet<Request>();

/** Marks the request's body as read to its end (the blob route, which streams it into the store itself). */
export function markBodyRead(c: Context) {
  readToEnd.add(c.req.raw);
}

/**
 * Whether the request's connection must close after the answer because of a body nobody will read: a GET or HEAD
 * that came with one (the app never sees it; Node would read all of it, however long, to keep the connection).
 * Other methods are not closed at once: after an answer that left their body unread (a refusal before or while
 * reading it), @hono/node-server drains what is left for at most 64 MiB or 500 ms, without keeping it, and then
 * closes. That pause matters: a connection closed while the client is still sending is reset, and the reset can
 * reach the client before it has read the answer (the 401 or 413 that says why).
 */
export function closeAfterAnswer(c: Context): boolean {
  if (c.req.method !== "GET" && c.req.method !== "HEAD") return false;
  const length = c.req.header("content-length");
  return c.req.header("transfer-encoding") !== undefined || (length !== undefined && length !== "0");
}

/**
 * The request body as text, read as it streams in and cut off with 413 as soon as it passes `limit` bytes: a declared
 * length over the limit is refused before reading anything, a chunked body without one after `limit` bytes, so no
 * body costs more than `limit` bytes of memory.
 */
export async function readText(c: Context, limit = MAX_JSON_BODY): Promise<string> {
  const declared = c.req.header("content-length");
  if (declared !== undefined && Number(declared) > limit) {
    throw new HttpError(413, `body: ${declared} bytes is over the limit of ${limit}`);
  }
  const body = c.req.raw.body;
  if (!body) {
    markBodyRead(c);
    return "";
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > limit) {
      // Stops pulling: what is left is drained (bounded) and the connection closed after the answer, see closeAfterAnswer.
      void reader.cancel().catch(() => undefined);
      throw new HttpError(413, `body: over the limit of ${limit} bytes`);
    }
    chunks.push(value);
  }
  markBodyRead(c);
  return Buffer.concat(chunks, bytes).toString("utf8");
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
export async function readJson(c: Context, limit = MAX_JSON_BODY): Promise<unknown> {
  return parseJson(await readText(c, limit));
}
