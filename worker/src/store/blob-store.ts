import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { ContentHasher, isContentId } from "@podnet/sdk/protocol";
import { fetchPublic } from "../net/public-fetch.js";

/** A blob upload or fetch that was refused; `status` is the HTTP status to answer with. */
export class BlobError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 413 | 502,
  ) {
    super(message);
    this.name = "BlobError";
  }
}

/**
 * Encrypted blobs (image tarballs, secret files) by content id: `blobs/<cid>`. A blob is written to a temporary
 * file while its sha2-256 is computed and only renamed into place when it matches its id, so a store never holds
 * a blob under the wrong name. Blobs are ciphertext: the store never sees a content key.
 */
export class BlobStore {
  private readonly dir: string;
  private readonly tmp: string;

  constructor(
    dataDir: string,
    private readonly maxBytes: number,
    /** Source hosts fetched from although they are not public (`privateSourceHosts`: a local marketplace). */
    private readonly privateSourceHosts: readonly string[] = [],
  ) {
    this.dir = join(dataDir, "blobs");
    this.tmp = join(this.dir, "tmp");
    mkdirSync(this.tmp, { recursive: true, mode: 0o700 });
  }

  path(cid: string) {
    return join(this.dir, cid);
  }

  has(cid: string) {
    return existsSync(this.path(cid));
  }

  size(cid: string) {
    return statSync(this.path(cid)).size;
  }

  read(cid: string) {
    if (!this.has(cid)) throw new BlobError(`blob ${cid}: not stored here`, 404);
    return createReadStream(this.path(cid));
  }

  /** The stored blob's size, or undefined when it is not (or no longer) stored. */
  private storedSize(cid: string): number | undefined {
    try {
      return statSync(this.path(cid)).size;
    } catch {
      return undefined;
    }
  }

  /** Content ids of every stored blob with its size and last change (ms). */
  list(): { cid: string; bytes: number; modifiedAt: number }[] {
    return readdirSync(this.dir)
      .filter((name) => isContentId(name))
      .map((cid) => {
        const info = statSync(this.path(cid));
        return { cid, bytes: info.size, modifiedAt: info.mtimeMs };
      });
  }

  /** Deletes a stored blob (nothing when it is gone already). */
  remove(cid: string) {
    rmSync(this.path(cid), { force: true });
  }

  /**
   * Stores `body` as `cid`; refuses it when its hash differs or it is larger than the limit (`maxBytes` when given
   * and smaller than the store's own).
   */
  async write(
    cid: string,
    body: AsyncIterable<Uint8Array>,
    limit: number = this.maxBytes,
  ): Promise<{ created: boolean; bytes: number }> {
    const stored = this.storedSize(cid);
    if (stored !== undefined) {
      // Content addressing makes the stored copy identical. The body is still read to the end (and dropped) so the
      // client's upload completes instead of being cut off mid-stream; clients should HEAD /v1/blobs/<cid> first.
      // Only as far as the stored size, though: a longer body cannot be this blob. The size is taken first: blob
      // collection may delete the file while the body streams in.
      let bytes = 0;
      for await (const chunk of body) {
        bytes += chunk.length;
        if (bytes > stored)
          throw new BlobError(`blob ${cid}: stored here with ${stored} bytes, the body is longer`, 413);
      }
      return { created: false, bytes: stored };
    }
    const tmpFile = join(this.tmp, `${cid}.${process.pid}.${Math.random().toString(36).slice(2)}`);
    const hasher = new ContentHasher();
    let bytes = 0;
    const maxBytes = Math.min(limit, this.maxBytes);
    // Opened here, not by the stream: a stream opens its file asynchronously, so a body refused on its first chunk
    // would create the file only after the cleanup below had run, leaving it behind in tmp/.
    const fd = openSync(tmpFile, "w", 0o600);
    try {
      await pipeline(
        body,
        async function* (source: AsyncIterable<Uint8Array>) {
          for await (const chunk of source) {
            bytes += chunk.length;
            if (bytes > maxBytes) throw new BlobError(`blob ${cid}: larger than the limit of ${maxBytes} bytes`, 413);
            hasher.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(tmpFile, { fd }),
      );
      const actual = hasher.digest();
      if (actual !== cid) throw new BlobError(`blob ${cid}: content hashes to ${actual}`, 400);
      renameSync(tmpFile, this.path(cid));
      return { created: true, bytes };
    } finally {
      rmSync(tmpFile, { force: true });
    }
  }

  /**
   * Fetches a missing blob from the first source that serves the right bytes (another provider's blob endpoint, an
   * IPFS gateway). Every source is checked by hash, so an untrusted source can waste time but not inject content;
   * only public addresses are contacted (no requests into the provider's network), and a failure names a source by
   * its position, never by its URL, which may carry credentials. `signal` stops the fetch (the caller's deadline).
   */
  async fetch(cid: string, sources: string[], signal?: AbortSignal): Promise<void> {
    if (this.has(cid)) return;
    const failures: string[] = [];
    for (const [index, source] of sources.entries()) {
      if (signal?.aborted) break;
      try {
        const deadline = AbortSignal.timeout(10 * 60_000);
        const response = await fetchPublic(
          source,
          signal ? AbortSignal.any([signal, deadline]) : deadline,
          this.privateSourceHosts,
        );
        await this.write(cid, response);
        return;
      } catch (error) {
        const reason =
          error instanceof BlobError ? error.message.replace(`blob ${cid}: `, "") : (error as Error).message;
        failures.push(`source ${index + 1}: ${reason}`);
      }
    }
    throw new BlobError(
      `blob ${cid}: not stored here and no source served it${failures.length ? ` (${failures.join("; ")})` : ""}`,
      502,
    );
  }
}
