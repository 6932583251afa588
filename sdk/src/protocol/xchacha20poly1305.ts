import { createCipheriv, createDecipheriv } from "node:crypto";

/**
 * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03) on Node's native ChaCha20-Poly1305 (OpenSSL): the 24-byte nonce's
 * first 16 bytes and the key give a subkey through HChaCha20 (below, 20 rounds on 16 words: nothing to gain natively),
 * and the subkey seals with the RFC 8439 AEAD under the nonce `0x00000000 || nonce[16..24]`. The output is the
 * ciphertext followed by the 16-byte tag, the layout of @noble/ciphers' `xchacha20poly1305`, which the SDK used
 * before and which xchacha20poly1305.test.ts checks it against byte for byte. About ten times noble's speed: the
 * publisher seals every image blob and the provider opens it before the pod starts (docs/protocol.md).
 */

const KEY_LENGTH = 32;
/** The extended nonce: 16 bytes for the subkey, 8 for the RFC 8439 nonce. */
export const NONCE_LENGTH = 24;
/** Poly1305's tag, appended to the ciphertext. */
export const TAG_LENGTH = 16;

const rotl = (x: number, n: number) => (x << n) | (x >>> (32 - n));

function quarterRound(s: Uint32Array, a: number, b: number, c: number, d: number) {
  s[a] = (s[a] as number) + (s[b] as number);
  s[d] = rotl((s[d] as number) ^ (s[a] as number), 16);
  s[c] = (s[c] as number) + (s[d] as number);
  s[b] = rotl((s[b] as number) ^ (s[c] as number), 12);
  s[a] = (s[a] as number) + (s[b] as number);
  s[d] = rotl((s[d] as number) ^ (s[a] as number), 8);
  s[c] = (s[c] as number) + (s[d] as number);
  s[b] = rotl((s[b] as number) ^ (s[c] as number), 7);
}

/** HChaCha20: the ChaCha20 block function's rounds on key and 16-byte input, without the final addition. */
export function hchacha20(key: Uint8Array, input: Uint8Array): Uint8Array {
  // "expand 32-byte k", then the key and the input, as little-endian words whatever the host's byte order.
  const s = new Uint32Array(16);
  s.set([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
  const k = new DataView(key.buffer, key.byteOffset, KEY_LENGTH);
  for (let i = 0; i < 8; i++) s[4 + i] = k.getUint32(4 * i, true);
  const n = new DataView(input.buffer, input.byteOffset, 16);
  for (let i = 0; i < 4; i++) s[12 + i] = n.getUint32(4 * i, true);
  for (let round = 0; round < 10; round++) {
    quarterRound(s, 0, 4, 8, 12);
    quarterRound(s, 1, 5, 9, 13);
    quarterRound(s, 2, 6, 10, 14);
    quarterRound(s, 3, 7, 11, 15);
    quarterRound(s, 0, 5, 10, 15);
    quarterRound(s, 1, 6, 11, 12);
    quarterRound(s, 2, 7, 8, 13);
    quarterRound(s, 3, 4, 9, 14);
  }
  const out = new Uint8Array(32);
  const o = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) {
    o.setUint32(4 * i, s[i] as number, true);
    o.setUint32(16 + 4 * i, s[12 + i] as number, true);
  }
  return out;
}

/** The RFC 8439 key and 12-byte nonce that XChaCha20-Poly1305's key and 24-byte nonce stand for. */
function rfc8439Parameters(key: Uint8Array, nonce: Uint8Array): { subkey: Uint8Array; iv: Uint8Array } {
  if (key.length !== KEY_LENGTH) throw new Error(`xchacha20poly1305: key must be ${KEY_LENGTH} bytes`);
  if (nonce.length !== NONCE_LENGTH) throw new Error(`xchacha20poly1305: nonce must be ${NONCE_LENGTH} bytes`);
  const iv = new Uint8Array(12);
  iv.set(nonce.subarray(16, 24), 4);
  return { subkey: hchacha20(key, nonce.subarray(0, 16)), iv };
}

/**
 * The AEAD for one key, nonce and associated data: `encrypt` returns ciphertext || tag; `decrypt` returns the
 * plaintext or throws when the tag does not authenticate (a wrong key, nonce or AAD, any flipped byte).
 */
export function xchacha20poly1305(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array = new Uint8Array()) {
  const { subkey, iv } = rfc8439Parameters(key, nonce);
  return {
    encrypt(plaintext: Uint8Array): Uint8Array {
      const cipher = createCipheriv("chacha20-poly1305", subkey, iv, { authTagLength: TAG_LENGTH });
      cipher.setAAD(aad, { plaintextLength: plaintext.length });
      const out = new Uint8Array(plaintext.length + TAG_LENGTH);
      out.set(cipher.update(plaintext), 0);
      cipher.final();
      out.set(cipher.getAuthTag(), plaintext.length);
      return out;
    },
    decrypt(sealed: Uint8Array): Uint8Array {
      if (sealed.length < TAG_LENGTH) throw new Error("xchacha20poly1305: ciphertext shorter than its tag");
      const body = sealed.subarray(0, sealed.length - TAG_LENGTH);
      const decipher = createDecipheriv("chacha20-poly1305", subkey, iv, { authTagLength: TAG_LENGTH });
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
      decipher.setAAD(aad, { plaintextLength: body.length });
      const plaintext = decipher.update(body);
      // Throws "Unsupported state or unable to authenticate data" on a bad tag; nothing is returned before it.
      decipher.final();
      return new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
    },
  };
}
