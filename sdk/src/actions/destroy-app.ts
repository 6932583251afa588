import { type Address, type Hash, parseEventLogs } from "viem";
import type { PodnetClient } from "../client.js";
import {
  type ContractErrorType,
  type ErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
} from "../errors.js";
import { podnetMarketAbi } from "../protocol/index.js";
import { type ClearAppSlotErrorType, clearAppSlot } from "./clear-app-slot.js";
import { type GetAppErrorType, getApp } from "./get-app.js";
import { vaultAddress, writeVault } from "./internal/app-vault.js";
import { addresses, fromBlock, type WriteAndWaitErrorType } from "./internal/chain.js";
import { requireWallet } from "./internal/wallet.js";
import { type WithdrawFromAppErrorType, withdrawFromApp } from "./withdraw-from-app.js";

export type DestroyAppParameters = {
  vault: Address;
  /** Where the balance goes. Default: the wallet account (the owner). */
  to?: Address;
};

export type DestroyAppReturnType = {
  /** The limits were set to zero first (false: they already were), so no controller can lease again. */
  limitsZeroed: boolean;
  /** Slots emptied; `closed` when the lease was still active (its unspent escrow came back as `refund`). */
  clearedSlots: { slot: number; leaseId: bigint; closed: boolean; refund: bigint }[];
  /** Open orders of the app cancelled, their deposits back in the balance. */
  cancelledOrders: { orderId: bigint; refund: bigint }[];
  /** What was sent to `to` (0 when the app was empty). */
  withdrawn: bigint;
  to: Address;
  txHashes: Hash[];
};

export type DestroyAppErrorType =
  | InvalidParameterErrorType
  | GetAppErrorType
  | ClearAppSlotErrorType
  | WithdrawFromAppErrorType
  | WriteAndWaitErrorType
  | ContractErrorType
  | ErrorType;

/**
 * Winds an app down (owner only): sets its limits to zero so no controller can spend again, clears every slot
 * (closing leases still active; their unspent escrow returns to the app), cancels its open orders (their deposits
 * return), then withdraws the whole balance to the owner. Idempotent: run again, it finds nothing left and does
 * nothing; a run interrupted half-way is finished by the next. The vault itself stays (contracts cannot be removed).
 *
 * @throws {InvalidParameterError} `vault` when the wallet is not the app's owner (before anything is changed).
 * @example
 * const { withdrawn, clearedSlots } = await client.destroyApp({ vault });
 */
export async function destroyApp(client: PodnetClient, params: DestroyAppParameters): Promise<DestroyAppReturnType> {
  const vault = vaultAddress(params.vault);
  const { address: account } = requireWallet(client, "destroyApp");
  const app = await getApp(client, { vault });
  if (app.owner.toLowerCase() !== account.toLowerCase()) {
    throw new InvalidParameterError("vault", `${vault} is owned by ${app.owner}, not by the wallet account ${account}`);
  }
  const txHashes: Hash[] = [];
  const { limits } = app;
  const limitsZeroed = limits.maxInstances !== 0 || limits.maxPricePerSecond !== 0n || limits.maxDepositPerLease !== 0n;
  if (limitsZeroed) {
    const receipt = await writeVault(client, "destroyApp", vault, "setLimits", [
      { maxPricePerSecond: 0n, maxDepositPerLease: 0n, maxInstances: 0 },
    ]);
    txHashes.push(receipt.transactionHash);
  }
  const clearedSlots: DestroyAppReturnType["clearedSlots"] = [];
  for (const { slot, leaseId } of app.slots) {
    if (leaseId === 0n) continue;
    const cleared = await clearAppSlot(client, { vault, slot, leaseId });
    clearedSlots.push({ slot, leaseId, closed: cleared.closed, refund: cleared.refund });
    txHashes.push(cleared.txHash);
  }
  const cancelledOrders: DestroyAppReturnType["cancelledOrders"] = [];
  if (app.openOrders > 0n) {
    const { market } = addresses(client);
    const created = await client.publicClient.getContractEvents({
      address: market,
      abi: podnetMarketAbi,
      eventName: "OrderCreated",
      args: { publisher: vault },
      fromBlock: fromBlock(client),
    });
    for (const log of created) {
      const orderId = log.args.orderId as bigint;
      const order = await client.publicClient.readContract({
        address: market,
        abi: podnetMarketAbi,
        functionName: "getOrder",
        args: [orderId],
      });
      if (order.status !== 1) continue; // OrderStatus.Open
      const receipt = await writeVault(client, "destroyApp", vault, "cancelOrder", [orderId]);
      const [cancelled] = parseEventLogs({ abi: podnetMarketAbi, eventName: "OrderCancelled", logs: receipt.logs });
      cancelledOrders.push({ orderId, refund: cancelled?.args.refund ?? 0n });
      txHashes.push(receipt.transactionHash);
    }
  }
  const withdrawal = await withdrawFromApp(client, { vault, amount: "all", ...(params.to ? { to: params.to } : {}) });
  if (withdrawal.txHash) txHashes.push(withdrawal.txHash);
  return { limitsZeroed, clearedSlots, cancelledOrders, withdrawn: withdrawal.amount, to: withdrawal.to, txHashes };
}
