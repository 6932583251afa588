import type { Address, PublicClient } from "viem";
import { podnetMarketAbi } from "./abis.js";

/** `BidStatus.Active` in the market's enum (None, Active, Won, Released, Evicted). */
const ACTIVE = 1;

/**
 * The list `placeBid` and `finalizeOrder` take: every standing (active) bid's provider, in strictly ascending address
 * order. The market keeps no list of an order's bids, so the caller brings it and the market checks it against its
 * count (it reads it only when the order is full or its best bid cannot back a lease).
 */
export function standingBidderList(bids: readonly { provider: Address; active: boolean }[]): Address[] {
  const unique = new Map<bigint, Address>();
  for (const bid of bids) if (bid.active) unique.set(BigInt(bid.provider), bid.provider);
  return [...unique.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, provider]) => provider);
}

export type ReadStandingBiddersParameters = {
  market: Address;
  orderId: bigint;
  /** The market's deploy block: no bid is older. */
  fromBlock: bigint;
};

/**
 * Reads an order's standing bidders from the chain: the providers of its `BidPlaced` events whose bid is still
 * active now (`getBid`), in the order the market requires. Evicted, released and won bids drop out by their status,
 * so no other event needs following.
 */
export async function readStandingBidders(
  publicClient: PublicClient,
  params: ReadStandingBiddersParameters,
): Promise<Address[]> {
  const events = await publicClient.getContractEvents({
    address: params.market,
    abi: podnetMarketAbi,
    eventName: "BidPlaced",
    args: { orderId: params.orderId },
    fromBlock: params.fromBlock,
    toBlock: "latest",
  });
  const providers = [...new Set(events.map((e) => e.args.provider as Address))];
  const bids = await Promise.all(
    providers.map(async (provider) => {
      const bid = await publicClient.readContract({
        address: params.market,
        abi: podnetMarketAbi,
        functionName: "getBid",
        args: [params.orderId, provider],
      });
      return { provider, active: Number(bid.status) === ACTIVE };
    }),
  );
  return standingBidderList(bids);
}
