import { type Address, type GetAddressErrorType, getAddress } from "viem";
import type { PodnetClient } from "../client.js";
import { type ErrorType, InvalidParameterError, type InvalidParameterErrorType } from "../errors.js";
import { vaultAddress, writeVault } from "./internal/app-vault.js";
import type { WriteAndWaitErrorType } from "./internal/chain.js";
import { type MatchedLease, type MatchedLeaseErrorType, matchedLease } from "./internal/order-match.js";

export type AcceptAppBidParameters = {
  vault: Address;
  orderId: bigint;
  /** The bid to accept. No default: the caller checks the bidder against its own rules (app.yaml) first. */
  provider: Address;
  /** The slot the new lease goes into. */
  slot: number;
  /** The lease the slot must still hold (compare-and-swap; 0n for an empty slot); the vault closes it. */
  expectedLease: bigint;
};

export type AcceptAppBidReturnType = MatchedLease;

export type AcceptAppBidErrorType =
  | InvalidParameterErrorType
  | GetAddressErrorType
  | WriteAndWaitErrorType
  | MatchedLeaseErrorType
  | ErrorType;

/**
 * Accepts a provider's bid on an app's order into an instance slot (a controller or the owner): the vault checks the
 * slot (compare-and-swap), the spec and its price limit, closes the slot's old lease and the order's deposit funds the
 * new one. Send the manifest afterwards (`deployPod`).
 *
 * @throws {ContractError} `VaultSlotMismatch`, `VaultPriceAboveLimit`, `VaultSpecMismatch`, `MarketBidNotFound`,
 *   `MarketOrderExpired`.
 * @example
 * const { leaseId } = await client.acceptAppBid({ vault, orderId, provider, slot: 1, expectedLease: 0n });
 */
export async function acceptAppBid(
  client: PodnetClient,
  params: AcceptAppBidParameters,
): Promise<AcceptAppBidReturnType> {
  if (!Number.isInteger(params.slot) || params.slot < 0) {
    throw new InvalidParameterError("slot", `must be a slot index (0 or more), got ${params.slot}`);
  }
  if (typeof params.expectedLease !== "bigint" || params.expectedLease < 0n) {
    throw new InvalidParameterError("expectedLease", "must be the lease the slot holds, 0n when empty");
  }
  const receipt = await writeVault(client, "acceptAppBid", vaultAddress(params.vault), "acceptBid", [
    params.orderId,
    getAddress(params.provider),
    BigInt(params.slot),
    params.expectedLease,
  ]);
  return matchedLease("acceptAppBid", receipt);
}
