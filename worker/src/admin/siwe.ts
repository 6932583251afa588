import { type Address, type Hex, isAddressEqual, isHex, verifyMessage } from "viem";
import { generateSiweNonce, parseSiweMessage, validateSiweMessage } from "viem/siwe";

/** A nonce handed out by GET /admin/v1/sign-in/siwe/nonce is good for this long. */
export const SIWE_NONCE_TTL_MS = 5 * 60_000;
/** Nonces outstanding at most; past it the oldest is dropped (it cannot be used any more). */
export const MAX_SIWE_NONCES = 1000;
/** Longest message accepted: EIP-4361 messages are a few hundred bytes. */
const MAX_MESSAGE_LENGTH = 4096;

/** What a Sign-In with Ethereum message must say to open a session on this worker. */
export interface SiweExpectations {
  /** The provider's address: only its key signs in. */
  address: Address;
  chainId: number;
  /** The console's origins (scheme://host:port): the message's `uri` must be one, its `domain` that origin's host. */
  origins: string[];
}

/**
 * EIP-4361 sign-in (viem/siwe). The worker hands out nonces, each usable once and for {@link SIWE_NONCE_TTL_MS}; a
 * message is accepted when it parses, names this provider's address, one of the console's domains and URIs and this
 * chain's id, carries an outstanding nonce, is within its own notBefore/expirationTime, and the signature recovers to
 * the provider's address (an EOA: recovered locally, no RPC call). The nonce is used up by the attempt whether it
 * succeeds or not, so a signature cannot be tried twice.
 */
export class SiweSignIn {
  private readonly nonces = new Map<string, number>();

  constructor(
    private readonly expect: () => SiweExpectations,
    private readonly now: () => number = Date.now,
  ) {}

  nonce(): string {
    const now = this.now();
    for (const [nonce, expiresAt] of this.nonces) if (now >= expiresAt) this.nonces.delete(nonce);
    while (this.nonces.size >= MAX_SIWE_NONCES) this.nonces.delete(this.nonces.keys().next().value as string);
    const nonce = generateSiweNonce();
    this.nonces.set(nonce, now + SIWE_NONCE_TTL_MS);
    return nonce;
  }

  /** Checks a signed message; returns the signer, or throws an Error naming what is wrong. */
  async verify(message: unknown, signature: unknown): Promise<Address> {
    if (typeof message !== "string" || message.length === 0 || message.length > MAX_MESSAGE_LENGTH) {
      throw new Error(`message: must be an EIP-4361 message of at most ${MAX_MESSAGE_LENGTH} characters`);
    }
    if (typeof signature !== "string" || !isHex(signature) || signature.length !== 132) {
      throw new Error("signature: must be a 65-byte 0x-prefixed hex signature");
    }
    const fields = parseSiweMessage(message);
    const nonce = fields.nonce;
    const issued = nonce === undefined ? undefined : this.nonces.get(nonce);
    // Used up by this attempt, whatever its outcome.
    if (nonce !== undefined) this.nonces.delete(nonce);
    const now = this.now();
    if (issued === undefined || now >= issued) throw new Error("nonce: unknown, used or expired; ask for a new one");
    const { address, chainId, origins } = this.expect();
    if (!fields.address || !isAddressEqual(fields.address, address)) {
      throw new Error("address: not this provider's address");
    }
    if (fields.chainId !== chainId) throw new Error(`chainId: must be ${chainId}`);
    const origin = origins.find((o) => fields.uri !== undefined && sameOrigin(fields.uri, o));
    if (!origin) throw new Error("uri: not this console's address");
    const domain = new URL(origin).host;
    if (fields.version !== "1") throw new Error("version: must be 1");
    if (!validateSiweMessage({ message: fields, address, domain, nonce, time: new Date(now) })) {
      throw new Error("message: wrong domain, expired or not yet valid");
    }
    const valid = await verifyMessage({ address, message, signature: signature as Hex }).catch(() => false);
    if (!valid) throw new Error("signature: not signed by this provider's key");
    return address;
  }
}

function sameOrigin(uri: string, origin: string) {
  try {
    return new URL(uri).origin === new URL(origin).origin;
  } catch {
    return false;
  }
}
