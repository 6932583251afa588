import { hkdfSync, randomBytes as nodeRandomBytes } from "node:crypto";
import { bytesToHex, concat, type Hex, hexToBytes, isHex, stringToBytes } from "viem";
import { contentId } from "./content-id.js";
import { PodnetError, type PodnetErrorParameters } from "./errors.js";
import { x25519PublicKey, x25519SharedSecret } from "./x25519.js";
import { NONCE_LENGTH, TAG_LENGTH, xchacha20poly1305 } from "./xchacha20poly1305.js";

const randomBytes = (length: number) => new Uint8Array(nodeRandomBytes(length));
/** HKDF-SHA256 (RFC 5869) on Node's crypto. */
const hkdfSha256 = (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number) =>
  new Uint8Array(hkdfSync("sha256", ikm, salt, info, length));

/**
 * "Upload once, deploy anywhere" encryption. A publisher encrypts an image blob once under a random content key and
 * uploads the ciphertext; a provider that wins a lease receives the content key wrapped (sealed) to its X25519
 * public key, which it registered on chain. Content ids name the ciphertext, so providers and mirrors can verify
 * what they store without being able to read it.
 *
 * Blob format (all integers big-endian):
 *   header = "PODNETB1" (8) || chunkSize uint32 (4) || noncePrefix (16)
 *   chunks = XChaCha20-Poly1305(key, noncePrefix || counter uint64, plaintext chunk, AAD = header || finalFlag)
 * Every chunk but the last carries exactly chunkSize plaintext bytes, the last 0..chunkSize and finalFlag = 1.
 * The counter in the nonce pins each chunk's position, the final flag makes truncation and appending detectable, and
 * the header in the AAD makes any header edit fail every chunk (the STREAM construction of Hoang, Reyhanitabar,
 * Rogaway and Vizár).
 */

export type DecryptionErrorType = DecryptionError & { name: "DecryptionError" };

/** Thrown when ciphertext or a wrapped key does not authenticate or is malformed. */
export class DecryptionError extends PodnetError {
  override name = "DecryptionError";
  constructor(message: string, options?: Pick<PodnetErrorParameters, "cause">) {
    super("DECRYPTION", message, { ...options, docsPath: "docs/sdk.md#upload-once-deploy-anywhere" });
  }
}

/** Length of a content key, an X25519 private key and an X25519 public key. */
export const KEY_LENGTH = 32;
/** Default plaintext bytes per blob chunk: small enough to keep memory flat, big enough to make tags negligible. */
export const DEFAULT_CHUNK_SIZE = 65536;
/** Smallest allowed chunk size: below this the 16-byte tag per chunk becomes real overhead. */
export const MIN_CHUNK_SIZE = 1024;
/** Largest allowed chunk size: bounds the memory a decryptor must set aside for a chunk it cannot yet trust. */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;

const MAGIC = stringToBytes("PODNETB1");
const NONCE_PREFIX_LENGTH = 16;
/** Length of the blob header: magic, chunk size, nonce prefix. */
export const BLOB_HEADER_LENGTH = MAGIC.length + 4 + NONCE_PREFIX_LENGTH;
/** Length of a wrapped key: ephemeral public key, nonce, encrypted content key with its tag. */
export const WRAPPED_KEY_LENGTH = KEY_LENGTH + NONCE_LENGTH + KEY_LENGTH + TAG_LENGTH;

const X25519_SALT = stringToBytes("podnet/x25519/v1");
const WRAP_INFO = stringToBytes("podnet/wrap/v1");

function assertKey(key: Uint8Array, what: string): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH) {
    throw new Error(`${what} must be ${KEY_LENGTH} bytes`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Keys

/**
 * The provider's X25519 key pair, derived from its Ethereum private key with HKDF-SHA256, so the provider keeps no
 * second secret on disk. `publicKeyHex` is what it registers on chain as its bytes32 `encryptionKey`.
 *
 * @example
 * ```ts
 * const { privateKey, publicKeyHex } = deriveEncryptionKeyPair(process.env.PROVIDER_KEY as Hex);
 * ```
 */
export function deriveEncryptionKeyPair(ethPrivateKey: Hex): {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
  publicKeyHex: Hex;
} {
  if (!isHex(ethPrivateKey, { strict: true }) || ethPrivateKey.length !== 66) {
    throw new Error("ethereum private key must be 0x followed by 64 hex digits");
  }
  // A distinct salt separates this key from any other use of the Ethereum key; HKDF makes it uniformly random.
  const privateKey = hkdfSha256(hexToBytes(ethPrivateKey), X25519_SALT, new Uint8Array(0), KEY_LENGTH);
  const publicKey = encryptionPublicKeyFromPrivate(privateKey);
  return { privateKey, publicKey, publicKeyHex: bytesToHex(publicKey) };
}

/**
 * The X25519 public key of an X25519 private key.
 *
 * @example
 * ```ts
 * const publicKey = encryptionPublicKeyFromPrivate(deriveEncryptionKeyPair(ethKey).privateKey);
 * ```
 */
export function encryptionPublicKeyFromPrivate(privateKey: Uint8Array): Uint8Array {
  assertKey(privateKey, "X25519 private key");
  return x25519PublicKey(privateKey);
}

/**
 * A fresh random 32-byte content key. Use one per blob, so handing a provider the key to one image reveals no other.
 *
 * @example
 * ```ts
 * const key = generateContentKey();
 * ```
 */
export function generateContentKey(): Uint8Array {
  return randomBytes(KEY_LENGTH);
}

// ---------------------------------------------------------------------------------------------------------------
// Key wrapping: an X25519 sealed box (ephemeral sender key, so the wrap reveals nothing about the publisher)

function keyEncryptionKey(sharedSecret: Uint8Array, ephemeralPublic: Uint8Array, recipientPublic: Uint8Array) {
  // Binding both public keys into the KDF ties the wrap to this exact recipient and ephemeral key.
  return hkdfSha256(sharedSecret, concat([ephemeralPublic, recipientPublic]), WRAP_INFO, KEY_LENGTH);
}

function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const byte of bytes) acc |= byte;
  return acc === 0;
}

/**
 * Seals a content key to a recipient's X25519 public key. The result (104 bytes) is
 * ephemeral public key (32) || nonce (24) || XChaCha20-Poly1305 ciphertext of the key (48).
 * Two wraps of the same key differ, since each uses a fresh ephemeral key and nonce.
 *
 * @example
 * ```ts
 * const wrapped = wrapKey(contentKey, providerPublicKey);
 * const json = { key: encodeWrappedKey(wrapped) };
 * ```
 */
export function wrapKey(contentKey: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
  assertKey(contentKey, "content key");
  assertKey(recipientPublicKey, "recipient public key");
  const ephemeralPrivate = randomBytes(KEY_LENGTH);
  const ephemeralPublic = x25519PublicKey(ephemeralPrivate);
  let shared: Uint8Array;
  try {
    shared = x25519SharedSecret(ephemeralPrivate, recipientPublicKey);
  } catch {
    throw new Error("recipient public key is not a usable X25519 key (low-order point)");
  }
  // OpenSSL already refuses low-order points; the check stays so a library change cannot silently weaken wrapping.
  if (isAllZero(shared)) throw new Error("recipient public key is not a usable X25519 key (low-order point)");
  const nonce = randomBytes(NONCE_LENGTH);
  const kek = keyEncryptionKey(shared, ephemeralPublic, recipientPublicKey);
  return concat([ephemeralPublic, nonce, xchacha20poly1305(kek, nonce).encrypt(contentKey)]);
}

/**
 * Opens a key sealed with {@link wrapKey}. Throws {@link DecryptionError} when the wrap is malformed, tampered with
 * or sealed to another recipient.
 *
 * @example
 * ```ts
 * const contentKey = unwrapKey(decodeWrappedKey(json.key), deriveEncryptionKeyPair(ethKey).privateKey);
 * ```
 */
export function unwrapKey(wrapped: Uint8Array, recipientPrivateKey: Uint8Array): Uint8Array {
  assertKey(recipientPrivateKey, "recipient private key");
  if (wrapped.length !== WRAPPED_KEY_LENGTH) {
    throw new DecryptionError(`wrapped key: expected ${WRAPPED_KEY_LENGTH} bytes, got ${wrapped.length}`);
  }
  const ephemeralPublic = wrapped.subarray(0, KEY_LENGTH);
  const nonce = wrapped.subarray(KEY_LENGTH, KEY_LENGTH + NONCE_LENGTH);
  const sealed = wrapped.subarray(KEY_LENGTH + NONCE_LENGTH);
  let shared: Uint8Array;
  try {
    shared = x25519SharedSecret(recipientPrivateKey, ephemeralPublic);
  } catch {
    throw new DecryptionError("wrapped key: ephemeral public key is a low-order point");
  }
  if (isAllZero(shared)) throw new DecryptionError("wrapped key: ephemeral public key is a low-order point");
  const kek = keyEncryptionKey(shared, ephemeralPublic, x25519PublicKey(recipientPrivateKey));
  try {
    return xchacha20poly1305(kek, nonce).decrypt(sealed);
  } catch {
    throw new DecryptionError("wrapped key: failed authentication (wrong recipient or tampered)");
  }
}

/**
 * A wrapped key as unpadded base64url, for JSON.
 *
 * @example
 * ```ts
 * encodeWrappedKey(wrapKey(contentKey, providerPublicKey)); // 139 characters
 * ```
 */
export function encodeWrappedKey(wrapped: Uint8Array): string {
  let binary = "";
  for (const byte of wrapped) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Parses a wrapped key from unpadded base64url. Throws {@link DecryptionError} when the text is not base64url or
 * not the length of a wrapped key, since it arrives from untrusted JSON like the wrap itself.
 *
 * @example
 * ```ts
 * const wrapped = decodeWrappedKey(json.key);
 * ```
 */
export function decodeWrappedKey(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new DecryptionError("wrapped key: not base64url");
  let binary: string;
  try {
    binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    throw new DecryptionError("wrapped key: not base64url");
  }
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  if (bytes.length !== WRAPPED_KEY_LENGTH) {
    throw new DecryptionError(`wrapped key: expected ${WRAPPED_KEY_LENGTH} bytes, got ${bytes.length}`);
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------------------------
// Blob encryption: chunked STREAM construction

/** Options for blob encryption. */
export interface EncryptOptions {
  /** Plaintext bytes per chunk, {@link MIN_CHUNK_SIZE}..{@link MAX_CHUNK_SIZE}; {@link DEFAULT_CHUNK_SIZE} if unset. */
  chunkSize?: number;
}

function isValidChunkSize(chunkSize: number): boolean {
  return Number.isInteger(chunkSize) && chunkSize >= MIN_CHUNK_SIZE && chunkSize <= MAX_CHUNK_SIZE;
}

function checkedChunkSize(chunkSize: number = DEFAULT_CHUNK_SIZE): number {
  if (!isValidChunkSize(chunkSize)) {
    throw new Error(`chunk size must be an integer in ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}, got ${chunkSize}`);
  }
  return chunkSize;
}

/** What every chunk operation needs: the key, the header (AAD) and the nonce prefix taken from it. */
interface BlobContext {
  key: Uint8Array;
  header: Uint8Array;
  chunkSize: number;
}

function newHeader(chunkSize: number): Uint8Array {
  const header = new Uint8Array(BLOB_HEADER_LENGTH);
  header.set(MAGIC, 0);
  new DataView(header.buffer).setUint32(MAGIC.length, chunkSize);
  header.set(randomBytes(NONCE_PREFIX_LENGTH), MAGIC.length + 4);
  return header;
}

function parseHeader(header: Uint8Array): number {
  if (header.length < BLOB_HEADER_LENGTH) throw new DecryptionError("blob: truncated header");
  if (!MAGIC.every((byte, i) => header[i] === byte)) throw new DecryptionError("blob: bad magic");
  const chunkSize = new DataView(header.buffer, header.byteOffset, header.byteLength).getUint32(MAGIC.length);
  if (!isValidChunkSize(chunkSize)) throw new DecryptionError(`blob: bad chunk size ${chunkSize}`);
  return chunkSize;
}

function chunkCipher(context: BlobContext, index: number, final: boolean) {
  const nonce = new Uint8Array(NONCE_LENGTH);
  nonce.set(context.header.subarray(MAGIC.length + 4), 0);
  new DataView(nonce.buffer).setBigUint64(NONCE_PREFIX_LENGTH, BigInt(index));
  const aad = concat([context.header, Uint8Array.of(final ? 1 : 0)]);
  return xchacha20poly1305(context.key, nonce, aad);
}

function sealChunk(context: BlobContext, index: number, plaintext: Uint8Array, final: boolean): Uint8Array {
  return chunkCipher(context, index, final).encrypt(plaintext);
}

function openChunk(context: BlobContext, index: number, sealed: Uint8Array, final: boolean): Uint8Array {
  const fail = final ? "blob: truncated, no final chunk" : `blob: chunk ${index} failed authentication`;
  if (sealed.length < TAG_LENGTH) throw new DecryptionError(fail);
  try {
    return chunkCipher(context, index, final).decrypt(sealed);
  } catch {
    // A last chunk that fails as final but opens as non-final means the stream was cut at a chunk boundary: report
    // truncation rather than tampering, since that is what a dropped connection looks like.
    if (final && sealed.length === context.chunkSize + TAG_LENGTH && opensAsMiddle(context, index, sealed)) {
      throw new DecryptionError("blob: truncated, no final chunk");
    }
    throw new DecryptionError(`blob: chunk ${index} failed authentication`);
  }
}

function opensAsMiddle(context: BlobContext, index: number, sealed: Uint8Array): boolean {
  try {
    chunkCipher(context, index, false).decrypt(sealed);
    return true;
  } catch {
    return false;
  }
}

/**
 * The exact size of the encrypted blob for `plaintextSize` bytes: the header plus a 16-byte tag per chunk.
 *
 * @example
 * ```ts
 * encryptedSize(0); // 44: header and one empty final chunk
 * ```
 */
export function encryptedSize(plaintextSize: number, chunkSize: number = DEFAULT_CHUNK_SIZE): number {
  if (!Number.isSafeInteger(plaintextSize) || plaintextSize < 0) {
    throw new Error(`plaintext size must be a non-negative integer, got ${plaintextSize}`);
  }
  const chunks = Math.max(1, Math.ceil(plaintextSize / checkedChunkSize(chunkSize)));
  return BLOB_HEADER_LENGTH + plaintextSize + chunks * TAG_LENGTH;
}

/**
 * Encrypts a blob held in memory. For blobs that do not fit in memory use {@link encryptStream}; both produce the
 * same format.
 *
 * @example
 * ```ts
 * const key = generateContentKey();
 * const ciphertext = encryptBytes(tarball, key);
 * ```
 */
export function encryptBytes(plaintext: Uint8Array, key: Uint8Array, opts: EncryptOptions = {}): Uint8Array {
  assertKey(key, "content key");
  const chunkSize = checkedChunkSize(opts.chunkSize);
  const context: BlobContext = { key, header: newHeader(chunkSize), chunkSize };
  const out = new Uint8Array(encryptedSize(plaintext.length, chunkSize));
  out.set(context.header, 0);
  let written = BLOB_HEADER_LENGTH;
  let index = 0;
  // Only a chunk with plaintext after it is non-final, so an exact multiple of chunkSize ends in a full final chunk.
  for (let start = 0; ; start += chunkSize, index++) {
    const final = plaintext.length - start <= chunkSize;
    const sealed = sealChunk(context, index, plaintext.subarray(start, start + chunkSize), final);
    out.set(sealed, written);
    written += sealed.length;
    if (final) return out;
  }
}

/**
 * Decrypts a blob held in memory. Throws {@link DecryptionError} with the reason (bad magic, a chunk that fails
 * authentication, truncation) on any tampering.
 *
 * @example
 * ```ts
 * const tarball = decryptBytes(ciphertext, unwrapKey(wrapped, privateKey));
 * ```
 */
export function decryptBytes(ciphertext: Uint8Array, key: Uint8Array): Uint8Array {
  assertKey(key, "content key");
  const chunkSize = parseHeader(ciphertext);
  const context: BlobContext = { key, header: ciphertext.subarray(0, BLOB_HEADER_LENGTH), chunkSize };
  const body = ciphertext.subarray(BLOB_HEADER_LENGTH);
  const sealedChunkSize = chunkSize + TAG_LENGTH;
  const chunks = Math.max(1, Math.ceil(body.length / sealedChunkSize));
  const out = new Uint8Array(Math.max(0, body.length - chunks * TAG_LENGTH));
  for (let index = 0; index < chunks; index++) {
    const start = index * sealedChunkSize;
    const opened = openChunk(context, index, body.subarray(start, start + sealedChunkSize), index === chunks - 1);
    out.set(opened, index * chunkSize);
  }
  return out;
}

/**
 * Cuts a byte stream into frames of exactly `frameSize` bytes plus a last frame of 0..frameSize bytes, whatever the
 * input chunk boundaries. A full frame is only handed out once a further byte arrives, because only then is it known
 * not to be the last one.
 */
async function* frames(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  frameSize: number,
): AsyncGenerator<{ frame: Uint8Array; final: boolean }> {
  let frame = new Uint8Array(frameSize);
  let filled = 0;
  for await (const input of source) {
    for (let offset = 0; offset < input.length; ) {
      if (filled === frameSize) {
        yield { frame, final: false };
        frame = new Uint8Array(frameSize);
        filled = 0;
      }
      const take = Math.min(frameSize - filled, input.length - offset);
      frame.set(input.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
    }
  }
  yield { frame: frame.subarray(0, filled), final: true };
}

/**
 * Encrypts a stream (a Node Readable, an HTTP body, any async iterable of bytes) chunk by chunk, so memory use stays
 * at about one chunk whatever the blob size. Yields the header, then one sealed chunk at a time.
 *
 * @example
 * ```ts
 * const key = generateContentKey();
 * await pipeline(encryptStream(fs.createReadStream("image.tar"), key), fs.createWriteStream("image.tar.enc"));
 * ```
 */
export async function* encryptStream(
  source: AsyncIterable<Uint8Array>,
  key: Uint8Array,
  opts: EncryptOptions = {},
): AsyncGenerator<Uint8Array> {
  assertKey(key, "content key");
  const chunkSize = checkedChunkSize(opts.chunkSize);
  const context: BlobContext = { key, header: newHeader(chunkSize), chunkSize };
  yield context.header;
  let index = 0;
  for await (const { frame, final } of frames(source, chunkSize)) {
    yield sealChunk(context, index++, frame, final);
  }
}

/**
 * Decrypts a stream produced by {@link encryptStream} or {@link encryptBytes}. Each chunk's plaintext is yielded only
 * after it authenticated, but a stream can still be cut short or tampered with further on: treat the output as
 * untrusted until the iteration ends without throwing (write to a temporary file, rename it on success). Throws
 * {@link DecryptionError} at the end when the final chunk is missing.
 *
 * @example
 * ```ts
 * await pipeline(decryptStream(response.body, key), fs.createWriteStream(tmpPath));
 * await fs.promises.rename(tmpPath, imagePath);
 * ```
 */
export async function* decryptStream(source: AsyncIterable<Uint8Array>, key: Uint8Array): AsyncGenerator<Uint8Array> {
  assertKey(key, "content key");
  const iterator = source[Symbol.asyncIterator]();
  let exhausted = false;
  try {
    // The header decides the chunk size, so read it before framing the rest.
    let head: Uint8Array = new Uint8Array(0);
    while (head.length < BLOB_HEADER_LENGTH) {
      const next = await iterator.next();
      if (next.done) {
        exhausted = true;
        throw new DecryptionError(head.length === 0 ? "blob: empty" : "blob: truncated header");
      }
      head = concat([head, next.value]);
    }
    const chunkSize = parseHeader(head);
    const context: BlobContext = { key, header: head.slice(0, BLOB_HEADER_LENGTH), chunkSize };
    const rest = {
      async *[Symbol.asyncIterator]() {
        yield head.subarray(BLOB_HEADER_LENGTH);
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
        exhausted = true;
      },
    };
    let index = 0;
    for await (const { frame, final } of frames(rest, chunkSize + TAG_LENGTH)) {
      yield openChunk(context, index++, frame, final);
    }
  } finally {
    // Stop the source (e.g. destroy a Readable) when the consumer gives up early or decryption fails.
    if (!exhausted) await iterator.return?.();
  }
}

/**
 * Encrypts a blob under a fresh content key and wraps that key to each recipient. The content id is over the
 * ciphertext, so providers can verify what they store without the key.
 *
 * @example
 * ```ts
 * const { cid, ciphertext, wrappedKeys } = sealBlob(tarball, [providerPublicKey]);
 * ```
 */
export function sealBlob(
  plaintext: Uint8Array,
  recipients: Uint8Array[] = [],
  opts: EncryptOptions = {},
): { cid: string; key: Uint8Array; ciphertext: Uint8Array; wrappedKeys: Uint8Array[] } {
  const key = generateContentKey();
  const ciphertext = encryptBytes(plaintext, key, opts);
  const wrappedKeys = recipients.map((recipient) => wrapKey(key, recipient));
  return { cid: contentId(ciphertext), key, ciphertext, wrappedKeys };
}
