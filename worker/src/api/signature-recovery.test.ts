import fc from "fast-check";
import { type Hex, hexToBytes, keccak256, recoverAddress, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { recoverAddressNative, signatureRecoveryKind } from "./signature-recovery.js";

// The native recovery must answer exactly as viem's, which the SDK and the rest of the protocol use: same signer for
// every valid signature, a refusal for every signature viem refuses.
describe("native signature recovery", () => {
  it("loads on this platform (linux x64 has a prebuilt binding)", () => {
    expect(signatureRecoveryKind).toBe("libsecp256k1");
  });

  const recover = recoverAddressNative as (digest: Hex, signature: Hex) => string;

  it("recovers the signer of any digest, with v as 27/28 or 0/1", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        async (key, message) => {
          const secret = keccak256(key); // a valid private key with overwhelming probability
          const account = privateKeyToAccount(secret);
          const digest = keccak256(message);
          const signature = await account.sign({ hash: digest });
          expect(recover(digest, signature)).toBe(account.address);
          const bytes = hexToBytes(signature);
          bytes[64] = (bytes[64] as number) - 27;
          expect(recover(digest, toHex(bytes))).toBe(account.address);
        },
      ),
      { numRuns: 100, seed: 15 },
    );
  });

  it("agrees with viem on arbitrary 65-byte signatures: the same address, or both refuse", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.constantFrom(0, 1, 27, 28),
        async (digestBytes, rs, v) => {
          const digest = toHex(digestBytes);
          const signature = toHex(new Uint8Array([...rs, v]));
          const viem = await recoverAddress({ hash: digest, signature }).catch(() => "refused");
          let ours: string;
          try {
            ours = recover(digest, signature);
          } catch {
            ours = "refused";
          }
          expect(ours).toBe(viem);
        },
      ),
      { numRuns: 200, seed: 15 },
    );
  });

  it("refuses a zero r or s, a v other than 0/1/27/28 and a signature of the wrong length", async () => {
    const account = privateKeyToAccount(keccak256("0x01"));
    const digest = keccak256("0x02");
    const good = hexToBytes(await account.sign({ hash: digest }));
    const zeroR = Uint8Array.from(good).fill(0, 0, 32);
    const zeroS = Uint8Array.from(good).fill(0, 32, 64);
    const badV = Uint8Array.from(good);
    badV[64] = 29;
    for (const bad of [zeroR, zeroS, badV, good.subarray(0, 64), new Uint8Array([...good, 0])]) {
      expect(() => recover(digest, toHex(bad)), toHex(bad)).toThrow();
    }
  });
});
