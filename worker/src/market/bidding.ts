import { podnetMarketAbi, pricePerSecond, type Resources, readStandingBidders } from "@podnet/sdk/protocol";
import { type Hex, isAddressEqual } from "viem";
import { revertName, sendContract } from "../chain/tx-queue.js";
import type { WorkerContext } from "../context.js";
import { committedResources, freeResources, shortfall } from "./capacity.js";
import { notTakingWorkReason } from "./liveness.js";

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
 * own, the price within the order's maximum, and the resources within free capacity; not while jailed or while a dark
 * gap of its own is still reportable (see liveness.ts). The capacity is reserved before the transaction is sent (so
 * two orders arriving together cannot both take the last of it) and given back if the bid fails or loses.
 */
export async function considerOrder(ctx: WorkerContext, order: OrderCreatedArgs): Promise<void> {
  const { state, log } = ctx;
  const orderId = order.orderId.toString();
  if (!ctx.config.bidding.enabled || !ctx.profile.active || state.data.bids[orderId]) return;
  const skip = (reason: string) => log.debug("not bidding", { orderId, reason });
  if (order.bidDeadline <= ctx.chainNow()) return skip("bidding closed");
  const away = notTakingWorkReason(ctx);
  // Not debug: an operator must see why a healthy-looking worker stopped bidding.
  if (away) return log.info("not bidding", { orderId, reason: away });
  const missing = order.requirements.attributes.find((a) => !ctx.profile.attributes.includes(a));
  if (missing) return skip(`missing attribute ${missing}`);
  const price = bidPrice(ctx, order.resources);
  if (price === 0n) return skip("zero price");
  if (price > order.maxPricePerSecond) return skip(`price ${price} above the order's ${order.maxPricePerSecond}`);
  const short = shortfall(order.resources, freeResources(ctx.profile.capacity, committedResources(state.data)));
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
    await withStandingBidders(ctx, order.orderId, (standingBidders) =>
      sendContract(ctx.chain, ctx.txs, `placeBid ${orderId}`, {
        address: ctx.chain.deployment.contracts.podnetMarket.address,
        abi: podnetMarketAbi,
        functionName: "placeBid",
        args: [order.orderId, price, standingBidders],
      }),
    );
    const bid = state.data.bids[orderId];
    if (bid?.status === "pending") bid.status = "placed";
    ctx.metrics.bidsPlaced.inc();
    log.info("bid placed", { orderId, pricePerSecond: price });
  } catch (error) {
    // The bid is not on chain, so nothing stays reserved.
    delete state.data.bids[orderId];
    const name = revertName(error);
    if (name === "MarketBidNotBetter") {
      // An outcome of the auction, not a fault: the order holds its maximum of bids and this price beats none.
      log.info("bid not placed", {
        orderId,
        pricePerSecond: price,
        reason: "the order is full and this price is not better than its worst standing bid",
      });
    } else {
      log.warn("bid failed", { orderId, error: name });
    }
  }
  state.save();
}

/** Reverts that mean the standing-bidder list was stale when the transaction ran (another bid or release came first). */
const staleList = new Set(["MarketBidListMismatch", "MarketBidListNotAscending", "MarketBidNotFound"]);

/**
 * Runs `send` with the order's standing bidders (`readStandingBidders`, ascending, read from the deployment's block),
 * which the market checks when the order is full or its best bid cannot back a lease. A list that went stale between
 * the read and the transaction (a rival's bid landed first) is read once more and the call retried once.
 */
async function withStandingBidders<T>(
  ctx: WorkerContext,
  orderId: bigint,
  send: (standingBidders: `0x${string}`[]) => Promise<T>,
): Promise<T> {
  const read = () =>
    readStandingBidders(ctx.chain.publicClient, {
      market: ctx.chain.deployment.contracts.podnetMarket.address,
      orderId,
      fromBlock: BigInt(ctx.chain.deployment.deployBlock),
    });
  try {
    return await send(await read());
  } catch (error) {
    if (!staleList.has(revertName(error))) throw error;
    ctx.log.debug("standing bidders changed, reading them again", { orderId, error: revertName(error) });
    return send(await read());
  }
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
      await withStandingBidders(ctx, BigInt(bid.orderId), (standingBidders) =>
        sendContract(ctx.chain, ctx.txs, `finalizeOrder ${bid.orderId}`, {
          address: ctx.chain.deployment.contracts.podnetMarket.address,
          abi: podnetMarketAbi,
          functionName: "finalizeOrder",
          // Read by the market only if this provider's best bid can no longer back a lease (then the next one wins).
          args: [BigInt(bid.orderId), standingBidders],
        }),
      );
      ctx.log.info("finalized an auto-accept order this provider won", { orderId: bid.orderId });
    } catch (error) {
      // Someone else finalized it first, or the accept window passed: the chain events settle the bid either way.
      ctx.log.debug("finalizeOrder not done", { orderId: bid.orderId, error: revertName(error) });
    }
  }
}
