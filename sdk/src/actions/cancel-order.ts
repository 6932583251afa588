import { type Hash, parseEventLogs } from "viem";
import type { PodnetClient } from "../client.js";
import { ContractError, type ContractErrorType, type ErrorType } from "../errors.js";
import { podnetMarketAbi } from "../protocol/index.js";
import { addresses, type WriteAndWaitErrorType, writeAndWait } from "./internal/chain.js";

export type CancelOrderParameters = {
  orderId: bigint;
};

export type CancelOrderReturnType = {
  /** The whole deposit, back in the publisher's wallet. */
  refund: bigint;
  txHash: Hash;
};

/** A ContractError also when the mined transaction has no OrderCancelled event. */
export type CancelOrderErrorType = WriteAndWaitErrorType | ContractErrorType | ErrorType;

/**
 * Cancels the publisher's open order and returns its deposit; providers' bids on it become releasable.
 *
 * @throws {ContractError} e.g. `MarketNotOrderPublisher`, `MarketOrderNotOpen`.
 * @example
 * const { refund } = await client.cancelOrder({ orderId });
 */
export async function cancelOrder(client: PodnetClient, params: CancelOrderParameters): Promise<CancelOrderReturnType> {
  const receipt = await writeAndWait(client, "cancelOrder", {
    address: addresses(client).market,
    abi: podnetMarketAbi,
    functionName: "cancelOrder",
    args: [params.orderId],
  });
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
