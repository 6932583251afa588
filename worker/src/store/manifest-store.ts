import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { ManifestUpload, PodManifest } from "@podnet/sdk/protocol";
import type { Hex } from "viem";
import { writeFileAtomic } from "./atomic-file.js";

/** A manifest the publisher uploaded, with this provider's wrapped content keys and blob sources. */
export interface StoredManifest {
  leaseId: string;
  specHash: Hex;
  manifest: PodManifest;
  keys: ManifestUpload["keys"];
  sources: ManifestUpload["sources"];
  receivedAt: number;
}

/**
 * Manifests on disk, one file per lease and spec: `manifests/<leaseId>/<specHash>.json`. They hold references
 * (content ids, wrapped keys), never decrypted secrets.
 */
export class ManifestStore {
  private readonly dir: string;
  private readonly cache = new Map<string, StoredManifest[]>();

  constructor(dataDir: string) {
    this.dir = join(dataDir, "manifests");
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  put(entry: StoredManifest) {
    const leaseDir = join(this.dir, entry.leaseId);
    mkdirSync(leaseDir, { recursive: true, mode: 0o700 });
    writeFileAtomic(join(leaseDir, `${entry.specHash}.json`), JSON.stringify(entry));
    this.cache.delete(entry.leaseId);
  }

  /** Every stored manifest of a lease, newest first. */
  list(leaseId: string): StoredManifest[] {
    const cached = this.cache.get(leaseId);
    if (cached) return cached;
    const leaseDir = join(this.dir, leaseId);
    const entries = existsSync(leaseDir)
      ? readdirSync(leaseDir)
          .filter((name) => name.endsWith(".json"))
          .map((name) => JSON.parse(readFileSync(join(leaseDir, name), "utf8")) as StoredManifest)
          .sort((a, b) => b.receivedAt - a.receivedAt)
      : [];
    this.cache.set(leaseId, entries);
    return entries;
  }

  get(leaseId: string, specHash: Hex): StoredManifest | undefined {
    return this.list(leaseId).find((m) => m.specHash.toLowerCase() === specHash.toLowerCase());
  }

  /** Drops the manifests of other specs once the lease runs `keep`. */
  prune(leaseId: string, keep: Hex) {
    for (const entry of this.list(leaseId)) {
      if (entry.specHash.toLowerCase() !== keep.toLowerCase()) {
        rmSync(join(this.dir, leaseId, `${entry.specHash}.json`), { force: true });
      }
    }
    this.cache.delete(leaseId);
  }

  remove(leaseId: string) {
    rmSync(join(this.dir, leaseId), { recursive: true, force: true });
    this.cache.delete(leaseId);
  }
}
