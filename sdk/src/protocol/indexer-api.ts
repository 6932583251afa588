import type { Address } from "viem";
import { apiRoute } from "./api-route.js";

/**
 * The indexer's HTTP API beside Ponder's GraphQL (indexer/src/api): its routes and response bodies, built by the
 * indexer and read by the SDK. Amounts are decimal strings (JSON numbers lose precision past 2^53).
 */

/** The indexer's routes: provider search, the open orders a provider could bid on, and an app (its vault). */
export const indexerApiRoutes = {
  search: apiRoute("GET", "/search"),
  eligibleOrders: apiRoute("GET", "/providers/:address/eligible-orders"),
  app: apiRoute("GET", "/apps/:address"),
  networkNodes: apiRoute("GET", "/network/nodes"),
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

/** The lease an app's slot holds, as indexed. */
export interface AppSlotLeaseJson {
  leaseId: string;
  provider: Address;
  /** "active" or "closed" (closed by its provider, run out of funds or reported dark while still in the slot). */
  status: "active" | "closed";
  /** "publisher", "provider", "out_of_funds" or "provider_dark" once closed; else null. */
  closeReason: string | null;
  specHash: `0x${string}`;
  pricePerSecond: string;
  /** Escrow the lease holds now (unspent plus earned and not withdrawn), as of its last settlement. */
  balance: string;
  /** Unix seconds: paid to the provider up to here. */
  settledAt: string;
  startedAt: string;
  /** Unix seconds, or null while it runs. */
  endedAt: string | null;
}

/** One filled instance slot of an app. */
export interface AppSlotJson {
  slot: number;
  /** The controller (or owner) that last filled the slot. */
  updatedBy: Address;
  updatedBlock: string;
  /** Unix seconds. */
  updatedAt: string;
  lease: AppSlotLeaseJson;
}

/** GET /apps/:address: an app vault of the deployment's factory (404 for any other address). */
export interface AppResponse {
  /** As indexed (lowercase), like every address of this body. */
  vault: Address;
  owner: Address;
  /** Named by transferOwnership and not yet accepted; else null. */
  pendingOwner: Address | null;
  salt: `0x${string}`;
  specHash: `0x${string}`;
  configHash: `0x${string}`;
  limits: { maxPricePerSecond: string; maxDepositPerLease: string; maxInstances: number };
  /** The enabled controllers, in address order. */
  controllers: Address[];
  /** The payment token's balanceOf(vault) at the end of block `balanceBlock` (the app's last money event). */
  balance: string;
  balanceBlock: string;
  fundedTotal: string;
  withdrawnTotal: string;
  /** Lease deposits and top-ups, order deposits and dispute bonds paid from the vault. */
  spentTotal: string;
  /** Refunds, compensation and returned bonds paid into the vault by the market and the court. */
  returnedTotal: string;
  /** Network mode (AutoscalerNetwork nodes as controllers) and its fee terms, token base units. */
  network: { enabled: boolean; feePerReplacement: string; maxFeesPerDay: string };
  /** Fees paid to autoscaler nodes. balance = funded - withdrawn - spent + returned - nodeFees (+ direct transfers). */
  nodeFeesTotal: string;
  createdBlock: string;
  /** Unix seconds. */
  createdAt: string;
  /** The slots that hold a lease, by slot index (slots at or above a lowered maxInstances included). */
  slots: AppSlotJson[];
}

/** One autoscaler node of the network, as indexed. */
export interface NetworkNodeJson {
  address: Address;
  /** "active", "exiting" or "withdrawn". */
  status: "active" | "exiting" | "withdrawn";
  /** Active and its last heartbeat within the network's liveness window of `asOf`. */
  live: boolean;
  endpoint: string;
  encryptionKey: `0x${string}`;
  stake: string;
  /** Unix seconds. */
  lastHeartbeat: string;
  heartbeats: number;
  feesEarned: string;
  replacements: number;
}

/** GET /network/nodes: every node that ever registered, in address order, with the network's clock. */
export interface NetworkNodesResponse {
  heartbeatPeriod: number;
  livenessWindow: number;
  /** The indexer's wall clock when it answered, what `live` was judged against (Unix seconds). */
  asOf: string;
  nodes: NetworkNodeJson[];
}
