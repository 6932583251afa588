import type { ReadContractErrorType } from "viem";
import type { PodnetClient } from "../client.js";
import { type ErrorType, InvalidParameterError, type InvalidParameterErrorType } from "../errors.js";
import {
  escrowFor,
  type Pricing,
  podnetMarketAbi,
  pricePerSecond as priceFor,
  type Resources,
  splitWithdrawal,
} from "../protocol/index.js";
import { addresses } from "./internal/chain.js";

export type EstimateCostParameters = (
  | { /** A quoted or bid price. */ pricePerSecond: bigint }
  | { /** A provider's listed pricing… */ pricing: Pricing /** …for these resources. */; resources: Resources }
) & {
  /** Lease duration in whole seconds. */
  seconds: bigint | number;
  /** Protocol fee in basis points; default: the market's current `params().feeBps`. */
  feeBps?: number;
};

export type EstimateCostReturnType = {
  pricePerSecond: bigint;
  seconds: bigint;
  /** What the publisher pays (deposits into escrow) for the duration: pricePerSecond × seconds. */
  total: bigint;
  /** The protocol's cut of `total`, taken from the provider's withdrawal (rounded down, as the market does). */
  protocolFee: bigint;
  /** What reaches the provider: total − protocolFee. */
  providerNet: bigint;
  feeBps: number;
};

export type EstimateCostErrorType = InvalidParameterErrorType | ReadContractErrorType | ErrorType;

/**
 * The exact cost of running a pod for `seconds`, in token base units (integers, no rounding of the price). The
 * publisher pays `total`; the protocol fee is not added on top but taken from the provider's side when it withdraws
 * (`feeBps` of the gross, rounded down per withdrawal, so a provider withdrawing in several batches may pay a few
 * base units less in total).
 *
 * @example
 * const { total } = await client.estimateCost({ pricePerSecond: quote.pricePerSecond, seconds: 3600 });
 * await client.createLease({ quote, signature, deposit: total });
 */
export async function estimateCost(
  client: PodnetClient,
  params: EstimateCostParameters,
): Promise<EstimateCostReturnType> {
  let feeBps = params.feeBps;
  if (feeBps === undefined) {
    const marketParams = await client.publicClient.readContract({
      address: addresses(client).market,
      abi: podnetMarketAbi,
      functionName: "params",
    });
    feeBps = marketParams.feeBps;
  }
  const price = "pricePerSecond" in params ? params.pricePerSecond : priceFor(params.pricing, params.resources);
  return costOf(price, params.seconds, feeBps);
}

/** The arithmetic of {@link estimateCost}, without the chain read. */
export function costOf(pricePerSecond: bigint, seconds: bigint | number, feeBps: number): EstimateCostReturnType {
  if (typeof pricePerSecond !== "bigint" || pricePerSecond < 0n) {
    throw new InvalidParameterError("pricePerSecond", "must be a non-negative bigint");
  }
  if (typeof seconds === "number" && !Number.isSafeInteger(seconds)) {
    throw new InvalidParameterError("seconds", `must be a whole number, got ${seconds}`);
  }
  const s = BigInt(seconds);
  if (s < 0n) throw new InvalidParameterError("seconds", `must not be negative, got ${seconds}`);
  if (!Number.isInteger(feeBps) || feeBps < 0 || feeBps > 10_000) {
    throw new InvalidParameterError("feeBps", `must be 0..10000, got ${feeBps}`);
  }
  const total = escrowFor(pricePerSecond, s);
  // As if the provider withdrew everything at once; the market rounds the fee down per withdrawal.
  const { fee, net } = splitWithdrawal(total, BigInt(feeBps));
  return { pricePerSecond, seconds: s, total, protocolFee: fee, providerNet: net, feeBps };
}
