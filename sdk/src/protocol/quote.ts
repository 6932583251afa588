import { type Address, hashTypedData, type TypedDataDomain } from "viem";
import type { Quote } from "./types.js";

/** EIP-712 domain of a PodnetMarket deployment. Name and version match the contract's constructor. */
export function quoteDomain(chainId: number, market: Address): TypedDataDomain {
  return { name: "Podnet", version: "1", chainId, verifyingContract: market };
}

/** EIP-712 types of a quote; field order and widths match PodnetMarket.QUOTE_TYPEHASH. */
export const quoteTypes = {
  Resources: [
    { name: "cpuMillis", type: "uint32" },
    { name: "memoryMiB", type: "uint32" },
    { name: "storageMiB", type: "uint32" },
  ],
  Quote: [
    { name: "provider", type: "address" },
    { name: "publisher", type: "address" },
    { name: "specHash", type: "bytes32" },
    { name: "resources", type: "Resources" },
    { name: "pricePerSecond", type: "uint96" },
    { name: "validUntil", type: "uint40" },
    { name: "attestationHash", type: "bytes32" },
    { name: "nonce", type: "uint256" },
  ],
} as const;

/**
 * The EIP-712 typed data of `quote` at a market: what a provider signs and a publisher (or the contract) recovers
 * the provider from, built in one place (as request-signing.ts builds a signed request's).
 *
 * @example
 * const signature = await providerAccount.signTypedData(quoteTypedData(quote, 31337, market));
 */
export function quoteTypedData(quote: Quote, chainId: number, market: Address) {
  return { domain: quoteDomain(chainId, market), types: quoteTypes, primaryType: "Quote", message: quote } as const;
}

/** The digest a provider signs for `quote` (equals PodnetMarket.hashQuote). */
export function hashQuote(quote: Quote, chainId: number, market: Address) {
  return hashTypedData(quoteTypedData(quote, chainId, market));
}
