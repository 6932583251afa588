import type { Hono } from "hono";
import { HttpError } from "../api/http-error.js";
import { bidOnOrder } from "../market/bidding.js";
import { openOrderJson } from "../market/open-orders.js";
import type { AdminDeps } from "./deps.js";
import type { AdminGuard } from "./guard.js";
import { jsonBody } from "./json-body.js";

/** Decimal digits of a uint256 at most: a longer price cannot be a price. */
const MAX_AMOUNT_DIGITS = 78;

/**
 * The market's open orders and this provider's bids, for the bidder addon (addons/bidder.ts) and the console:
 * GET /admin/v1/orders and GET /admin/v1/bids [read], POST /admin/v1/bids {orderId, pricePerSecond} [bids]. The worker
 * keeps every rule a bid must meet (market/bidding.ts `bidRefusal`); the caller decides only the price. A refused bid
 * answers 400 or 409 naming the field and the reason and leaves nothing reserved.
 */
export function registerBidRoutes(app: Hono, { ctx }: AdminDeps, guard: AdminGuard) {
  app.get("/admin/v1/orders", guard.require("read"), (c) =>
    c.json({ orders: ctx.openOrders.list(ctx.chainNow()).map((o) => openOrderJson(o, ctx.profile.pricing)) }),
  );

  app.get("/admin/v1/bids", guard.require("read"), (c) =>
    c.json({ bids: Object.values(ctx.state.data.bids).map((bid) => ({ ...bid, resources: { ...bid.resources } })) }),
  );

  app.post("/admin/v1/bids", guard.require("bids"), async (c) => {
    const { orderId, pricePerSecond } = await jsonBody(c);
    if (typeof orderId !== "string" || !/^\d{1,78}$/.test(orderId)) {
      throw new HttpError(400, "orderId: must be an order id as a decimal string");
    }
    if (typeof pricePerSecond !== "string" || !new RegExp(`^\\d{1,${MAX_AMOUNT_DIGITS}}$`).test(pricePerSecond)) {
      throw new HttpError(400, "pricePerSecond: must be token base units per second as a decimal string");
    }
    const order = ctx.openOrders.get(BigInt(orderId).toString(), ctx.chainNow());
    if (!order) throw new HttpError(404, `orderId: no open order ${orderId} (unknown, matched, cancelled or closed)`);
    const outcome = await bidOnOrder(ctx, order, BigInt(pricePerSecond));
    if (!outcome.placed) {
      const { status, field, reason } = outcome.refusal;
      throw new HttpError(status, `${field}: ${reason}`);
    }
    return c.json({ bid: outcome.bid }, 201);
  });
}
