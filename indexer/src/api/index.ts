// HTTP API of the indexer: GraphQL over every table, ranked provider search, the open orders a provider can
// bid on, and an app vault with its slots' leases. Ponder itself serves /health, /ready, /status and /metrics.
import { db } from "ponder:api";
import schema from "ponder:schema";
import {
  type EligibleOrdersResponse,
  indexerApiRoutes,
  type NetworkNodesResponse,
  type SearchResponse,
} from "@podnet/sdk/protocol";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { and, asc, eq, graphql, gt, inArray, isNotNull } from "ponder";
import { appResponse } from "./apps.js";
import { errorResponse, noSuchRoute } from "./errors.js";
import { currentProviderIndex } from "./provider-db.js";
import { eligibleOrders, type MarketRules, type SearchQuery } from "./search.js";
import { parseAddressParam, parseSearchQuery } from "./validate.js";

const app = new Hono();

app.use("/graphql", graphql({ db, schema }));

app.get(indexerApiRoutes.search.pattern, async (c) => {
  const query: SearchQuery = parseSearchQuery(new URL(c.req.url).searchParams);
  const rules = await marketRules();
  const providers = await currentProviderIndex();
  const body: SearchResponse = { providers: providers.search(query, rules, nowSeconds()) };
  return c.json(body);
});

app.get(indexerApiRoutes.eligibleOrders.pattern, async (c) => {
  const address = parseAddressParam(c.req.param("address"));
  const [row] = await db.select().from(schema.provider).where(eq(schema.provider.address, address));
  if (!row) throw new HTTPException(404, { message: `provider ${address} is not registered` });
  const now = nowSeconds();
  const open = await db
    .select()
    .from(schema.order)
    .where(and(eq(schema.order.status, "open"), gt(schema.order.bidDeadline, BigInt(now))));
  const bids = await db.select().from(schema.bid).where(eq(schema.bid.provider, address));
  // An evicted bid no longer stands: its provider may bid on the order again.
  const alreadyBid = new Set(bids.filter((b) => b.status !== "evicted").map((b) => b.orderId));
  const body: EligibleOrdersResponse = { orders: eligibleOrders(row, open, alreadyBid, await marketRules(), now) };
  return c.json(body);
});

app.get(indexerApiRoutes.app.pattern, async (c) => {
  const address = parseAddressParam(c.req.param("address"));
  const [row] = await db.select().from(schema.app).where(eq(schema.app.vault, address));
  if (!row) throw new HTTPException(404, { message: `${address} is not an app vault of this deployment` });
  const controllers = await db
    .select()
    .from(schema.appController)
    .where(and(eq(schema.appController.app, row.vault), eq(schema.appController.enabled, true)));
  const slots = await db
    .select()
    .from(schema.appSlot)
    .where(and(eq(schema.appSlot.app, row.vault), isNotNull(schema.appSlot.leaseId)));
  const leaseIds = slots.flatMap((slot) => (slot.leaseId === null ? [] : [slot.leaseId]));
  const leases =
    leaseIds.length === 0 ? [] : await db.select().from(schema.lease).where(inArray(schema.lease.id, leaseIds));
  const body = appResponse(
    row,
    controllers.map((controller) => controller.controller),
    slots,
    leases,
  );
  return c.json(body);
});

app.get(indexerApiRoutes.networkNodes.pattern, async (c) => {
  const [params] = await db.select().from(schema.networkParams).where(eq(schema.networkParams.id, "network"));
  if (!params) throw new HTTPException(503, { message: "the indexer has not indexed the network's parameters yet" });
  const now = BigInt(nowSeconds());
  const rows = await db.select().from(schema.autoscalerNode).orderBy(asc(schema.autoscalerNode.address));
  const body: NetworkNodesResponse = {
    heartbeatPeriod: params.heartbeatPeriod,
    livenessWindow: params.livenessWindow,
    asOf: now.toString(),
    nodes: rows.map((row) => ({
      address: row.address,
      status: row.status as "active" | "exiting" | "withdrawn",
      live: row.status === "active" && row.lastHeartbeat + BigInt(params.livenessWindow) >= now,
      endpoint: row.endpoint,
      encryptionKey: row.encryptionKey,
      stake: row.stake.toString(),
      lastHeartbeat: row.lastHeartbeat.toString(),
      heartbeats: row.heartbeats,
      feesEarned: row.feesEarned.toString(),
      replacements: row.replacements,
    })),
  };
  return c.json(body);
});

// Registered last: Ponder's own routes (/health, /ready, /status, /metrics) and the ones above answer first.
app.all("*", noSuchRoute);
app.onError(errorResponse);

/** The governed parameters bids and leases are checked against, as last indexed. */
async function marketRules(): Promise<MarketRules> {
  const [row] = await db.select().from(schema.protocol).where(eq(schema.protocol.id, "podnet"));
  if (!row) throw new HTTPException(503, { message: "the indexer has not indexed the market's parameters yet" });
  return {
    minProviderStake: row.minProviderStake,
    collateralSeconds: row.collateralSeconds,
    heartbeatThreshold: row.heartbeatThreshold,
    maxBidsPerOrder: row.maxBidsPerOrder,
    minBidCollateralBps: BigInt(row.minBidCollateralBps),
  };
}

/** Chain time would be more exact; wall time is what a publisher searching now cares about. */
function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export default app;
