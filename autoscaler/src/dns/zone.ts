import { isIP } from "node:net";
import { isPublicAddress, proofName, proofValue } from "@podnet/sdk/protocol";
import { type AppStatus, type InstanceStatus, routableInstances } from "../status-wire.js";
import type { DnsConfig } from "./config.js";

/**
 * The zone as one immutable snapshot: every name the server answers and its records, built from the configuration
 * and the apps' last good status. The server swaps in a new snapshot when the records change; answering reads the
 * current one and never waits on anything.
 */

export type RecordType = "SOA" | "NS" | "A" | "AAAA" | "CNAME" | "TXT";

/** The records of one type at one name. `data` is in dns-packet's form: an address, a name, TXT strings. */
export interface RRset {
  type: RecordType;
  ttl: number;
  data: unknown[];
}

/** What the status URLs say about one app, already reduced to what DNS publishes. */
export interface AppRecords {
  /** Ingress addresses of the routable instances (allowed ranges only, deduplicated, capped). */
  a: string[];
  aaaa: string[];
  /** `lease=<chainId>:<leaseId>` of every instance, whatever its health. */
  leases: string[];
}

export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

export class Zone {
  /** Names that exist without records of their own (empty non-terminals): NODATA, not NXDOMAIN, below the zone. */
  readonly #emptyNonTerminals = new Set<string>();

  constructor(
    /** The zone's name, lower case, no trailing dot. */
    readonly origin: string,
    readonly soa: SoaData,
    /** Negative answers' TTL (the SOA's minimum, RFC 2308). */
    readonly negativeTtl: number,
    readonly nodes: ReadonlyMap<string, ReadonlyMap<RecordType, RRset>>,
  ) {
    for (const name of nodes.keys()) {
      for (let at = name.indexOf("."); at >= 0; at = name.indexOf(".", at + 1)) {
        const parent = name.slice(at + 1);
        if (parent === origin || !parent.endsWith(`.${origin}`)) break;
        if (!nodes.has(parent)) this.#emptyNonTerminals.add(parent);
      }
    }
  }

  /** Whether `name` (lower case) is the zone or below it. */
  contains(name: string): boolean {
    return name === this.origin || name.endsWith(`.${this.origin}`);
  }

  /** The records at `name`, an empty map for a name that exists without records, undefined for no such name. */
  lookup(name: string): ReadonlyMap<RecordType, RRset> | undefined {
    return this.nodes.get(name) ?? (this.#emptyNonTerminals.has(name) ? new Map() : undefined);
  }
}

/** An IPv6 address in one spelling, so `2001:DB8::1` and `2001:db8:0::1` count once. */
function canonicalIp(address: string): string {
  if (isIP(address) !== 6) return address;
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address.toLowerCase();
  }
}

/**
 * Reduces an app's status to its records: A/AAAA of the routable instances' ingress (only those listening on the
 * zone's ingress port; private ranges only when allowed), a TXT proof for every instance.
 */
export function appRecords(status: AppStatus, config: DnsConfig): AppRecords {
  const a = new Set<string>();
  const aaaa = new Set<string>();
  for (const instance of routableInstances(status)) {
    if (!instance.ingress || instance.ingress.port !== config.ingressPort) continue;
    for (const raw of instance.ingress.addresses) {
      const address = canonicalIp(raw);
      if (!config.allowPrivateAddresses && !isPublicAddress(address)) continue;
      const family = isIP(address) === 4 ? a : aaaa;
      if (family.size < config.maxAddresses) family.add(address);
    }
  }
  const leases = new Set(status.instances.map((instance) => proofValue(status.chainId, instance.leaseId)));
  return { a: [...a], aaaa: [...aaaa], leases: [...leases] };
}

const HEALTH_RANK: Record<InstanceStatus["health"], number> = { healthy: 3, starting: 2, replacing: 1, failing: 0 };

/**
 * Several autoscaler nodes may report one app. The union of their instances (by chain and lease), each with the best
 * health any node saw: a node cut off from a provider must not take that instance out of the answers while another
 * node reaches it, and every lease needs its proof whichever node listed it. The first status gives the chain id.
 */
export function mergeStatuses(statuses: AppStatus[]): AppStatus | undefined {
  const [first] = statuses;
  if (!first) return undefined;
  const byLease = new Map<string, InstanceStatus & { chainId: number }>();
  for (const status of statuses) {
    for (const instance of status.instances) {
      const key = `${status.chainId}:${instance.leaseId}`;
      const seen = byLease.get(key);
      if (!seen || HEALTH_RANK[instance.health] > HEALTH_RANK[seen.health]) {
        byLease.set(key, { ...instance, chainId: status.chainId });
      }
    }
  }
  return { ...first, instances: [...byLease.values()] };
}

/** Merges statuses and reduces them to records; a lease keeps the chain id of the status that listed it. */
export function appRecordsOf(statuses: AppStatus[], config: DnsConfig): AppRecords {
  const merged = mergeStatuses(statuses);
  if (!merged) return { a: [], aaaa: [], leases: [] };
  const records = appRecords(merged, config);
  const leases = (merged.instances as (InstanceStatus & { chainId: number })[]).map((i) =>
    proofValue(i.chainId, i.leaseId),
  );
  return { ...records, leases: [...new Set(leases)] };
}

/** Builds the snapshot: SOA and NS at the apex, glue, the static records, and each app's records. */
export function buildZone(config: DnsConfig, apps: ReadonlyMap<string, AppRecords>, serial: number): Zone {
  const nodes = new Map<string, Map<RecordType, RRset>>();
  const add = (name: string, type: RecordType, ttl: number, data: unknown) => {
    const node = nodes.get(name) ?? new Map<RecordType, RRset>();
    nodes.set(name, node);
    const rrset = node.get(type) ?? { type, ttl, data: [] };
    node.set(type, rrset);
    rrset.data.push(data);
  };
  const { zone, soa, staticTtl } = config;
  const soaData: SoaData = { ...soa, serial };
  add(zone, "SOA", soa.minimum, soaData);
  for (const ns of config.nameservers) {
    add(zone, "NS", staticTtl, ns.name);
    for (const address of ns.addresses) add(ns.name, isIP(address) === 4 ? "A" : "AAAA", staticTtl, address);
  }
  for (const record of config.records) {
    // TXT data: each string of the list is one character-string of the one record.
    add(record.name, record.type, record.ttl ?? staticTtl, record.value);
  }
  for (const app of config.apps) {
    const name = `${app.name}.${zone}`;
    const records = apps.get(app.name) ?? { a: [], aaaa: [], leases: [] };
    // The name exists even with no address to give: NODATA, so resolvers do not cache "no such app".
    if (!nodes.has(name)) nodes.set(name, new Map());
    for (const address of records.a) add(name, "A", config.ttl, address);
    for (const address of records.aaaa) add(name, "AAAA", config.ttl, address);
    const proof = proofName(name);
    if (!nodes.has(proof)) nodes.set(proof, new Map());
    // Short TTL too: a provider verifies a new lease's proof right after the autoscaler placed it.
    for (const lease of records.leases) add(proof, "TXT", config.ttl, lease);
  }
  return new Zone(zone, soaData, soa.minimum, nodes);
}
