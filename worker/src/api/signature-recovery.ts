/**
 * Who signed a 32-byte digest, recovered with libsecp256k1 (the `secp256k1` package's prebuilt native binding) where
 * it loads: every signed provider-API request pays one recovery before anything else is known about it, so its cost
 * bounds the signed routes' throughput and what a flood of forged requests costs the worker. Measured on this 2-core
 * machine (busy): 0.3 ms per recovery natively, 7 ms with viem's pure-JS one. Where no prebuilt binding fits the
 * platform, verification falls back to viem's (same answers, slower); the worker logs which one it uses.
 */
import { createRequire } from "node:module";
import { type Address, getAddress, type Hex, hexToBytes, keccak256 } from "viem";

interface NativeSecp256k1 {
  ecdsaRecover(signature: Uint8Array, recoveryId: number, message32: Uint8Array, compressed?: boolean): Uint8Array;
}

function loadNative(): NativeSecp256k1 | undefined {
  try {
    // `secp256k1/bindings` is the native build alone (the package's main entry would fall back to `elliptic` silently).
    return createRequire(import.meta.url)("secp256k1/bindings") as NativeSecp256k1;
  } catch {
    return undefined;
  }
}

const native = loadNative();

/** Which recovery the worker verifies signatures with: "libsecp256k1" (native) or "viem" (pure JS). */
export const signatureRecoveryKind: "libsecp256k1" | "viem" = native ? "libsecp256k1" : "viem";

/**
 * The address whose key signed `digest`, natively; undefined when no native binding loaded (callers then use viem's
 * `recoverAddress`). Only 65-byte signatures (r, s, v with v 0/1/27/28) are taken; others throw, like a signature that
 * recovers to no point.
 */
export const recoverAddressNative: ((digest: Hex, signature: Hex) => Address) | undefined = native
  ? (digest, signature) => {
      const bytes = hexToBytes(signature);
      if (bytes.length !== 65) throw new Error(`signature: ${bytes.length} bytes, 65 expected`);
      const v = bytes[64] as number;
      const recoveryId = v >= 27 ? v - 27 : v;
      if (recoveryId !== 0 && recoveryId !== 1) throw new Error(`signature: v ${v} is not 0, 1, 27 or 28`);
      const publicKey = native.ecdsaRecover(bytes.subarray(0, 64), recoveryId, hexToBytes(digest), false);
      // The address is the last 20 bytes of keccak256 over the uncompressed key without its 0x04 prefix.
      return getAddress(`0x${keccak256(publicKey.subarray(1)).slice(-40)}`);
    }
  : undefined;
