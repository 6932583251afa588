import { BaseError } from "viem";
import { describe, expect, it } from "vitest";
import { PodnetError } from "./errors.js";

describe("PodnetError", () => {
  it("keeps the message as it is: message is shortMessage, without details or docs", () => {
    const error = new PodnetError("NOT_FOUND", "lease 7: not found", {
      details: "getLease returned status 0",
      docsPath: "docs/sdk.md#errors",
      metaMessages: ["asked at block 12"],
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("PodnetError");
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toBe("lease 7: not found");
    expect(error.shortMessage).toBe("lease 7: not found");
    expect(error.details).toBe("getLease returned status 0");
    expect(error.docsPath).toBe("docs/sdk.md#errors");
    expect(error.metaMessages).toEqual(["asked at block 12"]);
  });

  it("has no cause, details or docs unless given", () => {
    const error = new PodnetError("TIMEOUT", "timed out");
    expect("cause" in error).toBe(false);
    expect(error.details).toBe("");
    expect(error.docsPath).toBeUndefined();
    expect(error.metaMessages).toBeUndefined();
  });

  it("takes details from its cause: a plain error's message, a Podnet or viem error's own details", () => {
    const plain = new PodnetError("INDEXER", "indexer: unreachable", { cause: new TypeError("fetch failed") });
    expect(plain.cause).toBeInstanceOf(TypeError);
    expect(plain.details).toBe("fetch failed");

    const nested = new PodnetError("CONTRACT", "outer", { cause: plain });
    expect(nested.details).toBe("fetch failed");
    // A Podnet cause without details of its own: its one-line message.
    expect(new PodnetError("CONTRACT", "outer", { cause: new PodnetError("TIMEOUT", "inner") }).details).toBe("inner");

    const viem = new BaseError("An RPC call failed.", { details: "connection refused" });
    expect(new PodnetError("CONTRACT", "outer", { cause: viem }).details).toBe("connection refused");
    // viem's full message runs to several lines (docs, version); its short message is the one line.
    expect(new PodnetError("CONTRACT", "outer", { cause: new BaseError("Short.") }).details).toBe("Short.");

    expect(new PodnetError("CLI", "outer", { cause: "a string" }).details).toBe("a string");
    expect(new PodnetError("CLI", "outer", { cause: plain, details: "given" }).details).toBe("given");
  });

  it("walks the cause chain like viem's BaseError", () => {
    const root = new RangeError("root");
    const middle = new BaseError("middle", { cause: root });
    const top = new PodnetError("CONTRACT", "top", { cause: middle });
    expect(top.walk()).toBe(root);
    expect(top.walk((e) => e instanceof BaseError)).toBe(middle);
    expect(top.walk((e) => e instanceof PodnetError)).toBe(top);
    expect(top.walk((e) => e instanceof SyntaxError)).toBeNull();
    expect(new PodnetError("TIMEOUT", "alone").walk()).toBeInstanceOf(PodnetError);
  });
});
