import { type Address, getAddress } from "viem";
import type { PodnetClient } from "../client.js";
import {
  type ErrorType,
  IndexerError,
  type IndexerErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
  type ManifestErrorType,
} from "../errors.js";
import {
  indexerApiRoutes,
  manifestResources,
  parseApiErrorBody,
  parseManifest,
  type Resources,
  type SearchResponse,
} from "../protocol/index.js";

export type FindProvidersParameters = {
  /** What the pod needs; or give `manifest` and its resources are summed. */
  resources?: Resources;
  /** A pod manifest (validated) whose total resources are searched for. */
  manifest?: unknown;
  /** Only providers whose price for these resources is at most this (token base units per second). */
  maxPricePerSecond?: bigint;
  /** `key=value` attributes every provider must have, e.g. `["region=eu"]`. */
  attributes?: string[];
  /** Least free (unlocked) stake, in token base units. */
  minFreeStake?: bigint;
  /** Least uptime since the provider's first stake, in basis points (10000 = never dark). */
  minUptimeBps?: number;
  /** At most this many results (1..100, default 20). */
  limit?: number;
};

export type FoundProvider = {
  address: Address;
  endpoint: string;
  /** The provider's listed price for the searched resources. */
  pricePerSecond: bigint;
  uptimeBps: number;
  stakeFree: bigint;
  stakeLocked: bigint;
  /** Unix seconds, or null before the first heartbeat. */
  lastHeartbeat: number | null;
  disputesLost: number;
  attributes: string[];
};

export type FindProvidersReturnType = FoundProvider[];

export type FindProvidersErrorType = InvalidParameterErrorType | ManifestErrorType | IndexerErrorType | ErrorType;

/**
 * Searches the indexer (`GET <indexerUrl>/search`) for providers that can run a pod now: active, heartbeat fresh,
 * enough stake and capacity, cheapest first (ties: higher uptime, fewer lost disputes, more free stake).
 *
 * @throws {IndexerError} when the client has no `indexerUrl`, or the indexer refuses the query.
 * @example
 * const providers = await client.findProviders({
 *   resources: { cpuMillis: 500, memoryMiB: 256, storageMiB: 0 },
 *   maxPricePerSecond: 10n ** 12n,
 *   attributes: ["region=eu"],
 * });
 */
export async function findProviders(
  client: PodnetClient,
  params: FindProvidersParameters,
): Promise<FindProvidersReturnType> {
  if (!client.indexerUrl) throw new InvalidParameterError("indexerUrl", "findProviders needs the client's indexerUrl");
  let resources = params.resources;
  if (params.manifest !== undefined) resources = manifestResources(parseManifest(params.manifest));
  if (!resources) throw new InvalidParameterError("resources", "give resources or a manifest");
  const query = new URLSearchParams();
  // The indexer's query names (indexer/src/api/validate.ts).
  query.set("cpu", String(resources.cpuMillis));
  query.set("memory", String(resources.memoryMiB));
  query.set("storage", String(resources.storageMiB));
  if (params.maxPricePerSecond !== undefined) query.set("maxPrice", params.maxPricePerSecond.toString());
  for (const attribute of params.attributes ?? []) {
    if (!/^[a-z0-9_.-]+=[^=]+$/.test(attribute)) {
      throw new InvalidParameterError("attributes", `"${attribute}" is not key=value`);
    }
    query.append("attr", attribute);
  }
  if (params.minFreeStake !== undefined) query.set("minFreeStake", params.minFreeStake.toString());
  if (params.minUptimeBps !== undefined) query.set("minUptimeBps", String(params.minUptimeBps));
  if (params.limit !== undefined) query.set("limit", String(params.limit));
  const url = `${client.indexerUrl.replace(/\/+$/, "")}${indexerApiRoutes.search.path()}?${query}`;
  let response: Response;
  try {
    response = await client.fetch(url);
  } catch (error) {
    throw new IndexerError(0, `unreachable (${(error as Error).message})`, url, { cause: error });
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new IndexerError(response.status, `answer is not JSON: ${text.slice(0, 200)}`, url);
  }
  if (!response.ok) {
    const error = parseApiErrorBody(json);
    throw new IndexerError(response.status, error?.message ?? text.slice(0, 200), url);
  }
  return (json as SearchResponse).providers.map((p) => ({
    // The indexer stores addresses lowercase; every other action returns them checksummed.
    address: getAddress(p.address),
    endpoint: p.endpoint,
    pricePerSecond: BigInt(p.pricePerSecond),
    uptimeBps: p.uptimeBps,
    stakeFree: BigInt(p.stakeFree),
    stakeLocked: BigInt(p.stakeLocked),
    lastHeartbeat: p.lastHeartbeat === null ? null : Number(p.lastHeartbeat),
    disputesLost: p.disputesLost,
    attributes: p.attributes,
  }));
}
