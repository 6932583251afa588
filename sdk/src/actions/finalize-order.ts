import type { GetContractEventsErrorType, ReadContractErrorType } from "viem";
import type { PodnetClient } from "../client.js";
import type { ErrorType } from "../errors.js";
import { podnetMarketAbi, readStandingBidders } from "../protocol/index.js";
import { addresses, fromBlock, type WriteAndWaitErrorType, writeAndWait } from "./internal/chain.js";
import { type MatchedLease, type MatchedLeaseErrorType, matchedLease } from "./internal/order-match.js";

export type FinalizeOrderParameters = {
  orderId: bigint;
};

export type FinalizeOrderReturnType = MatchedLease;

export type FinalizeOrderErrorType =
  | GetContractEventsErrorType
  | ReadContractErrorType
  | WriteAndWaitErrorType
  | MatchedLeaseErrorType
  | ErrorType;

/**
 * Matches an auto-accept order to its lowest bid once bidding has closed. Anyone may call it (the publisher, a
 * winning provider's worker, a keeper); the order's deposit funds the new lease. It sends the order's standing
 * bidders (read from the chain, `readStandingBidders`), so when the best bidder can no longer back a lease (silent,
 * reported dark) the market matches the best bid that can.
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
  const { market } = addresses(client);
  const standing = await readStandingBidders(client.publicClient, {
    market,
    orderId: params.orderId,
    fromBlock: fromBlock(client),
  });
  const receipt = await writeAndWait(client, "finalizeOrder", {
    address: market,
    abi: podnetMarketAbi,
    functionName: "finalizeOrder",
    args: [params.orderId, standing],
  });
  return matchedLease("finalizeOrder", receipt);
}
