import type { Address, GetContractEventsErrorType, ReadContractErrorType } from "viem";
import type { PodnetClient } from "../client.js";
import type { ErrorType } from "../errors.js";
import { podnetMarketAbi } from "../protocol/index.js";
import { addresses, fromBlock } from "./internal/chain.js";

export type GetBidsParameters = {
  orderId: bigint;
};

/**
 * A bid's state: `active` can still win, `won` became the lease, `released` gave its stake back, `evicted` was
 * replaced by a better bid on a full order (its stake went back; its provider may bid again).
 */
export type BidStatus = "active" | "won" | "released" | "evicted";

export type OrderBid = {
  provider: Address;
  pricePerSecond: bigint;
  status: BidStatus;
  /** Stake the provider set aside as collateral while the bid stands. */
  reserved: bigint;
  /** Unix seconds. */
  placedAt: number;
};

export type GetBidsReturnType = OrderBid[];

const statuses = ["none", "active", "won", "released", "evicted"] as const;

export type GetBidsErrorType = GetContractEventsErrorType | ReadContractErrorType | ErrorType;

/**
 * The bids on an order (from its BidPlaced events) with their current status, cheapest first, earlier first on a
 * tie (the order in which the market itself ranks them).
 *
 * @example
 * const bids = await client.getBids({ orderId });
 * const cheapest = bids.find((b) => b.status === "active");
 */
export async function getBids(client: PodnetClient, params: GetBidsParameters): Promise<GetBidsReturnType> {
  const { market } = addresses(client);
  const events = await client.publicClient.getContractEvents({
    address: market,
    abi: podnetMarketAbi,
    eventName: "BidPlaced",
    args: { orderId: params.orderId },
    fromBlock: fromBlock(client),
    toBlock: "latest",
  });
  const providers = [...new Set(events.map((e) => e.args.provider as Address))];
  const bids = await Promise.all(
    providers.map(async (provider) => {
      const bid = await client.publicClient.readContract({
        address: market,
        abi: podnetMarketAbi,
        functionName: "getBid",
        args: [params.orderId, provider],
      });
      return {
        provider,
        pricePerSecond: bid.pricePerSecond,
        status: statuses[bid.status] as BidStatus,
        reserved: bid.reserved,
        placedAt: bid.placedAt,
      };
    }),
  );
  return bids
    .filter((b) => (b.status as string) !== "none")
    .sort((a, b) =>
      a.pricePerSecond !== b.pricePerSecond ? (a.pricePerSecond < b.pricePerSecond ? -1 : 1) : a.placedAt - b.placedAt,
    );
}
