import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from "node:crypto";

/**
 * X25519 (RFC 7748) on Node's own crypto (OpenSSL), the curve the blob keys are wrapped with. It replaced
 * @noble/curves' `x25519`: the same function (scalars clamped alike, the same outputs: RFC 7748's vectors in
 * crypto.test.ts), native instead of JavaScript, and one curve library fewer in every process that imports the SDK
 * (importing noble's ed25519 module alone cost 40 ms of CPU over a bare Node start; in the bundled bins' start the
 * difference was within the noise of ten runs).
 */

/** DER prefixes of a raw 32-byte X25519 key: PKCS #8 private key info, SubjectPublicKeyInfo (RFC 8410). */
const PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b656e032100", "hex");

function privateKeyObject(privateKey: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, privateKey]), format: "der", type: "pkcs8" });
}

/** The public key of a 32-byte private key (the scalar is clamped, as RFC 7748 says). */
export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  const spki = createPublicKey(privateKeyObject(privateKey)).export({ format: "der", type: "spki" });
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
}

/**
 * The shared secret of a private key and a peer's public key. Throws for a low-order peer key (OpenSSL refuses an
 * all-zero result, as RFC 7748 section 6.1 allows).
 */
export function x25519SharedSecret(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const peer = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: "der", type: "spki" });
  return new Uint8Array(diffieHellman({ privateKey: privateKeyObject(privateKey), publicKey: peer }));
}
