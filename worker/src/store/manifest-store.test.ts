import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseManifest } from "@podnet/sdk/protocol";
import type { Hex } from "viem";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManifestStore, type StoredManifest } from "./manifest-store.js";

const manifest = parseManifest({
  version: 1,
  containers: [{ name: "web", image: `nginx@sha256:${"a".repeat(64)}`, resources: { cpuMillis: 100, memoryMiB: 64 } }],
});

const spec = (byte: string) => `0x${byte.repeat(32)}` as Hex;

function entry(leaseId: string, specHash: Hex, receivedAt: number): StoredManifest {
  return { leaseId, specHash, manifest, keys: {}, sources: {}, receivedAt };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "podnet-manifests-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("ManifestStore", () => {
  it("stores manifests per lease and lists them newest first", () => {
    const store = new ManifestStore(dir);
    store.put(entry("1", spec("aa"), 100));
    store.put(entry("1", spec("cc"), 300));
    store.put(entry("1", spec("bb"), 200));
    store.put(entry("2", spec("dd"), 50));
    expect(store.list("1").map((m) => m.receivedAt)).toEqual([300, 200, 100]);
    expect(store.list("2").map((m) => m.specHash)).toEqual([spec("dd")]);
    expect(store.list("3")).toEqual([]);
    expect(readdirSync(join(dir, "manifests", "1")).sort()).toEqual(
      [`${spec("aa")}.json`, `${spec("bb")}.json`, `${spec("cc")}.json`].sort(),
    );
  });

  it("sees a put made after a list (no stale cache)", () => {
    const store = new ManifestStore(dir);
    expect(store.list("1")).toEqual([]);
    store.put(entry("1", spec("aa"), 100));
    expect(store.list("1")).toHaveLength(1);
    store.put(entry("1", spec("bb"), 200));
    expect(store.list("1")[0]?.specHash).toBe(spec("bb"));
  });

  it("reads back everything it stored, also from a new store on the same directory", () => {
    const stored: StoredManifest = {
      ...entry("7", spec("ab"), 1234),
      keys: { bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku: "d3JhcHBlZA" },
      sources: { bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku: ["http://127.0.0.1:1/blob"] },
    };
    new ManifestStore(dir).put(stored);
    const reopened = new ManifestStore(dir);
    expect(reopened.get("7", spec("ab"))).toEqual(stored);
  });

  it("replaces a manifest put again under the same spec", () => {
    const store = new ManifestStore(dir);
    store.put(entry("1", spec("aa"), 100));
    store.put(entry("1", spec("aa"), 500));
    expect(store.list("1").map((m) => m.receivedAt)).toEqual([500]);
  });

  it("gets a manifest by spec hash in any case", () => {
    const store = new ManifestStore(dir);
    const upper = `0x${"AB".repeat(32)}` as Hex;
    store.put(entry("1", upper, 100));
    store.put(entry("1", spec("cd"), 200));
    expect(store.get("1", spec("ab"))?.receivedAt).toBe(100);
    expect(store.get("1", upper)?.receivedAt).toBe(100);
    expect(store.get("1", spec("ef"))).toBeUndefined();
    expect(store.get("2", spec("ab"))).toBeUndefined();
  });

  it("prunes every other spec of a lease, keeping the one it runs", () => {
    const store = new ManifestStore(dir);
    store.put(entry("1", spec("aa"), 100));
    store.put(entry("1", spec("bb"), 200));
    store.put(entry("1", spec("cc"), 300));
    store.put(entry("2", spec("aa"), 100));
    store.prune("1", `0x${"BB".repeat(32)}`);
    expect(store.list("1").map((m) => m.specHash)).toEqual([spec("bb")]);
    expect(readdirSync(join(dir, "manifests", "1"))).toEqual([`${spec("bb")}.json`]);
    expect(store.list("2")).toHaveLength(1);
    // A fresh store sees the same.
    expect(new ManifestStore(dir).list("1").map((m) => m.specHash)).toEqual([spec("bb")]);
  });

  it("removes all manifests of a lease", () => {
    const store = new ManifestStore(dir);
    store.put(entry("1", spec("aa"), 100));
    store.put(entry("1", spec("bb"), 200));
    store.put(entry("2", spec("cc"), 300));
    expect(store.list("1")).toHaveLength(2);
    store.remove("1");
    expect(store.list("1")).toEqual([]);
    expect(store.get("1", spec("aa"))).toBeUndefined();
    expect(existsSync(join(dir, "manifests", "1"))).toBe(false);
    expect(store.list("2")).toHaveLength(1);
    store.remove("1"); // twice is harmless
    store.remove("never");
  });

  it("leaves no temporary files next to the manifests", () => {
    const store = new ManifestStore(dir);
    for (let i = 0; i < 5; i++) store.put(entry("1", spec("aa"), i));
    expect(readdirSync(join(dir, "manifests", "1"))).toEqual([`${spec("aa")}.json`]);
  });
});
