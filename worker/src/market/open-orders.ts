import { type Pricing, pricePerSecond, type Resources } from "@podnet/sdk/protocol";
import type { Hex } from "viem";

/** An order as its OrderCreated event carries it. */
export interface OpenOrder {
  orderId: bigint;
  publisher: `0x${string}`;
  specHash: Hex;
  resources: Resources;
  maxPricePerSecond: bigint;
  bidDeadline: number;
  autoAccept: boolean;
  requirements: { minStake: bigint; attributes: readonly Hex[] };
}

/** Open orders kept at most: past it the one whose bidding closes first goes (a flood of orders costs bounded memory). */
export const MAX_OPEN_ORDERS = 10_000;

/**
 * The open orders the worker saw on chain, in memory until their bidding closes (or they are matched or cancelled):
 * what the bidder addon reads on (re)connect (GET /admin/v1/orders) and what a bid (POST /admin/v1/bids) must name.
 * Not persisted: after a restart the follower replays the orders created since its cursor; older ones are not bid on,
 * as before.
 */
export class OpenOrders {
  private readonly orders = new Map<string, OpenOrder>();

  /** Keeps `order` unless its bidding closed already; returns whether it was kept. */
  add(order: OpenOrder, now: number): boolean {
    if (order.bidDeadline <= now) return false;
    this.prune(now);
    if (this.orders.size >= MAX_OPEN_ORDERS) {
      let first: OpenOrder | undefined;
      for (const o of this.orders.values()) if (!first || o.bidDeadline < first.bidDeadline) first = o;
      if (first) this.orders.delete(first.orderId.toString());
    }
    this.orders.set(order.orderId.toString(), order);
    return true;
  }

  get(orderId: string, now: number): OpenOrder | undefined {
    const order = this.orders.get(orderId);
    return order && order.bidDeadline > now ? order : undefined;
  }

  remove(orderId: string) {
    this.orders.delete(orderId);
  }

  list(now: number): OpenOrder[] {
    this.prune(now);
    return [...this.orders.values()];
  }

  private prune(now: number) {
    for (const [id, order] of this.orders) if (order.bidDeadline <= now) this.orders.delete(id);
  }
}

/**
 * An open order as the admin API shows it (money as decimal strings), with `listPricePerSecond`: the provider's
 * registered pricing applied to the order's resources, the figure a bidding strategy starts from.
 */
export function openOrderJson(order: OpenOrder, pricing: Pricing) {
  return {
    orderId: order.orderId.toString(),
    publisher: order.publisher,
    specHash: order.specHash,
    resources: { ...order.resources },
    maxPricePerSecond: order.maxPricePerSecond.toString(),
    bidDeadline: order.bidDeadline,
    autoAccept: order.autoAccept,
    requirements: {
      minStake: order.requirements.minStake.toString(),
      attributes: [...order.requirements.attributes],
    },
    listPricePerSecond: pricePerSecond(pricing, order.resources).toString(),
  };
}
