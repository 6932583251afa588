import { parseApiErrorBody } from "@podnet/sdk/protocol";
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import { errorResponse, noSuchRoute } from "./errors.js";
import { parseAddressParam, parseSearchQuery } from "./validate.js";

/** The indexer's routes in miniature, with the error handling of src/api/index.ts, mounted as Ponder mounts them. */
function server() {
  const app = new Hono();
  app.get("/search", (c) => c.json({ query: String(parseSearchQuery(new URL(c.req.url).searchParams).limit) }));
  app.get("/providers/:address/eligible-orders", (c) => c.text(parseAddressParam(c.req.param("address"))));
  app.get("/boom", () => {
    throw new Error("database gone");
  });
  app.all("*", noSuchRoute);
  app.onError(errorResponse);
  return new Hono().get("/health", (c) => c.text("")).route("/", app);
}

async function answer(path: string) {
  const response = await server().request(path);
  return { status: response.status, body: await response.json() };
}

describe("indexer errors", () => {
  it("answers a bad query with the protocol's error body naming the field", async () => {
    expect(await answer("/search?cpu=500")).toEqual({
      status: 400,
      body: { error: { status: 400, message: "memory: is required" } },
    });
    const { status, body } = await answer("/providers/0x1234/eligible-orders");
    expect(status).toBe(400);
    expect(parseApiErrorBody(body)?.message).toBe('address: must be a 0x-prefixed 20-byte address, got "0x1234"');
  });

  it("answers an unknown route with a 404 body, and leaves the host server's routes alone", async () => {
    expect(await answer("/nope?x=1")).toEqual({
      status: 404,
      body: { error: { status: 404, message: "GET /nope: no such route" } },
    });
    expect((await server().request("/health")).status).toBe(200);
    expect((await answer("/search?cpu=1&memory=1")).status).toBe(200);
  });

  it("hides an unexpected error behind a 500", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    expect(await answer("/boom")).toEqual({ status: 500, body: { error: { status: 500, message: "internal error" } } });
    expect(logged).toHaveBeenCalledOnce();
    logged.mockRestore();
  });
});
