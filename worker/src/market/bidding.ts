import { podnetMarketAbi, pricePerSecond, type Resources } from "@podnet/sdk/protocol";
import { type Hex, isAddressEqual } from "viem";
import { revertName, sendContract } from "../chain/tx-queue.js";
import type { WorkerContext } from "../context.js";
import { committedResources, freeResources, shortfall } from "./capacity.js";

interface OrderCreatedArgs {
  orderId: bigint;
  publisher: `0x${string}`;
  specHash: Hex;
  resources: Resources;
  maxPricePerSecond: bigint;
  bidDeadline: number;
  autoAccept: boolean;
  requirements: { minStake: bigint; attributes: readonly Hex[] };
}

/** The price this provider bids for `resources`: its registered price scaled by the bid strategy. */
export function bidPrice(ctx: WorkerContext, resources: Resources): bigint {
  return (pricePerSecond(ctx.profile.pricing, resources) * BigInt(ctx.config.bidding.priceBps)) / 10_000n;
}

/**
 * Bids on an open order when this provider qualifies: bidding enabled, active, the order's attributes all among its
 * own, the price within the order's maximum, and the resources within free capacity. The capacity is reserved
 * before the transaction is sent (so two orders arriving together cannot both take the last of it) and given back
 * if the bid fails or loses.
 */
export async function considerOrder(ctx: WorkerContext, order: OrderCreatedArgs): Promise<void> {
  const { state, log } = ctx;
  const orderId = order.orderId.toString();
  if (!ctx.config.bidding.enabled || !ctx.profile.active || state.data.bids[orderId]) return;
  const skip = (reason: string) => log.debug("not bidding", { orderId, reason });
  if (order.bidDeadline <= ctx.chainNow()) return skip("bidding closed");
  const missing = order.requirements.attributes.find((a) => !ctx.profile.attributes.includes(a));
  if (missing) return skip(`missing attribute ${missing}`);
  const price = bidPrice(ctx, order.resources);
  if (price === 0n) return skip("zero price");
  if (price > order.maxPricePerSecond) return skip(`price ${price} above the order's ${order.maxPricePerSecond}`);
  const short = shortfall(
    order.resources,
    freeResources(ctx.profile.capacity, committedResources(state.data, ctx.chainNow())),
  );
  if (short) return skip(`no capacity (${short})`);

  state.data.bids[orderId] = {
    orderId,
    resources: { ...order.resources },
    pricePerSecond: price.toString(),
    bidDeadline: order.bidDeadline,
    autoAccept: order.autoAccept,
    status: "pending",
  };
  state.saveNow();
  try {
    await sendContract(ctx.chain, ctx.txs, `placeBid ${orderId}`, {
      address: ctx.chain.deployment.contracts.podnetMarket.address,
      abi: podnetMarketAbi,
      functionName: "placeBid",
      // No standing-bidder list: a bid on a full order reverts (MarketBidListMismatch) instead of evicting.
      args: [order.orderId, price, []],
    });
    const bid = state.data.bids[orderId];
    if (bid?.status === "pending") bid.status = "placed";
    ctx.metrics.bidsPlaced.inc();
    log.info("bid placed", { orderId, pricePerSecond: price });
  } catch (error) {
    // The bid is not on chain, so nothing stays reserved.
    delete state.data.bids[orderId];
    log.warn("bid failed", { orderId, error: revertName(error) });
  }
  state.save();
}

/** Gives a losing bid's stake reservation back (releaseBid is callable by anyone; the provider does it for itself). */
export async function releaseBid(ctx: WorkerContext, orderId: string): Promise<void> {
  try {
    await sendContract(ctx.chain, ctx.txs, `releaseBid ${orderId}`, {
      address: ctx.chain.deployment.contracts.podnetMarket.address,
      abi: podnetMarketAbi,
      functionName: "releaseBid",
      args: [BigInt(orderId), ctx.chain.account.address],
    });
  } catch (error) {
    // Already released (by anyone) or still binding: the BidReleased event or the next tick settles it.
    ctx.log.debug("releaseBid not done", { orderId, error: revertName(error) });
  }
  const bid = ctx.state.data.bids[orderId];
  if (bid && bid.status === "lost") bid.status = "done";
  ctx.state.save();
}

/**
 * Matches auto-accept orders this provider leads once their bidding closed: `finalizeOrder` is open to anyone, and
 * the provider holding the best bid is the one that wants it done. Each order is tried once per run.
 */
export async function finalizeWonOrders(ctx: WorkerContext, tried: Set<string>): Promise<void> {
  const now = ctx.chainNow();
  for (const bid of Object.values(ctx.state.data.bids)) {
    if (bid.status !== "placed" || !bid.autoAccept || now <= bid.bidDeadline || tried.has(bid.orderId)) continue;
    tried.add(bid.orderId);
    const order = await ctx.chain.publicClient.readContract({
      address: ctx.chain.deployment.contracts.podnetMarket.address,
      abi: podnetMarketAbi,
      functionName: "getOrder",
      args: [BigInt(bid.orderId)],
    });
    if (order.status !== 1 || !isAddressEqual(order.bestBidder, ctx.chain.account.address)) continue;
    try {
      await sendContract(ctx.chain, ctx.txs, `finalizeOrder ${bid.orderId}`, {
        address: ctx.chain.deployment.contracts.podnetMarket.address,
        abi: podnetMarketAbi,
        functionName: "finalizeOrder",
        // No standing-bidder list: only this provider's own best bid can be matched (no fall-through needed).
        args: [BigInt(bid.orderId), []],
      });
      ctx.log.info("finalized an auto-accept order this provider won", { orderId: bid.orderId });
    } catch (error) {
      // Someone else finalized it first, or the accept window passed: the chain events settle the bid either way.
      ctx.log.debug("finalizeOrder not done", { orderId: bid.orderId, error: revertName(error) });
    }
  }
}
