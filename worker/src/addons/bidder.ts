/**
 * The bidder addon (docs/console.md, Addons): bids on every open order the worker reports, at the provider's
 * registered price for the order's resources scaled by PODNET_BIDDER_PRICE_BPS (10000 = the registered price; the
 * worker passes `bidding.priceBps`). Token scopes: read (orders, events) and bids. The worker checks every rule a bid
 * must meet (active, attributes, capacity, the order's maximum, the deadline) and refuses the rest with a reason; this
 * program only decides the price, and skips what would be refused anyway (above the order's maximum).
 */
import { AddonClient, AdminApiError, addonLog } from "./client.js";

interface OpenOrder {
  orderId: string;
  maxPricePerSecond: string;
  bidDeadline: number;
  listPricePerSecond: string;
}

const priceBps = BigInt(process.env.PODNET_BIDDER_PRICE_BPS ?? "10000");
const client = AddonClient.fromEnv();
/** Orders this run has bid on or decided to skip: a reconnect reads every open order again. */
const handled = new Set<string>();
const MAX_HANDLED = 100_000;

async function consider(order: OpenOrder) {
  if (handled.has(order.orderId)) return;
  handled.add(order.orderId);
  // Bounded: the oldest ids go first (their bidding closed long ago; the worker refuses a second bid anyway).
  if (handled.size > MAX_HANDLED) handled.delete(handled.values().next().value as string);
  const price = (BigInt(order.listPricePerSecond) * priceBps) / 10_000n;
  if (price === 0n || price > BigInt(order.maxPricePerSecond)) {
    addonLog("debug", "not bidding", { orderId: order.orderId, pricePerSecond: price.toString(), reason: "price" });
    return;
  }
  try {
    await client.post("/admin/v1/bids", { orderId: order.orderId, pricePerSecond: price.toString() });
    addonLog("info", "bid placed", { orderId: order.orderId, pricePerSecond: price.toString() });
  } catch (error) {
    if (!(error instanceof AdminApiError) || error.status >= 500) handled.delete(order.orderId);
    addonLog(error instanceof AdminApiError && error.status === 409 ? "debug" : "warn", "bid not placed", {
      orderId: order.orderId,
      error: (error as Error).message,
    });
  }
}

await client.follow(
  ["orders"],
  async () => {
    const { orders } = await client.get<{ orders: OpenOrder[] }>("/admin/v1/orders");
    for (const order of orders) void consider(order);
  },
  async (event) => {
    // Concurrently: a bid waits for its transaction, and the next order must not wait for it.
    if (event.topic === "orders") void consider(event.data as unknown as OpenOrder);
  },
);
