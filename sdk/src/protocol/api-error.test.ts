import { describe, expect, it } from "vitest";
import { apiErrorBody, parseApiErrorBody } from "./api-error.js";

describe("apiErrorBody", () => {
  it("nests status and message under error, and leaves issues out when there are none", () => {
    expect(apiErrorBody(400, "cpu: is required")).toEqual({ error: { status: 400, message: "cpu: is required" } });
    expect(JSON.stringify(apiErrorBody(404, "lease 7: not found"))).toBe(
      '{"error":{"status":404,"message":"lease 7: not found"}}',
    );
    expect("issues" in apiErrorBody(500, "internal error").error).toBe(false);
    const issues = [{ path: "containers[0].name", message: "is required" }];
    expect(apiErrorBody(400, "containers[0].name: is required", issues)).toEqual({
      error: { status: 400, message: "containers[0].name: is required", issues },
    });
  });
});

describe("parseApiErrorBody", () => {
  it("reads back what apiErrorBody builds", () => {
    const issues = [{ path: "body", message: "must be JSON" }];
    const body = JSON.parse(JSON.stringify(apiErrorBody(400, "body: must be JSON", issues)));
    expect(parseApiErrorBody(body)).toEqual({ status: 400, message: "body: must be JSON", issues });
    expect(parseApiErrorBody(apiErrorBody(503, "not indexed yet"))).toEqual({
      status: 503,
      message: "not indexed yet",
    });
  });

  it("is undefined for anything else, so callers fall back to the raw answer", () => {
    for (const json of [
      undefined,
      null,
      "error",
      { error: "cpu: is required" },
      { error: { message: "no status" } },
      { error: { status: 200, message: "not an error status" } },
      { error: { status: 400, message: "bad issues", issues: [{ path: 1 }] } },
    ]) {
      expect(parseApiErrorBody(json), JSON.stringify(json)).toBeUndefined();
    }
  });
});
