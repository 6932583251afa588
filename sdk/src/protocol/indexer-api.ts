import type { Address } from "viem";
import { apiRoute } from "./api-route.js";

/**
 * The indexer's HTTP API beside Ponder's GraphQL (indexer/src/api): its routes and response bodies, built by the
 * indexer and read by the SDK. Amounts are decimal strings (JSON numbers lose precision past 2^53).
 */

/** The indexer's routes: provider search, and the open orders a provider could bid on. */
export const indexerApiRoutes = {
  search: apiRoute("GET", "/search"),
  eligibleOrders: apiRoute("GET", "/providers/:address/eligible-orders"),
} as const;

/** One provider of a search answer, priced for the searched resources. */
export interface SearchResultJson {
  /** As indexed (lowercase). */
  address: Address;
  endpoint: string;
  /** The provider's listed price for the searched resources, in token base units per second. */
  pricePerSecond: string;
  /** Uptime since the provider's first stake, in basis points (10000 = never dark). */
  uptimeBps: number;
  stakeFree: string;
  stakeLocked: string;
  /** Unix seconds, or null before the first heartbeat. */
  lastHeartbeat: string | null;
  disputesLost: number;
  attributes: string[];
}

/** GET /search: eligible providers, cheapest first. */
export interface SearchResponse {
  providers: SearchResultJson[];
}

/** An open order a provider could bid on now. */
export interface EligibleOrderJson {
  orderId: string;
  /** The provider's listed price for the order's resources. */
  pricePerSecond: string;
  maxPricePerSecond: string;
  /** Unix seconds. */
  bidDeadline: string;
}

/** GET /providers/:address/eligible-orders: soonest bid deadline first. */
export interface EligibleOrdersResponse {
  orders: EligibleOrderJson[];
}
