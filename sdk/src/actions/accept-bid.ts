import { type Address, type GetAddressErrorType, getAddress } from "viem";
import type { PodnetClient } from "../client.js";
import { type ErrorType, NotFoundError, type NotFoundErrorType } from "../errors.js";
import { podnetMarketAbi } from "../protocol/index.js";
import { type GetBidsErrorType, getBids } from "./get-bids.js";
import { addresses, type WriteAndWaitErrorType, writeAndWait } from "./internal/chain.js";
import { type MatchedLease, type MatchedLeaseErrorType, matchedLease } from "./internal/order-match.js";

export type AcceptBidParameters = {
  orderId: bigint;
  /** The bid to accept; default: the lowest active bid (earliest on a tie). */
  provider?: Address;
};

export type AcceptBidReturnType = MatchedLease;

export type AcceptBidErrorType =
  | NotFoundErrorType
  | GetAddressErrorType
  | GetBidsErrorType
  | WriteAndWaitErrorType
  | MatchedLeaseErrorType
  | ErrorType;

/**
 * Accepts a bid on the publisher's order: the order's deposit funds a new lease with that provider. Possible while
 * bidding is still open and until the order's accept window ends.
 *
 * @throws {NotFoundError} when the order has no active bid.
 * @throws {ContractError} e.g. `MarketNotOrderPublisher`, `MarketOrderExpired`, `MarketBidNotFound`.
 * @example
 * const { leaseId, provider } = await client.acceptBid({ orderId });
 * await client.deployPod({ leaseId, manifest });
 */
export async function acceptBid(client: PodnetClient, params: AcceptBidParameters): Promise<AcceptBidReturnType> {
  let provider = params.provider ? getAddress(params.provider) : undefined;
  if (!provider) {
    const best = (await getBids(client, { orderId: params.orderId })).find((b) => b.status === "active");
    if (!best) throw new NotFoundError("bid", `on order ${params.orderId}`, "no active bid to accept");
    provider = best.provider;
  }
  const receipt = await writeAndWait(client, "acceptBid", {
    address: addresses(client).market,
    abi: podnetMarketAbi,
    functionName: "acceptBid",
    args: [params.orderId, provider],
  });
  return matchedLease("acceptBid", receipt);
}
