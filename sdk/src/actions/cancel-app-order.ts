import { type Address, type Hash, parseEventLogs } from "viem";
import type { PodnetClient } from "../client.js";
import { ContractError, type ContractErrorType, type ErrorType } from "../errors.js";
import { podnetMarketAbi } from "../protocol/index.js";
import { vaultAddress, writeVault } from "./internal/app-vault.js";
import type { WriteAndWaitErrorType } from "./internal/chain.js";

export type CancelAppOrderParameters = {
  vault: Address;
  orderId: bigint;
};

export type CancelAppOrderReturnType = {
  /** The order's whole deposit, back in the app's balance. */
  refund: bigint;
  txHash: Hash;
};

export type CancelAppOrderErrorType = WriteAndWaitErrorType | ContractErrorType | ErrorType;

/**
 * Cancels an app's open order (a controller or the owner); its deposit returns to the app's balance, and the bids on
 * it become releasable.
 *
 * @throws {ContractError} `MarketOrderNotOpen`, `MarketNotOrderPublisher`, `VaultNotController`.
 * @example
 * const { refund } = await client.cancelAppOrder({ vault, orderId });
 */
export async function cancelAppOrder(
  client: PodnetClient,
  params: CancelAppOrderParameters,
): Promise<CancelAppOrderReturnType> {
  const receipt = await writeVault(client, "cancelAppOrder", vaultAddress(params.vault), "cancelOrder", [
    params.orderId,
  ]);
  const [cancelled] = parseEventLogs({ abi: podnetMarketAbi, eventName: "OrderCancelled", logs: receipt.logs });
  if (!cancelled) {
    throw new ContractError(
      "cancelOrder",
      undefined,
      undefined,
      "mined without an OrderCancelled event",
      receipt.transactionHash,
    );
  }
  return { refund: cancelled.args.refund, txHash: receipt.transactionHash };
}
