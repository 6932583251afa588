import { type Address, type Hash, type Hex, parseEventLogs } from "viem";
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
  appVaultAbi,
  encodeAttribute,
  manifestHash,
  manifestResources,
  parseManifest,
  podnetMarketAbi,
  type Resources,
} from "../protocol/index.js";
import { vaultAddress, writeVault } from "./internal/app-vault.js";
import { type ChainTimeErrorType, nextBlockTime, uint96, type WriteAndWaitErrorType } from "./internal/chain.js";

export type CreateAppOrderParameters = {
  vault: Address;
  /** The app's pod manifest: its hash must be the vault's specHash (the vault publishes its own). */
  manifest: unknown;
  /** The most the app pays per second (at most the vault's maxPricePerSecond). */
  maxPricePerSecond: bigint;
  /** Taken from the app's balance now (at most maxDepositPerLease); refunded to it by `cancelAppOrder`. */
  deposit: bigint;
  /** How long providers may bid, from the next block's time (at most the market's maxBidWindow). */
  bidWindowSeconds: number;
  /** `key=value` attributes every bidder must have. */
  attributes?: string[];
  /** Least bonded stake of a bidder, token base units. */
  minStake?: bigint;
};

export type CreateAppOrderReturnType = {
  orderId: bigint;
  specHash: Hex;
  resources: Resources;
  /** Unix seconds. */
  bidDeadline: number;
  txHash: Hash;
};

export type CreateAppOrderErrorType =
  | ManifestErrorType
  | InvalidParameterErrorType
  | ChainTimeErrorType
  | WriteAndWaitErrorType
  | ContractErrorType
  | ErrorType;

/**
 * Asks providers to bid for one instance of an app (reverse market, a controller or the owner): the vault escrows the
 * deposit from the app's balance and publishes its own spec hash; the order never auto-accepts (a match outside the
 * slots would be a lease no autoscaler counts). Follow with `getBids` and `acceptAppBid`, or `cancelAppOrder`.
 *
 * @throws {ContractError} `VaultTooManyOrders`, `VaultPriceAboveLimit`, `VaultDepositAboveLimit`,
 *   `VaultInsufficientBalance`, `MarketInvalidBidDeadline`, `MarketDepositTooLow`.
 * @example
 * const { orderId, bidDeadline } = await client.createAppOrder({
 *   vault, manifest, maxPricePerSecond: 1000n, deposit: 600_000n, bidWindowSeconds: 30,
 * });
 */
export async function createAppOrder(
  client: PodnetClient,
  params: CreateAppOrderParameters,
): Promise<CreateAppOrderReturnType> {
  const vault = vaultAddress(params.vault);
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
  const attributes = (params.attributes ?? []).map((text) => {
    const separator = text.indexOf("=");
    if (separator <= 0) throw new InvalidParameterError("attributes", `"${text}" is not key=value`);
    return encodeAttribute(text.slice(0, separator), text.slice(separator + 1));
  });
  const minStake = params.minStake ?? 0n;
  if (minStake < 0n || minStake >= 1n << 128n) {
    throw new InvalidParameterError("minStake", `must be in 0..2^128-1, got ${minStake}`);
  }
  // The vault orders its own spec: a manifest of another spec would win a provider who then refuses the manifest.
  const vaultSpec = await client.publicClient.readContract({
    address: vault,
    abi: appVaultAbi,
    functionName: "specHash",
  });
  if (vaultSpec.toLowerCase() !== specHash.toLowerCase()) {
    throw new InvalidParameterError("manifest", `hashes to ${specHash}, the app's spec is ${vaultSpec}`);
  }
  const bidDeadline = (await nextBlockTime(client)) + params.bidWindowSeconds;
  const receipt = await writeVault(client, "createAppOrder", vault, "createOrder", [
    resources,
    maxPrice,
    deposit,
    bidDeadline,
    { minStake, attributes },
  ]);
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
  };
}
