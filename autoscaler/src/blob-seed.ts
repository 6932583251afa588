import { createReadStream, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BlobCache, type BlobCacheEntry } from "@podnet/sdk";
import { isContentId } from "@podnet/sdk/protocol";

/**
 * Seeds the autoscaler's writable blob cache (`<dataDir>/blobs`) from a read-only one (config `blobSeedDir`): in the
 * sidecar the content keys arrive as a secret volume (at most 1 MiB a file, read-only), while the SDK's deployPod
 * needs a cache it can write and the ciphertext of every blob it hands out. So, per entry of the seed's `index.json`
 * (the content keys are sealed to the controller's own key by `podnet app share-keys`, copied as they are, never
 * opened here):
 * - a blob the cache already holds is kept (an earlier start's entry, with the sources it learnt since);
 * - a blob whose ciphertext lies beside the index is copied;
 * - otherwise its ciphertext is fetched from the URLs its entry lists (a provider's `/v1/blobs/<cid>`, any static
 *   host: ciphertext is safe to publish), at most `size` bytes, and kept only when it hashes to its content id.
 * A blob none of that yields is reported as missing: deploying it fails later naming it (BlobNotFoundError).
 */

export interface BlobSeedResult {
  kept: string[];
  copied: string[];
  fetched: string[];
  /** cid → why no ciphertext was found. */
  missing: Record<string, string>;
}

export interface SeedBlobCacheOptions {
  /** The read-only seed: `index.json` and optionally `<cid>` files. */
  from: string;
  /** The writable cache directory. */
  to: string;
  /** Per-URL timeout of a fetch; default 60 s. */
  fetchTimeoutMs?: number;
}

export class BlobSeedError extends Error {
  override name = "BlobSeedError";
}

/** Reads the seed's index; a missing or malformed one is an error naming the file (a misdelivered secret). */
function readSeedIndex(from: string): BlobCacheEntry[] {
  const file = join(from, "index.json");
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "not JSON";
    throw new BlobSeedError(`blobSeedDir: ${file}: ${reason}`);
  }
  const blobs = (parsed as { version?: unknown; blobs?: unknown }).blobs;
  if ((parsed as { version?: unknown }).version !== 1 || typeof blobs !== "object" || blobs === null) {
    throw new BlobSeedError(`blobSeedDir: ${file}: not a version 1 blob cache index`);
  }
  return Object.entries(blobs as Record<string, BlobCacheEntry>).map(([cid, entry]) => {
    const valid =
      isContentId(cid) &&
      entry?.cid === cid &&
      typeof entry.keyForSelf === "string" &&
      Number.isSafeInteger(entry.size) &&
      entry.size >= 0 &&
      Array.isArray(entry.sources) &&
      entry.sources.every((s) => typeof s === "string");
    if (!valid) throw new BlobSeedError(`blobSeedDir: ${file}: entry ${JSON.stringify(cid)} is malformed`);
    return entry;
  });
}

/** At most `limit` bytes of `body`, else an error: a source cannot fill the disk with more than the entry says. */
async function* capped(body: AsyncIterable<Uint8Array>, limit: number): AsyncIterable<Uint8Array> {
  let seen = 0;
  for await (const chunk of body) {
    seen += chunk.length;
    if (seen > limit) throw new Error(`more than the ${limit} bytes the index lists`);
    yield chunk;
  }
}

/** Removes ciphertext just written under a content id no entry names (the same bytes of a known blob stay). */
function dropStray(cache: BlobCache, cid: string): void {
  if (cache.get(cid) === undefined) cache.remove(cid);
}

async function fetchInto(cache: BlobCache, entry: BlobCacheEntry, timeoutMs: number): Promise<string | undefined> {
  const reasons: string[] = [];
  for (const url of entry.sources) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok || !response.body) {
        reasons.push(`${url}: HTTP ${response.status}`);
        continue;
      }
      const written = await cache.write(capped(response.body as AsyncIterable<Uint8Array>, entry.size));
      if (written.cid === entry.cid) return undefined;
      // Not the blob asked for (a wrong or hostile source): never kept under any name.
      dropStray(cache, written.cid);
      reasons.push(`${url}: hashes to ${written.cid}`);
    } catch (error) {
      reasons.push(`${url}: ${(error as Error).message}`);
    }
  }
  return reasons.length === 0 ? "no source listed" : reasons.join("; ");
}

export async function seedBlobCache({
  from,
  to,
  fetchTimeoutMs = 60_000,
}: SeedBlobCacheOptions): Promise<BlobSeedResult> {
  const entries = readSeedIndex(from);
  const cache = new BlobCache(to);
  const result: BlobSeedResult = { kept: [], copied: [], fetched: [], missing: {} };
  for (const entry of entries) {
    if (cache.has(entry.cid)) {
      result.kept.push(entry.cid);
      continue;
    }
    const beside = join(from, entry.cid);
    if (existsSync(beside)) {
      const written = await cache.write(createReadStream(beside));
      if (written.cid !== entry.cid) {
        dropStray(cache, written.cid);
        throw new BlobSeedError(`blobSeedDir: ${beside}: hashes to ${written.cid}, not its name`);
      }
      cache.put(entry);
      result.copied.push(entry.cid);
      continue;
    }
    const failed = await fetchInto(cache, entry, fetchTimeoutMs);
    if (failed === undefined) {
      cache.put(entry);
      result.fetched.push(entry.cid);
    } else result.missing[entry.cid] = failed;
  }
  return result;
}
