import { describe, expect, it } from "vitest";
import { ManifestError, ProviderApiError } from "../errors.js";
import { KeystoreError } from "../keystore.js";
import { parsePodSpec } from "../pod-spec.js";
import { DecryptionError, RequestAuthError } from "../protocol/index.js";
import { UsageError } from "./args.js";
import { CliError, describeError, exitCodeOf, redact } from "./errors.js";

const KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

describe("cli: errors", () => {
  it("redacts a secret in any case, with or without 0x", () => {
    const bare = KEY.slice(2);
    const text = `a ${KEY} b ${bare.toUpperCase()} c 0X${bare}`;
    expect(redact(text, [KEY])).toBe("a [redacted] b [redacted] c [redacted]");
    expect(redact("nothing here", [KEY])).toBe("nothing here");
  });

  it("maps usage errors to exit code 2 and everything else to 1 (or the CliError's code)", () => {
    expect(exitCodeOf(new UsageError("x"))).toBe(2);
    expect(exitCodeOf(new CliError("x"))).toBe(1);
    expect(exitCodeOf(new CliError("x", 130))).toBe(130);
    expect(exitCodeOf(new Error("x"))).toBe(1);
  });

  it("prints pod.yaml problems one a line with file:line:column", () => {
    let error: unknown;
    try {
      parsePodSpec(
        "version: 1\ncontainers:\n  - name: web\n    image: nginx\n    resources: {cpuMillis: 0, memoryMiB: 64}\n",
        "app/pod.yaml",
      );
    } catch (e) {
      error = e;
    }
    const lines = describeError(error).split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^app\/pod\.yaml:4:5 containers\[0\]\.image: /);
    expect(lines[1]).toMatch(/^app\/pod\.yaml:5:17 containers\[0\]\.resources\.cpuMillis: /);
  });

  it("lists a provider's field issues under its message", () => {
    const error = new ProviderApiError(
      400,
      "bad manifest",
      [{ path: "containers[0]", message: "nope" }],
      "PUT",
      "http://p/x",
    );
    expect(describeError(error)).toBe("provider API PUT http://p/x: 400 bad manifest\n  containers[0]: nope");
  });

  it("prints the errors that share the PodnetError base as before it: their message, exit code 1", () => {
    const manifest = new ManifestError([
      { path: "version", message: "bad" },
      { path: "containers", message: "empty" },
    ]);
    expect(describeError(manifest)).toBe("version: bad\ncontainers: empty");
    expect(describeError(new KeystoreError("keystore: wrong password (MAC mismatch)"))).toBe(
      "keystore: wrong password (MAC mismatch)",
    );
    expect(describeError(new DecryptionError("blob: bad magic"))).toBe("blob: bad magic");
    expect(describeError(new RequestAuthError("x-podnet-nonce: missing"))).toBe("x-podnet-nonce: missing");
    expect(describeError(new UsageError("--x: unknown option"))).toBe("--x: unknown option");
    for (const error of [manifest, new KeystoreError("k"), new DecryptionError("d"), new RequestAuthError("r")]) {
      expect(exitCodeOf(error), error.name).toBe(1);
    }
  });
});
