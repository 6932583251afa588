import { type Address, type Hash, parseEventLogs } from "viem";
import type { PodnetClient } from "../client.js";
import {
  ContractError,
  type ContractErrorType,
  type ErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
} from "../errors.js";
import { appVaultAbi, podnetMarketAbi } from "../protocol/index.js";
import { vaultAddress, writeVault } from "./internal/app-vault.js";
import type { WriteAndWaitErrorType } from "./internal/chain.js";

export type ClearAppSlotParameters = {
  vault: Address;
  slot: number;
  /** The lease the slot must still hold (compare-and-swap): not 0. */
  leaseId: bigint;
};

export type ClearAppSlotReturnType = {
  /** The lease was still active and was closed in the same transaction. */
  closed: boolean;
  /** Unspent escrow returned to the app's balance (0 when the lease had already ended). */
  refund: bigint;
  txHash: Hash;
};

export type ClearAppSlotErrorType = InvalidParameterErrorType | WriteAndWaitErrorType | ContractErrorType | ErrorType;

/**
 * Empties an instance slot of an app (a controller or the owner), closing its lease if it is still active; the unspent
 * escrow comes back to the app's balance. Compare-and-swap: refused when the slot no longer holds `leaseId`.
 *
 * @throws {ContractError} `VaultSlotMismatch`, `VaultSlotEmpty`, `VaultNotController`.
 * @example
 * await client.clearAppSlot({ vault, slot: 1, leaseId: 7n });
 */
export async function clearAppSlot(
  client: PodnetClient,
  params: ClearAppSlotParameters,
): Promise<ClearAppSlotReturnType> {
  if (!Number.isInteger(params.slot) || params.slot < 0) {
    throw new InvalidParameterError("slot", `must be a slot index (0 or more), got ${params.slot}`);
  }
  if (typeof params.leaseId !== "bigint" || params.leaseId <= 0n) {
    throw new InvalidParameterError("leaseId", "must be the lease the slot holds (a positive bigint)");
  }
  const receipt = await writeVault(client, "clearAppSlot", vaultAddress(params.vault), "clearSlot", [
    BigInt(params.slot),
    params.leaseId,
  ]);
  const cleared = parseEventLogs({ abi: appVaultAbi, eventName: "SlotCleared", logs: receipt.logs });
  const [closed] = parseEventLogs({ abi: podnetMarketAbi, eventName: "LeaseClosed", logs: receipt.logs }).filter(
    (e) => e.args.leaseId === params.leaseId,
  );
  if (cleared.length === 0) {
    throw new ContractError(
      "clearSlot",
      undefined,
      undefined,
      "mined without a SlotCleared event",
      receipt.transactionHash,
    );
  }
  return { closed: closed !== undefined, refund: closed?.args.refund ?? 0n, txHash: receipt.transactionHash };
}
