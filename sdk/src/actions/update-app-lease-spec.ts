import type { Address, Hash } from "viem";
import type { PodnetClient } from "../client.js";
import {
  type ContractErrorType,
  type ErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
} from "../errors.js";
import { vaultAddress, writeVault } from "./internal/app-vault.js";
import type { WriteAndWaitErrorType } from "./internal/chain.js";

export type UpdateAppLeaseSpecParameters = {
  vault: Address;
  slot: number;
  /** The lease the slot must still hold (compare-and-swap). */
  leaseId: bigint;
};

export type UpdateAppLeaseSpecReturnType = { txHash: Hash };

export type UpdateAppLeaseSpecErrorType =
  | InvalidParameterErrorType
  | WriteAndWaitErrorType
  | ContractErrorType
  | ErrorType;

/**
 * Points an app's running lease at the app's current spec (after the owner's `setAppSpec`; a controller or the owner).
 * The vault passes its own `specHash` to the market, so a controller can move a lease to the spec the owner chose and
 * to nothing else. Send the new manifest afterwards (`deployPod`). Refused when the slot no longer holds `leaseId`.
 *
 * @throws {ContractError} `VaultSlotMismatch`, `VaultNotController`, `MarketLeaseNotRunning`.
 * @example
 * await client.updateAppLeaseSpec({ vault, slot: 0, leaseId });
 * await client.deployPod({ leaseId, manifest });
 */
export async function updateAppLeaseSpec(
  client: PodnetClient,
  params: UpdateAppLeaseSpecParameters,
): Promise<UpdateAppLeaseSpecReturnType> {
  if (!Number.isInteger(params.slot) || params.slot < 0) {
    throw new InvalidParameterError("slot", `must be a slot index (0 or more), got ${params.slot}`);
  }
  if (typeof params.leaseId !== "bigint" || params.leaseId <= 0n) {
    throw new InvalidParameterError("leaseId", "must be the lease the slot holds (a positive bigint)");
  }
  const receipt = await writeVault(client, "updateAppLeaseSpec", vaultAddress(params.vault), "updateLeaseSpec", [
    BigInt(params.slot),
    params.leaseId,
  ]);
  return { txHash: receipt.transactionHash };
}
