import { createReadStream } from "node:fs";
import { resolve } from "node:path";
import { type Hex, hexToBytes, isHex } from "viem";
import { BlobCache, type SelfEncryptionKey } from "./blob-cache.js";
import { BlobCacheError, InvalidParameterError } from "./errors.js";
import { encodeWrappedKey, generateContentKey, wrapKey } from "./protocol/index.js";

/** 0x + 32 bytes in hex. */
const X25519_KEY_HEX_LENGTH = 2 + 64;

/**
 * Hands blobs of one blob cache (an owner's) to another key's blob cache (an autoscaler's `<dataDir>/blobs`): the
 * ciphertext is copied and checked against its content id, and each content key is opened with the owner's own key
 * and sealed again to the recipient's X25519 public key with the protocol's {@link wrapKey}, the same sealing providers
 * get. The open key lives in this process's memory only and is zeroed; nothing plaintext is written.
 *
 * The recipient key is what `podnet-autoscaler key` prints: the controller's own blob cache key, derived from a
 * signature of the controller key ({@link deriveSelfEncryptionKey}), which an address alone does not reveal.
 */

export interface ShareBlobKeysParameters {
  /** The owner's blob cache, holding the blobs and their content keys sealed to `self`. */
  from: BlobCache;
  /** The owner's own cache key (opens `from`'s content keys). */
  self: SelfEncryptionKey;
  /** The recipient's blob cache directory, e.g. `<autoscaler data dir>/blobs`. */
  to: string;
  /** The recipient's X25519 public key, 0x + 64 hex digits (`podnet-autoscaler key`). */
  recipient: string;
  /** The blobs to hand over (an app's images and secret files: `manifestBlobs`). */
  cids: readonly string[];
}

export interface SharedBlob {
  cid: string;
  kind: "image" | "secret";
  size: number;
}

/**
 * Re-seals blobs to another key's cache. Every input is checked before the first write: a wrong recipient or a blob
 * the owner's cache lacks changes nothing.
 *
 * @throws {InvalidParameterError} when `recipient` is not a usable X25519 public key, `to` is the owner's own cache,
 * or `cids` is empty.
 * @throws {BlobCacheError} when a blob is not cached, its content key does not open (naming the index file), or its
 * ciphertext does not hash to its content id (naming the file).
 *
 * @example
 * const shared = await shareBlobKeys({ from: new BlobCache(), self, to: "data/blobs", recipient: "0x…", cids });
 */
export async function shareBlobKeys(params: ShareBlobKeysParameters): Promise<SharedBlob[]> {
  const recipient = parseRecipientKey(params.recipient);
  if (params.cids.length === 0) throw new InvalidParameterError("cids", "no blob to share");
  if (resolve(params.to) === resolve(params.from.dir)) {
    throw new InvalidParameterError("to", `${params.to} is the owner's own blob cache; give the recipient's directory`);
  }
  const sealed = sealBlobKeys({ from: params.from, self: params.self, recipient, cids: params.cids });
  const to = new BlobCache(params.to);
  const shared: SharedBlob[] = [];
  for (const blob of sealed) {
    const entry = params.from.get(blob.cid);
    if (!entry) throw new BlobCacheError(`blob ${blob.cid} is not in ${params.from.dir}`);
    const copied = await to.write(createReadStream(params.from.path(blob.cid)));
    if (copied.cid !== blob.cid) {
      to.remove(copied.cid);
      throw new BlobCacheError(
        `${params.from.path(blob.cid)}: the ciphertext does not hash to its content id (it hashes to ${copied.cid}); refused`,
      );
    }
    to.put({
      cid: blob.cid,
      size: copied.size,
      kind: blob.kind,
      keyForSelf: blob.key,
      selfKey: params.recipient.toLowerCase() as Hex,
      sources: [...entry.sources],
      createdAt: entry.createdAt,
    });
    shared.push({ cid: blob.cid, kind: blob.kind, size: copied.size });
  }
  return shared;
}

/** One blob's content key sealed to a recipient: what a recipient's blob cache entry or an app handover carries. */
export interface SealedBlobKey {
  cid: string;
  kind: "image" | "secret";
  /** Ciphertext bytes, as the owner's cache records them. */
  size: number;
  /** The content key wrapped to the recipient (base64url of {@link wrapKey}'s output). */
  key: string;
}

/**
 * Opens each blob's content key with the owner's own key and seals it to `recipient` (the one rule of re-wrapping,
 * used by {@link shareBlobKeys} and by the network handover). Every key is opened first, so a blob the owner's cache
 * lacks or a tampered entry is refused before anything is sealed; each open key is zeroed once sealed.
 *
 * @throws {BlobCacheError} when a blob is not cached or its content key does not open (naming the index file).
 */
export function sealBlobKeys(params: {
  from: BlobCache;
  self: SelfEncryptionKey;
  recipient: Uint8Array;
  cids: readonly string[];
}): SealedBlobKey[] {
  const { from, self } = params;
  for (const cid of params.cids) {
    if (!from.has(cid)) throw new BlobCacheError(`blob ${cid} is not in ${from.dir}`);
    from.contentKey(cid, self).fill(0);
  }
  return params.cids.map((cid) => {
    const entry = from.get(cid);
    if (!entry) throw new BlobCacheError(`blob ${cid} is not in ${from.dir}`);
    const key = from.contentKey(cid, self);
    try {
      return { cid, kind: entry.kind, size: entry.size, key: encodeWrappedKey(wrapKey(key, params.recipient)) };
    } finally {
      key.fill(0);
    }
  });
}

/** The recipient's X25519 public key as bytes; refuses what {@link wrapKey} cannot seal to. */
export function parseRecipientKey(text: string): Uint8Array {
  const hint = "must be an X25519 public key, 0x + 64 hex digits (as `podnet-autoscaler key` prints)";
  if (typeof text !== "string" || !isHex(text) || text.length !== X25519_KEY_HEX_LENGTH) {
    throw new InvalidParameterError("recipient", hint);
  }
  const key = hexToBytes(text);
  try {
    wrapKey(generateContentKey(), key);
  } catch (error) {
    throw new InvalidParameterError("recipient", `${(error as Error).message}; ${hint}`);
  }
  return key;
}
