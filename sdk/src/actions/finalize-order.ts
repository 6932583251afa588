import type { PodnetClient } from "../client.js";
import type { ErrorType } from "../errors.js";
import { podnetMarketAbi } from "../protocol/index.js";
import { addresses, type WriteAndWaitErrorType, writeAndWait } from "./internal/chain.js";
import { type MatchedLease, type MatchedLeaseErrorType, matchedLease } from "./internal/order-match.js";

export type FinalizeOrderParameters = {
  orderId: bigint;
};

export type FinalizeOrderReturnType = MatchedLease;

export type FinalizeOrderErrorType = WriteAndWaitErrorType | MatchedLeaseErrorType | ErrorType;

/**
 * Matches an auto-accept order to its lowest bid once bidding has closed. Anyone may call it (the publisher, a
 * winning provider's worker, a keeper); the order's deposit funds the new lease.
 *
 * @throws {ContractError} e.g. `MarketBiddingOpen` before the deadline, `MarketAutoAcceptDisabled`, `MarketNoBids`.
 * @example
 * const { orderId, bidDeadline } = await client.createOrder({ manifest, maxPricePerSecond, deposit,
 *   bidWindowSeconds: 60, autoAccept: true });
 * // ... after bidDeadline:
 * const { leaseId } = await client.finalizeOrder({ orderId });
 */
export async function finalizeOrder(
  client: PodnetClient,
  params: FinalizeOrderParameters,
): Promise<FinalizeOrderReturnType> {
  const receipt = await writeAndWait(client, "finalizeOrder", {
    address: addresses(client).market,
    abi: podnetMarketAbi,
    functionName: "finalizeOrder",
    // No standing-bidder list: the best bid alone (the market falls through to the next valid bid only with the list).
    args: [params.orderId, []],
  });
  return matchedLease("finalizeOrder", receipt);
}
