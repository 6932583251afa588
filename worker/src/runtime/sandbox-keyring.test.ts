import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KEYRING_MIN_MAXKEYS, kernelMaxKeys, keyringWarning } from "./sandbox.js";

describe("keyringWarning", () => {
  it("warns a user-namespaced host whose key quota caps its pods, naming the limit and the fix", () => {
    const warning = keyringWarning(true, 200);
    expect(warning).toMatch(/^kernel\.keys\.maxkeys is 200: .* at most about 200 containers/);
    expect(warning).toContain("sysctl -w kernel.keys.maxkeys=20000");
  });

  it("says nothing without user namespaces, with a raised quota, or when /proc does not tell", () => {
    expect(keyringWarning(false, 200)).toBeUndefined();
    expect(keyringWarning(true, KEYRING_MIN_MAXKEYS)).toBeUndefined();
    expect(keyringWarning(true, undefined)).toBeUndefined();
  });

  it("reads kernel.keys.maxkeys, and nothing from a missing or garbled file", () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-maxkeys-"));
    writeFileSync(join(dir, "maxkeys"), "20000\n");
    writeFileSync(join(dir, "garbled"), "lots\n");
    expect(kernelMaxKeys(join(dir, "maxkeys"))).toBe(20_000);
    expect(kernelMaxKeys(join(dir, "garbled"))).toBeUndefined();
    expect(kernelMaxKeys(join(dir, "missing"))).toBeUndefined();
  });
});
