import {
  chmodSync,
  createReadStream,
  existsSync,
  mkdirSync,
  type ReadStream,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { type Hex, keccak256 } from "viem";
import { BlobCacheError } from "./errors.js";
import {
  ContentHasher,
  DecryptionError,
  decodeWrappedKey,
  deriveEncryptionKeyPair,
  encodeWrappedKey,
  isContentId,
  unwrapKey,
  wrapKey,
} from "./protocol/index.js";

/**
 * The publisher's local blob cache ("upload once, deploy anywhere"): every blob the SDK encrypted, by content id, so
 * a pod can be deployed to another provider later without encrypting or uploading again.
 *
 * Layout of the directory (default `~/.podnet/blobs`, mode 0700):
 * - `<cid>`: the ciphertext, named by its content id (CIDv1 raw sha2-256 of these exact bytes);
 * - `index.json`: cid → {@link BlobCacheEntry}: size, kind, the content key wrapped to the publisher's own X25519
 *   key, and the URLs known to serve the blob (provider blob endpoints it was uploaded to).
 *
 * Content keys never touch the disk in plaintext: `keyForSelf` is sealed (X25519 + XChaCha20-Poly1305, the same
 * {@link wrapKey} providers get) to a key pair derived from a wallet signature, see {@link deriveSelfEncryptionKey}.
 * The index is rewritten atomically (temporary file + rename) and re-read on every access, so several clients in one
 * process may share a directory; two processes writing the same directory at the same moment may lose a `sources`
 * update (harmless: sources are hints, checked before use).
 */

/** The message a wallet signs to derive the key that protects content keys in the blob cache. */
export const BLOB_CACHE_KEY_MESSAGE = "podnet blob cache key v1";

/** Where the cache lives unless `blobCacheDir` says otherwise. */
export const DEFAULT_BLOB_CACHE_DIR = join(homedir(), ".podnet", "blobs");

const INDEX_FILE = "index.json";
const INDEX_VERSION = 1;

/** What the cache knows about one blob. */
export interface BlobCacheEntry {
  cid: string;
  /** Ciphertext bytes. */
  size: number;
  kind: "image" | "secret";
  /** The content key wrapped to the publisher's own X25519 key (base64url of {@link wrapKey}'s output). */
  keyForSelf: string;
  /** The X25519 public key `keyForSelf` is wrapped to: tells which wallet can open it. */
  selfKey: Hex;
  /** URLs known to serve the ciphertext (`<provider endpoint>/v1/blobs/<cid>`). */
  sources: string[];
  /** Unix seconds. */
  createdAt: number;
}

interface IndexFile {
  version: number;
  blobs: Record<string, BlobCacheEntry>;
}

/** A {@link BlobCache.write} stream longer than its `maxBytes`. */
export class BlobSizeError extends BlobCacheError {
  override name = "BlobSizeError";
}

/** The X25519 key pair that protects content keys in the cache. */
export interface SelfEncryptionKey {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
  publicKeyHex: Hex;
}

/**
 * Derives the publisher's own X25519 key pair from a wallet signature: `signMessage("podnet blob cache key v1")` →
 * keccak256 → HKDF-SHA256 → X25519 (the protocol's {@link deriveEncryptionKeyPair}). A wallet need not expose its
 * private key (JSON-RPC accounts, hardware wallets), but it can sign; the signature is deterministic for RFC 6979
 * ECDSA signers (viem's local accounts, most wallets), so the same wallet always gets the same key. A signer that
 * randomises signatures gets a different key each time, and {@link BlobCache.contentKey} reports that the cache was
 * sealed to another key.
 *
 * @example
 * const key = await deriveSelfEncryptionKey((message) => walletClient.signMessage({ account, message }));
 */
export async function deriveSelfEncryptionKey(
  signMessage: (message: string) => Promise<Hex>,
): Promise<SelfEncryptionKey> {
  const signature = await signMessage(BLOB_CACHE_KEY_MESSAGE);
  return deriveEncryptionKeyPair(keccak256(signature));
}

/**
 * The blob cache of one directory.
 *
 * @example
 * const cache = new BlobCache("/home/me/.podnet/blobs");
 * const { cid, size } = await cache.write(encryptStream(createReadStream("image.tar"), key));
 * cache.put({ cid, size, kind: "image", ...cache.seal(key, selfKey), sources: [], createdAt: now });
 */
export class BlobCache {
  constructor(readonly dir: string = DEFAULT_BLOB_CACHE_DIR) {}

  /** Path of a blob's ciphertext. */
  path(cid: string): string {
    if (!isContentId(cid)) throw new BlobCacheError(`"${cid}" is not a content id`);
    return join(this.dir, cid);
  }

  /** The entry of `cid` when both the entry and its ciphertext exist. */
  get(cid: string): BlobCacheEntry | undefined {
    const entry = this.readIndex().blobs[cid];
    if (!entry || !existsSync(this.path(cid))) return undefined;
    return entry;
  }

  has(cid: string): boolean {
    return this.get(cid) !== undefined;
  }

  /** Every entry whose ciphertext exists. */
  list(): BlobCacheEntry[] {
    return Object.values(this.readIndex().blobs).filter((e) => existsSync(this.path(e.cid)));
  }

  /** A stream of a cached blob's ciphertext. */
  read(cid: string): ReadStream {
    if (!this.has(cid)) throw new BlobCacheError(`blob ${cid} is not cached`);
    return createReadStream(this.path(cid));
  }

  /**
   * Writes ciphertext (e.g. {@link encryptStream}'s output) to the cache while hashing it, then renames it to its
   * content id. Memory stays at one chunk whatever the size. With `expectCid`, bytes that hash to anything else are
   * refused and nothing is kept (an untrusted upload never lands under another blob's name); with `maxBytes`, a
   * longer stream is refused as it passes the limit.
   */
  async write(
    ciphertext: AsyncIterable<Uint8Array>,
    options: { expectCid?: string; maxBytes?: number } = {},
  ): Promise<{ cid: string; size: number }> {
    this.ensureDir();
    const tmp = join(this.dir, `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
    const hasher = new ContentHasher();
    let size = 0;
    const file = await open(tmp, "w", 0o600);
    try {
      for await (const chunk of ciphertext) {
        size += chunk.length;
        if (options.maxBytes !== undefined && size > options.maxBytes) {
          throw new BlobSizeError(`more than ${options.maxBytes} bytes`);
        }
        hasher.update(chunk);
        let written = 0;
        while (written < chunk.length) {
          const { bytesWritten } = await file.write(chunk, written, chunk.length - written);
          written += bytesWritten;
        }
      }
      await file.sync();
      await file.close();
      const cid = hasher.digest();
      if (options.expectCid !== undefined && cid !== options.expectCid) {
        throw new BlobCacheError(`the bytes hash to ${cid}, not ${options.expectCid}; refused`);
      }
      renameSync(tmp, join(this.dir, cid));
      return { cid, size };
    } catch (error) {
      await file.close().catch(() => undefined);
      throw error;
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /** Adds or replaces an entry. */
  put(entry: BlobCacheEntry): void {
    if (!isContentId(entry.cid)) throw new BlobCacheError(`"${entry.cid}" is not a content id`);
    const index = this.readIndex();
    index.blobs[entry.cid] = entry;
    this.writeIndex(index);
  }

  /** Records that `url` serves the blob (no-op for unknown blobs and known URLs). */
  addSource(cid: string, url: string): void {
    const index = this.readIndex();
    const entry = index.blobs[cid];
    if (!entry || entry.sources.includes(url)) return;
    entry.sources.push(url);
    this.writeIndex(index);
  }

  /** Forgets a URL that no longer serves the blob. */
  removeSource(cid: string, url: string): void {
    const index = this.readIndex();
    const entry = index.blobs[cid];
    if (!entry?.sources.includes(url)) return;
    entry.sources = entry.sources.filter((s) => s !== url);
    this.writeIndex(index);
  }

  /** Deletes a blob and its entry. */
  remove(cid: string): void {
    const index = this.readIndex();
    delete index.blobs[cid];
    this.writeIndex(index);
    rmSync(this.path(cid), { force: true });
  }

  /** The `keyForSelf` and `selfKey` fields for a content key. */
  seal(contentKey: Uint8Array, self: Pick<SelfEncryptionKey, "publicKey" | "publicKeyHex">) {
    return { keyForSelf: encodeWrappedKey(wrapKey(contentKey, self.publicKey)), selfKey: self.publicKeyHex };
  }

  /**
   * Opens a cached blob's content key with the publisher's own key. The caller should zero it after use.
   *
   * @throws {BlobCacheError} when the blob is not cached or was sealed by another wallet.
   */
  contentKey(cid: string, self: SelfEncryptionKey): Uint8Array {
    const entry = this.get(cid);
    if (!entry) throw new BlobCacheError(`blob ${cid} is not cached`);
    if (entry.selfKey.toLowerCase() !== self.publicKeyHex.toLowerCase()) {
      throw new BlobCacheError(
        `blob ${cid} was encrypted by another wallet (its key is sealed to ${entry.selfKey}, this wallet's cache key is ${self.publicKeyHex}); a signer with randomised signatures cannot reopen its cache`,
      );
    }
    try {
      return unwrapKey(decodeWrappedKey(entry.keyForSelf), self.privateKey);
    } catch (error) {
      if (error instanceof DecryptionError) {
        // Names the file: a tampered or truncated entry is found and removed by hand.
        throw new BlobCacheError(
          `${join(this.dir, INDEX_FILE)}: blob ${cid}: its content key does not open (${error.message}); the entry was altered or sealed to another key`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  private ensureDir() {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  private readIndex(): IndexFile {
    const file = join(this.dir, INDEX_FILE);
    if (!existsSync(file)) return { version: INDEX_VERSION, blobs: {} };
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new BlobCacheError(`${file} is not valid JSON; move it away to start a new cache`, { cause: error });
    }
    const index = parsed as Partial<IndexFile>;
    if (index.version !== INDEX_VERSION || typeof index.blobs !== "object" || index.blobs === null) {
      throw new BlobCacheError(`${file}: unknown format (expected version ${INDEX_VERSION})`);
    }
    return index as IndexFile;
  }

  private writeIndex(index: IndexFile) {
    this.ensureDir();
    const file = join(this.dir, INDEX_FILE);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(index, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  }

  /** Size of a cached blob's ciphertext on disk. */
  sizeOf(cid: string): number {
    return statSync(this.path(cid)).size;
  }
}
