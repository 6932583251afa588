import { podnetMarketAbi, readStandingBidders } from "@podnet/sdk/protocol";
import { isAddressEqual } from "viem";
import { revertName, sendContract } from "../chain/tx-queue.js";
import type { WorkerContext } from "../context.js";
import type { BidRecord } from "../store/worker-state.js";
import { committedResources, freeResources, shortfall } from "./capacity.js";
import { notTakingWorkReason } from "./liveness.js";
import type { OpenOrder } from "./open-orders.js";

/** Why a bid is not placed: the request field it concerns, the reason, and the HTTP status the admin API answers. */
export interface BidRefusal {
  status: 400 | 404 | 409;
  field: "orderId" | "pricePerSecond";
  reason: string;
}

export type BidOutcome = { placed: true; bid: BidRecord } | { placed: false; refusal: BidRefusal };

/**
 * Why this provider may not bid `price` on `order` now, or undefined when it may: it is active and taking work (not
 * jailed, no reportable dark gap of its own: liveness.ts), has not bid on the order yet, bidding is still open, the
 * order's attributes are all among its own, the price is nonzero and within the order's maximum, and the resources fit
 * in the capacity not promised to leases and other bids.
 */
export function bidRefusal(ctx: WorkerContext, order: OpenOrder, price: bigint): BidRefusal | undefined {
  const { profile, state } = ctx;
  const orderId = order.orderId.toString();
  const refuse = (field: BidRefusal["field"], reason: string, status: BidRefusal["status"] = 409): BidRefusal => ({
    status,
    field,
    reason,
  });
  if (!profile.registered || !profile.active) return refuse("orderId", "this provider is not registered and active");
  const away = notTakingWorkReason(ctx);
  if (away) return refuse("orderId", `this provider is not taking work: ${away}`);
  if (state.data.bids[orderId]) return refuse("orderId", `order ${orderId}: this provider has bid on it already`);
  if (order.bidDeadline <= ctx.chainNow()) return refuse("orderId", `order ${orderId}: bidding closed`);
  const missing = order.requirements.attributes.find((a) => !profile.attributes.includes(a));
  if (missing)
    return refuse("orderId", `order ${orderId} requires the attribute ${missing}, which this provider lacks`);
  if (price <= 0n) return refuse("pricePerSecond", "must be above zero", 400);
  if (price > order.maxPricePerSecond) {
    return refuse("pricePerSecond", `${price} is above the order's maximum of ${order.maxPricePerSecond}`);
  }
  const short = shortfall(order.resources, freeResources(profile.capacity, committedResources(state.data)));
  if (short) return refuse("orderId", `order ${orderId} does not fit in the free capacity (${short})`);
  return undefined;
}

/**
 * Bids `price` on an open order when {@link bidRefusal} allows it. The capacity is reserved (a pending bid) before the
 * transaction is sent, with no await between the checks and the reservation, so two bids arriving together cannot
 * both take the last of it; it is given back if the transaction fails. The pricing decision is the caller's: the
 * bidder addon (addons/bidder.ts) or the provider in the console.
 */
export async function bidOnOrder(ctx: WorkerContext, order: OpenOrder, price: bigint): Promise<BidOutcome> {
  const { state, log } = ctx;
  const orderId = order.orderId.toString();
  const refusal = bidRefusal(ctx, order, price);
  if (refusal) {
    // Debug: the caller gets the reason; why a worker away takes no order is logged at info when it sees the order.
    log.debug("bid refused", { orderId, reason: `${refusal.field}: ${refusal.reason}` });
    return { placed: false, refusal };
  }
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
    const bid = state.data.bids[orderId] as BidRecord;
    if (bid.status === "pending") bid.status = "placed";
    ctx.metrics.bidsPlaced.inc();
    log.info("bid placed", { orderId, pricePerSecond: price });
    state.save();
    ctx.adminEvents.publish("bids", { orderId, status: bid.status });
    return { placed: true, bid: { ...bid } };
  } catch (error) {
    // The bid is not on chain, so nothing stays reserved.
    delete state.data.bids[orderId];
    state.save();
    const name = revertName(error);
    if (name === "MarketBidNotBetter") {
      // An outcome of the auction, not a fault: the order holds its maximum of bids and this price beats none.
      const reason = "the order is full and this price is not better than its worst standing bid";
      log.info("bid not placed", { orderId, pricePerSecond: price, reason });
      return { placed: false, refusal: { status: 409, field: "pricePerSecond", reason } };
    }
    log.warn("bid failed", { orderId, error: name });
    return {
      placed: false,
      refusal: { status: 409, field: "orderId", reason: `the market refused the bid (${name})` },
    };
  }
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
