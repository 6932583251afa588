import { createHash } from "node:crypto";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import * as Digest from "multiformats/hashes/digest";

/**
 * Content ids name blobs (encrypted image tarballs, manifests) by what they contain: a CIDv1 with the raw codec and
 * a sha2-256 multihash, printed in base32 ("bafkrei..."). The same bytes get the same id in IPFS tooling, so blobs
 * can be pinned or fetched there too.
 *
 * Hashing uses Node's native sha2-256 (node:crypto), synchronous and incremental as both the SDK and the provider
 * daemon need: about 1.7 GB/s on a CI core against 93 MB/s for @noble/hashes' JavaScript one, which the SDK used
 * before (a 100 MB image took about a second per pass: sealing hashes it, the worker hashes it again on upload).
 */

/** Multicodec code of sha2-256 in a multihash. */
const SHA2_256_CODE = 0x12;
const SHA2_256_LENGTH = 32;

function cidFromSha256(hash: Uint8Array): string {
  return CID.create(1, raw.code, Digest.create(SHA2_256_CODE, hash)).toString();
}

/**
 * The content id of `bytes`: CIDv1, raw codec, sha2-256, base32.
 *
 * @example
 * ```ts
 * contentId(new Uint8Array()); // "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
 * ```
 */
export function contentId(bytes: Uint8Array): string {
  return cidFromSha256(createHash("sha256").update(bytes).digest());
}

/**
 * Computes a content id incrementally, for blobs too big to hold in memory (streamed from disk or the network).
 * `digest()` may be called once; the hasher is spent afterwards.
 *
 * @example
 * ```ts
 * const hasher = new ContentHasher();
 * for await (const chunk of fs.createReadStream(path)) hasher.update(chunk);
 * const cid = hasher.digest();
 * ```
 */
export class ContentHasher {
  readonly #hash = createHash("sha256");

  /** Feeds the next bytes of the blob. */
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
  }

  /** The content id of everything fed so far. */
  digest(): string {
    return cidFromSha256(this.#hash.digest());
  }
}

/**
 * Parses a content id from untrusted text (an API request, a manifest) and returns it in its normal base32 form.
 * Throws an `Error` whose message starts with "content id: " when the text is not a CIDv1 raw sha2-256 CID, so two
 * spellings of one id (e.g. base32 and base58btc) never count as two different blobs.
 *
 * @example
 * ```ts
 * parseContentId("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"); // the same string back
 * parseContentId("hello"); // throws Error("content id: not a CID")
 * ```
 */
export function parseContentId(text: string): string {
  let cid: CID;
  try {
    cid = CID.parse(text);
  } catch {
    throw new Error("content id: not a CID");
  }
  if (cid.version !== 1) throw new Error(`content id: must be CIDv1, got CIDv${cid.version}`);
  if (cid.code !== raw.code)
    throw new Error(`content id: must use the raw codec (0x55), got 0x${cid.code.toString(16)}`);
  if (cid.multihash.code !== SHA2_256_CODE || cid.multihash.size !== SHA2_256_LENGTH) {
    throw new Error(`content id: must use sha2-256, got multihash 0x${cid.multihash.code.toString(16)}`);
  }
  return cid.toString();
}

/**
 * Whether `text` is a valid content id (see {@link parseContentId}).
 *
 * @example
 * ```ts
 * isContentId("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"); // true
 * isContentId("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"); // false, CIDv0
 * ```
 */
export function isContentId(text: string): boolean {
  try {
    parseContentId(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `bytes` are the content named by `cid`. False (not a throw) for an invalid cid, so a provider can treat
 * "bad id" and "wrong bytes" alike: refuse the upload.
 *
 * @example
 * ```ts
 * verifyContentId(contentId(blob), blob); // true
 * ```
 */
export function verifyContentId(cid: string, bytes: Uint8Array): boolean {
  let expected: string;
  try {
    expected = parseContentId(cid);
  } catch {
    return false;
  }
  return contentId(bytes) === expected;
}
