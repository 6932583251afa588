import { randomFillSync } from "node:crypto";
import { concat as concatBytes, hexToBytes } from "viem";
import { describe, expect, it } from "vitest";
import { contentId } from "./content-id.js";
import {
  BLOB_HEADER_LENGTH,
  DEFAULT_CHUNK_SIZE,
  DecryptionError,
  decodeWrappedKey,
  decryptBytes,
  decryptStream,
  deriveEncryptionKeyPair,
  encodeWrappedKey,
  encryptBytes,
  encryptedSize,
  encryptionPublicKeyFromPrivate,
  encryptStream,
  generateContentKey,
  sealBlob,
  unwrapKey,
  WRAPPED_KEY_LENGTH,
  wrapKey,
} from "./crypto.js";
import { x25519PublicKey, x25519SharedSecret } from "./x25519.js";

const ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ANVIL_KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const CHUNK = 1024;
/** Random bytes of any size (noble's randomBytes caps a single call at 64 KiB, like getRandomValues). */
const randomBytes = (size: number): Uint8Array => randomFillSync(new Uint8Array(size));
const TAG = 16;
const SEALED_CHUNK = CHUNK + TAG;

/** Feeds `bytes` in pieces of random sizes up to `maxPiece` (1 = one byte at a time). */
async function* pieces(bytes: Uint8Array, maxPiece: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; ) {
    const size = 1 + Math.floor(Math.random() * maxPiece);
    yield bytes.slice(offset, offset + size);
    offset += size;
  }
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  return concat(...parts);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

/** Splits a blob into its header and sealed chunks (all full-size but the last). */
function split(blob: Uint8Array): { header: Uint8Array; chunks: Uint8Array[] } {
  const chunks: Uint8Array[] = [];
  for (let start = BLOB_HEADER_LENGTH; start < blob.length; start += SEALED_CHUNK) {
    chunks.push(blob.slice(start, start + SEALED_CHUNK));
  }
  return { header: blob.slice(0, BLOB_HEADER_LENGTH), chunks };
}

function flip(bytes: Uint8Array, position: number): Uint8Array {
  const copy = bytes.slice();
  copy[position] = (copy[position] ?? 0) ^ 0x01;
  return copy;
}

describe("blob encryption round trip", () => {
  const sizes = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17];

  it.each(sizes)("encrypts and decrypts %i bytes with the bytes API", (size) => {
    const plaintext = randomBytes(size);
    const key = generateContentKey();
    const ciphertext = encryptBytes(plaintext, key, { chunkSize: CHUNK });
    expect(ciphertext.length).toBe(encryptedSize(size, CHUNK));
    expect(decryptBytes(ciphertext, key)).toEqual(plaintext);
  });

  it.each(sizes)("encrypts and decrypts %i bytes with the stream API, whatever the input boundaries", async (size) => {
    const plaintext = randomBytes(size);
    const key = generateContentKey();
    for (const maxPiece of [1, 7, CHUNK + 3, 10 * CHUNK]) {
      const ciphertext = await collect(encryptStream(pieces(plaintext, maxPiece), key, { chunkSize: CHUNK }));
      expect(ciphertext.length).toBe(encryptedSize(size, CHUNK));
      expect(decryptBytes(ciphertext, key)).toEqual(plaintext);
      const fromStream = await collect(decryptStream(pieces(ciphertext, maxPiece), key));
      expect(fromStream).toEqual(plaintext);
    }
  });

  it("decrypts bytes-API output with the stream API fed one byte at a time", async () => {
    const plaintext = randomBytes(3 * CHUNK + 17);
    const key = generateContentKey();
    const ciphertext = encryptBytes(plaintext, key, { chunkSize: CHUNK });
    expect(await collect(decryptStream(pieces(ciphertext, 1), key))).toEqual(decryptBytes(ciphertext, key));
  });

  it("uses a fresh nonce prefix per blob, so one plaintext never encrypts the same way twice", () => {
    const key = generateContentKey();
    const plaintext = randomBytes(100);
    expect(encryptBytes(plaintext, key)).not.toEqual(encryptBytes(plaintext, key));
  });

  it("refuses chunk sizes outside 1 KiB..16 MiB", () => {
    const key = generateContentKey();
    expect(() => encryptBytes(new Uint8Array(), key, { chunkSize: 1023 })).toThrow(/chunk size/);
    expect(() => encryptBytes(new Uint8Array(), key, { chunkSize: 16 * 1024 * 1024 + 1 })).toThrow(/chunk size/);
    expect(() => encryptedSize(10, 1.5)).toThrow(/chunk size/);
  });

  it("computes the exact encrypted size", () => {
    expect(encryptedSize(0)).toBe(BLOB_HEADER_LENGTH + TAG);
    expect(encryptedSize(DEFAULT_CHUNK_SIZE)).toBe(BLOB_HEADER_LENGTH + DEFAULT_CHUNK_SIZE + TAG);
    expect(encryptedSize(DEFAULT_CHUNK_SIZE + 1)).toBe(BLOB_HEADER_LENGTH + DEFAULT_CHUNK_SIZE + 1 + 2 * TAG);
  });

  it("streams 8 MiB with the default chunk size", async () => {
    const plaintext = randomBytes(8 * 1024 * 1024);
    const key = generateContentKey();
    const ciphertext = await collect(encryptStream(pieces(plaintext, 1024 * 1024), key));
    expect(ciphertext.length).toBe(encryptedSize(plaintext.length));
    const decrypted = await collect(decryptStream(pieces(ciphertext, 1024 * 1024), key));
    expect(decrypted.length).toBe(plaintext.length);
    expect(Buffer.from(decrypted).equals(Buffer.from(plaintext))).toBe(true);
  });
});

describe("blob tampering", () => {
  const key = generateContentKey();
  const plaintext = randomBytes(3 * CHUNK + 17);
  const blob = encryptBytes(plaintext, key, { chunkSize: CHUNK });
  const { header, chunks } = split(blob);
  const [c0, c1, c2, c3] = chunks as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];

  const rejects = async (tampered: Uint8Array, message: RegExp) => {
    expect(() => decryptBytes(tampered, key)).toThrow(DecryptionError);
    expect(() => decryptBytes(tampered, key)).toThrow(message);
    await expect(collect(decryptStream(pieces(tampered, 300), key))).rejects.toThrow(message);
  };

  it("is a 4-chunk blob", () => {
    expect(chunks.map((chunk) => chunk.length)).toEqual([SEALED_CHUNK, SEALED_CHUNK, SEALED_CHUNK, 17 + TAG]);
    expect(concat(header, ...chunks)).toEqual(blob);
  });

  it("fails with the wrong key", async () => {
    const wrongKey = generateContentKey();
    expect(() => decryptBytes(blob, wrongKey)).toThrow(DecryptionError);
    await expect(collect(decryptStream(pieces(blob, 500), wrongKey))).rejects.toThrow(DecryptionError);
  });

  it("fails on every single flipped byte, in the header and the body", () => {
    const small = encryptBytes(randomBytes(CHUNK + 100), key, { chunkSize: CHUNK });
    for (let position = 0; position < small.length; position++) {
      expect(() => decryptBytes(flip(small, position), key), `byte ${position}`).toThrow(DecryptionError);
    }
  });

  it("names what is wrong", async () => {
    await rejects(flip(blob, 0), /^blob: bad magic$/);
    await rejects(flip(blob, BLOB_HEADER_LENGTH + SEALED_CHUNK + 5), /^blob: chunk 1 failed authentication$/);
    await rejects(new Uint8Array(BLOB_HEADER_LENGTH - 1), /truncated header|bad magic/);
  });

  it("fails when chunks are reordered", async () => {
    await rejects(concat(header, c1, c0, c2, c3), /^blob: chunk 0 failed authentication$/);
  });

  it("fails when the last chunk is dropped (truncation)", async () => {
    await rejects(concat(header, c0, c1, c2), /^blob: truncated, no final chunk$/);
    await rejects(header, /^blob: truncated, no final chunk$/);
  });

  it("fails when a chunk is appended after the final one", async () => {
    await rejects(concat(header, c0, c1, c2, c3, c3), /failed authentication/);
    await rejects(concat(header, c0, c1, c2, c3, c1), /failed authentication/);
  });

  it("fails when a chunk is duplicated", async () => {
    await rejects(concat(header, c0, c0, c1, c2, c3), /^blob: chunk 1 failed authentication$/);
  });

  it("fails when the header of another blob under the same key is spliced in", async () => {
    const other = encryptBytes(plaintext, key, { chunkSize: CHUNK });
    await rejects(concat(other.slice(0, BLOB_HEADER_LENGTH), c0, c1, c2, c3), /chunk 0 failed authentication/);
  });

  it("yields only authenticated chunks, then throws at the end of a truncated stream", async () => {
    const received: Uint8Array[] = [];
    const consume = async () => {
      for await (const part of decryptStream(pieces(concat(header, c0, c1, c2), 1000), key)) received.push(part);
    };
    await expect(consume()).rejects.toThrow(/truncated, no final chunk/);
    expect(concat(...received)).toEqual(plaintext.subarray(0, 2 * CHUNK));
  });
});

describe("key wrapping", () => {
  const recipient = deriveEncryptionKeyPair(ANVIL_KEY_0);
  const other = deriveEncryptionKeyPair(ANVIL_KEY_1);

  it("round-trips a content key to its recipient", () => {
    const contentKey = generateContentKey();
    const wrapped = wrapKey(contentKey, recipient.publicKey);
    expect(wrapped.length).toBe(WRAPPED_KEY_LENGTH);
    expect(unwrapKey(wrapped, recipient.privateKey)).toEqual(contentKey);
  });

  it("cannot be opened by another recipient", () => {
    const wrapped = wrapKey(generateContentKey(), recipient.publicKey);
    expect(() => unwrapKey(wrapped, other.privateKey)).toThrow(DecryptionError);
  });

  it("fails on any flipped byte", () => {
    const wrapped = wrapKey(generateContentKey(), recipient.publicKey);
    for (let position = 0; position < wrapped.length; position++) {
      expect(() => unwrapKey(flip(wrapped, position), recipient.privateKey), `byte ${position}`).toThrow(
        DecryptionError,
      );
    }
    expect(() => unwrapKey(wrapped.subarray(1), recipient.privateKey)).toThrow(DecryptionError);
  });

  it("differs on every wrap, since the sender key is ephemeral", () => {
    const contentKey = generateContentKey();
    const first = wrapKey(contentKey, recipient.publicKey);
    const second = wrapKey(contentKey, recipient.publicKey);
    expect(first).not.toEqual(second);
    expect(first.subarray(0, 32)).not.toEqual(second.subarray(0, 32));
  });

  it("refuses a low-order recipient public key", () => {
    expect(() => wrapKey(generateContentKey(), new Uint8Array(32))).toThrow(/low-order/);
  });

  it("travels in JSON as base64url", () => {
    const wrapped = wrapKey(generateContentKey(), recipient.publicKey);
    const text = encodeWrappedKey(wrapped);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeWrappedKey(text)).toEqual(wrapped);
    expect(() => decodeWrappedKey(`${text}!`)).toThrow(DecryptionError);
    expect(() => decodeWrappedKey(text.slice(0, -4))).toThrow(DecryptionError);
  });
});

describe("deriveEncryptionKeyPair", () => {
  it("is deterministic per Ethereum key and differs between keys", () => {
    const first = deriveEncryptionKeyPair(ANVIL_KEY_0);
    const again = deriveEncryptionKeyPair(ANVIL_KEY_0);
    const other = deriveEncryptionKeyPair(ANVIL_KEY_1);
    expect(again.privateKey).toEqual(first.privateKey);
    expect(again.publicKeyHex).toBe(first.publicKeyHex);
    expect(other.publicKeyHex).not.toBe(first.publicKeyHex);
    expect(first.publicKeyHex).toMatch(/^0x[0-9a-f]{64}$/);
    expect(encryptionPublicKeyFromPrivate(first.privateKey)).toEqual(first.publicKey);
  });

  it("gives a key pair that opens what was wrapped to its public key", () => {
    const { privateKey, publicKey } = deriveEncryptionKeyPair(ANVIL_KEY_0);
    const contentKey = generateContentKey();
    expect(unwrapKey(wrapKey(contentKey, publicKey), privateKey)).toEqual(contentKey);
  });

  it("refuses what is not a 32-byte hex private key", () => {
    expect(() => deriveEncryptionKeyPair("0x1234")).toThrow(/64 hex digits/);
  });

  it("derives the keys providers registered: anvil key 0's, as every earlier release derived it", () => {
    // Computed with @noble/curves' x25519 and @noble/hashes' HKDF before the switch to Node's crypto: a provider's
    // registered encryptionKey must not change with the library.
    expect(deriveEncryptionKeyPair(ANVIL_KEY_0).publicKeyHex).toBe(
      "0x7e0c8bc7d8d5db9ab33769cbf587d89aa5c5fcbaec85ca5a58e68e45ba681916",
    );
  });
});

describe("X25519 on Node's crypto (x25519.ts)", () => {
  // RFC 7748 section 6.1.
  const alice = hexToBytes("0x77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const alicePublic = "0x8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
  const bob = hexToBytes("0x5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  const bobPublic = "0xde9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
  const shared = "0x4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  const hex = (bytes: Uint8Array) => `0x${Buffer.from(bytes).toString("hex")}`;

  it("gives RFC 7748's public keys and shared secret", () => {
    expect(hex(x25519PublicKey(alice))).toBe(alicePublic);
    expect(hex(x25519PublicKey(bob))).toBe(bobPublic);
    expect(hex(x25519SharedSecret(alice, hexToBytes(bobPublic)))).toBe(shared);
    expect(hex(x25519SharedSecret(bob, hexToBytes(alicePublic)))).toBe(shared);
  });

  it("refuses a low-order peer key, in wrapping and unwrapping", () => {
    expect(() => x25519SharedSecret(alice, new Uint8Array(32))).toThrow();
    const wrapped = wrapKey(generateContentKey(), hexToBytes(bobPublic));
    wrapped.fill(0, 0, 32); // the ephemeral public key: u = 0
    expect(() => unwrapKey(wrapped, bob)).toThrow(/low-order/);
  });
});

describe("sealBlob", () => {
  it("encrypts under a fresh key, names the ciphertext and wraps the key to each recipient", () => {
    const plaintext = randomBytes(5000);
    const recipients = [deriveEncryptionKeyPair(ANVIL_KEY_0), deriveEncryptionKeyPair(ANVIL_KEY_1)];
    const sealed = sealBlob(
      plaintext,
      recipients.map((r) => r.publicKey),
    );
    expect(sealed.cid).toBe(contentId(sealed.ciphertext));
    expect(decryptBytes(sealed.ciphertext, sealed.key)).toEqual(plaintext);
    recipients.forEach((recipient, i) => {
      expect(unwrapKey(sealed.wrappedKeys[i] as Uint8Array, recipient.privateKey)).toEqual(sealed.key);
    });
  });
});
