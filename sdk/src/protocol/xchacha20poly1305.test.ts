import { randomBytes } from "node:crypto";
import { xchacha20poly1305 as nobleXChaCha } from "@noble/ciphers/chacha.js";
import { bytesToHex, hexToBytes } from "viem";
import { describe, expect, it } from "vitest";
import { hchacha20, xchacha20poly1305 } from "./xchacha20poly1305.js";

const bytes = (n: number) => new Uint8Array(randomBytes(n));
/** Byte equality without vitest's element-by-element diff, which takes seconds on a MiB. */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

describe("HChaCha20 and XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03)", () => {
  it("gives the draft's HChaCha20 subkey (2.2.1)", () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const subkey = hchacha20(key, hexToBytes("0x000000090000004a0000000031415927"));
    expect(bytesToHex(subkey)).toBe("0x82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc");
  });

  it("gives the draft's AEAD ciphertext and tag (A.3.1), and opens them", () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i);
    const nonce = Uint8Array.from({ length: 24 }, (_, i) => 0x40 + i);
    const aad = hexToBytes("0x50515253c0c1c2c3c4c5c6c7");
    const plaintext = new TextEncoder().encode(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const sealed = xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
    expect(bytesToHex(sealed)).toBe(
      "0xbd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e" +
        "c0875924c1c7987947deafd8780acf49",
    );
    expect(xchacha20poly1305(key, nonce, aad).decrypt(sealed)).toEqual(plaintext);
  });
});

describe("native XChaCha20-Poly1305 against @noble/ciphers' (what the SDK used before)", () => {
  // Lengths around the 64-byte block and the 16-byte Poly1305 block, empty, and a blob chunk's size.
  const lengths = [0, 1, 15, 16, 17, 63, 64, 65, 255, 1000, 4096, 65_537, 1 << 20];

  it("seals every length byte for byte as noble does, with and without associated data", () => {
    for (const length of lengths) {
      for (const aad of [undefined, bytes(0), bytes(1), bytes(29), bytes(300)]) {
        const key = bytes(32);
        const nonce = bytes(24);
        const plaintext = bytes(length);
        const ours = xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
        const theirs = nobleXChaCha(key, nonce, aad).encrypt(plaintext);
        expect(same(ours, theirs), `length ${length}, aad ${aad?.length}`).toBe(true);
      }
    }
  });

  it("opens what noble sealed, and noble opens what it sealed", () => {
    for (const length of lengths) {
      const key = bytes(32);
      const nonce = bytes(24);
      const aad = bytes(length % 40);
      const plaintext = bytes(length);
      const opened = xchacha20poly1305(key, nonce, aad).decrypt(nobleXChaCha(key, nonce, aad).encrypt(plaintext));
      expect(same(opened, plaintext), `length ${length}`).toBe(true);
      const byNoble = nobleXChaCha(key, nonce, aad).decrypt(xchacha20poly1305(key, nonce, aad).encrypt(plaintext));
      expect(same(byNoble, plaintext), `length ${length}`).toBe(true);
    }
  });

  it("refuses any flipped byte of ciphertext or tag, another key, nonce or associated data, and a cut tag", () => {
    const key = bytes(32);
    const nonce = bytes(24);
    const aad = bytes(13);
    const sealed = xchacha20poly1305(key, nonce, aad).encrypt(bytes(100));
    for (let i = 0; i < sealed.length; i++) {
      const flipped = sealed.slice();
      flipped[i] = (flipped[i] as number) ^ 0x01;
      expect(() => xchacha20poly1305(key, nonce, aad).decrypt(flipped), `byte ${i}`).toThrow();
    }
    expect(() => xchacha20poly1305(bytes(32), nonce, aad).decrypt(sealed)).toThrow();
    const otherNonce = nonce.slice();
    otherNonce[3] = (otherNonce[3] as number) ^ 0x80; // the HChaCha20 half
    expect(() => xchacha20poly1305(key, otherNonce, aad).decrypt(sealed)).toThrow();
    const otherTail = nonce.slice();
    otherTail[20] = (otherTail[20] as number) ^ 0x80; // the half the RFC 8439 nonce keeps
    expect(() => xchacha20poly1305(key, otherTail, aad).decrypt(sealed)).toThrow();
    expect(() => xchacha20poly1305(key, nonce, bytes(13)).decrypt(sealed)).toThrow();
    expect(() => xchacha20poly1305(key, nonce).decrypt(sealed)).toThrow();
    expect(() => xchacha20poly1305(key, nonce, aad).decrypt(sealed.subarray(0, sealed.length - 1))).toThrow();
    expect(() => xchacha20poly1305(key, nonce, aad).decrypt(sealed.subarray(0, 15))).toThrow(/shorter than its tag/);
  });

  it("refuses keys and nonces of the wrong length", () => {
    expect(() => xchacha20poly1305(bytes(31), bytes(24))).toThrow(/key must be 32 bytes/);
    expect(() => xchacha20poly1305(bytes(32), bytes(12))).toThrow(/nonce must be 24 bytes/);
  });

  it("reads key and nonce at any offset of a larger buffer (subarrays)", () => {
    const backing = bytes(32 + 24 + 7);
    const key = backing.subarray(3, 35);
    const nonce = backing.subarray(35, 59);
    const plaintext = bytes(77);
    expect(xchacha20poly1305(key, nonce).encrypt(plaintext)).toEqual(
      nobleXChaCha(key.slice(), nonce.slice()).encrypt(plaintext),
    );
  });
});
