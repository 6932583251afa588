import { describe, expect, it } from "vitest";
import { HttpError } from "./http-error.js";

describe("HttpError", () => {
  it("is an Error with a status and serialises as { error: { status, message } }", () => {
    const error = new HttpError(404, "lease 7: not found");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("HttpError");
    expect(error.status).toBe(404);
    expect(error.message).toBe("lease 7: not found");
    expect(error.issues).toBeUndefined();
    expect(error.toJSON()).toEqual({ error: { status: 404, message: "lease 7: not found" } });
    expect(JSON.parse(JSON.stringify(error))).toEqual({ error: { status: 404, message: "lease 7: not found" } });
    expect("issues" in error.toJSON().error).toBe(false);
  });

  it("invalid() is a 400 whose message joins every issue and whose body lists them", () => {
    const issues = [
      { path: "containers[0].resources.cpuMillis", message: "Too small: expected number to be >=1" },
      { path: "expose.http[1].host", message: "duplicate host a.example" },
    ];
    const error = HttpError.invalid(issues);
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      "containers[0].resources.cpuMillis: Too small: expected number to be >=1; expose.http[1].host: duplicate host a.example",
    );
    expect(error.toJSON()).toEqual({ error: { status: 400, message: error.message, issues } });
  });

  it("invalid() with a single issue has no separator", () => {
    expect(HttpError.invalid([{ path: "body", message: "must be JSON" }]).message).toBe("body: must be JSON");
  });
});
