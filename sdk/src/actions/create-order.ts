import { type Hash, type Hex, parseEventLogs } from "viem";
import type { PodnetClient } from "../client.js";
import {
  ContractError,
  type ContractErrorType,
  type ErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
  type ManifestErrorType,
} from "../errors.js";
import {
  encodeAttribute,
  manifestHash,
  manifestResources,
  parseManifest,
  podnetMarketAbi,
  type Resources,
} from "../protocol/index.js";
import {
  addresses,
  type ChainTimeErrorType,
  type Funding,
  type FundMarketCallErrorType,
  fundMarketCall,
  nextBlockTime,
  uint96,
  type WriteAndWaitErrorType,
  writeAndWait,
} from "./internal/chain.js";

export type OrderRequirements = {
  /** Least bonded stake (free + locked) of a bidder, in token base units. */
  minStake?: bigint;
  /** `key=value` attributes every bidder must have, e.g. `["region=eu"]`. */
  attributes?: string[];
};

export type CreateOrderParameters = {
  /** The pod manifest; its hash and resources go on chain, the manifest itself goes to the winner (deployPod). */
  manifest: unknown;
  /** The most the publisher pays per second. */
  maxPricePerSecond: bigint;
  /** Escrowed now, moved to the lease when a bid is accepted; at least maxPricePerSecond × the minimum duration. */
  deposit: bigint;
  /** How long providers may bid, from the next block's time (at most the market's maxBidWindow). */
  bidWindowSeconds: number;
  requirements?: OrderRequirements;
  /** Let anyone match the order to the lowest bid after the bid window (default false: the publisher picks). */
  autoAccept?: boolean;
  /**
   * Let the market take the deposit when its allowance is short (default true): with a permit, else an exact
   * approval. False: {@link InsufficientAllowanceError} instead.
   */
  approve?: boolean;
  /** Use an EIP-2612 permit when the token takes them (default true); false approves exactly the deposit instead. */
  permit?: boolean;
};

export type CreateOrderReturnType = {
  orderId: bigint;
  specHash: Hex;
  resources: Resources;
  /** Unix seconds. */
  bidDeadline: number;
  txHash: Hash;
  /** How the deposit was paid for: the allowance (`createOrder`), a permit (`createOrderWithPermit`) or an approval. */
  funding: Funding["kind"];
  /** The approval sent first, if the allowance was short and the token takes no permit. */
  approveTxHash?: Hash;
};

/** `ErrorType` includes encodeAttribute's refusal of an attribute that does not fit on chain. */
export type CreateOrderErrorType =
  | ManifestErrorType
  | InvalidParameterErrorType
  | FundMarketCallErrorType
  | ChainTimeErrorType
  | WriteAndWaitErrorType
  | ContractErrorType
  | ErrorType;

/**
 * Asks providers to bid for a pod (reverse market): escrows `deposit` and publishes the spec hash, resources, price
 * cap and requirements (a short allowance is covered by a permit for exactly the deposit, `createOrderWithPermit` in
 * one transaction, or for a token without permits by an exact approval first). Providers' workers bid on their own; follow with `getBids` and `acceptBid`, or
 * `waitForLease` for an auto-accept order.
 *
 * @throws {ContractError} e.g. `MarketInvalidBidDeadline`, `MarketDepositTooLow`.
 * @example
 * const { orderId } = await client.createOrder({
 *   manifest, maxPricePerSecond: 10n ** 9n, deposit: 10n ** 9n * 3600n, bidWindowSeconds: 120,
 *   requirements: { attributes: ["region=eu"] },
 * });
 */
export async function createOrder(client: PodnetClient, params: CreateOrderParameters): Promise<CreateOrderReturnType> {
  const manifest = parseManifest(params.manifest);
  const specHash = manifestHash(manifest);
  const resources = manifestResources(manifest);
  const maxPrice = uint96("maxPricePerSecond", params.maxPricePerSecond);
  const deposit = uint96("deposit", params.deposit);
  if (!Number.isSafeInteger(params.bidWindowSeconds) || params.bidWindowSeconds <= 0) {
    throw new InvalidParameterError(
      "bidWindowSeconds",
      `must be a positive whole number, got ${params.bidWindowSeconds}`,
    );
  }
  const attributes = (params.requirements?.attributes ?? []).map((text) => {
    const separator = text.indexOf("=");
    if (separator <= 0) throw new InvalidParameterError("requirements.attributes", `"${text}" is not key=value`);
    return encodeAttribute(text.slice(0, separator), text.slice(separator + 1));
  });
  const minStake = params.requirements?.minStake ?? 0n;
  if (minStake < 0n || minStake >= 1n << 128n) {
    throw new InvalidParameterError("requirements.minStake", `must be in 0..2^128-1, got ${minStake}`);
  }
  const { market } = addresses(client);
  const funding = await fundMarketCall(client, "createOrder", deposit, {
    approve: params.approve ?? true,
    permit: params.permit ?? true,
  });
  const bidDeadline = (await nextBlockTime(client)) + params.bidWindowSeconds;
  const args = [
    specHash,
    resources,
    maxPrice,
    deposit,
    bidDeadline,
    { minStake, attributes },
    params.autoAccept ?? false,
  ] as const;
  const receipt =
    funding.kind === "permit"
      ? await writeAndWait(client, "createOrder", {
          address: market,
          abi: podnetMarketAbi,
          functionName: "createOrderWithPermit",
          args: [...args, funding.permit],
        })
      : await writeAndWait(client, "createOrder", {
          address: market,
          abi: podnetMarketAbi,
          functionName: "createOrder",
          args,
        });
  const [created] = parseEventLogs({ abi: podnetMarketAbi, eventName: "OrderCreated", logs: receipt.logs });
  if (!created) {
    throw new ContractError(
      "createOrder",
      undefined,
      undefined,
      "mined without an OrderCreated event",
      receipt.transactionHash,
    );
  }
  return {
    orderId: created.args.orderId,
    specHash,
    resources,
    bidDeadline,
    txHash: receipt.transactionHash,
    funding: funding.kind,
    ...(funding.kind === "approve" ? { approveTxHash: funding.approveTxHash } : {}),
  };
}
