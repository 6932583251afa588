import type { Address } from "viem";
import type { DnsDirectory } from "./config.js";

/**
 * The app zone of the autoscaler network, as every node computes it from the chain (docs/autoscaler-network.md, "App
 * DNS"): every live node that publishes a DNS address is a nameserver of the zone, and every network-mode app answers
 * at `<vault address, 40 hex digits>.<zone>` from the status of the node that serves it. Nodes compute the same
 * directory from the same chain state, so they serve the same zone without talking to each other.
 */

/** A live node with its published profile, as the SDK's `getAutoscalerNode` decodes it. */
export interface DirectoryNode {
  address: Address;
  endpoint: string;
  /** The addresses its DNS server answers on, as text; absent: none. */
  dnsIpv4?: string;
  dnsIpv6?: string;
}

/** The most NS records a zone lists (RFC 1035 answers stay small; registrars take about as many). */
export const MAX_NAMESERVERS = 13;

/**
 * An app's label in the zone: its vault's address without 0x, lowercase. Derived from the vault, so no app can take
 * another's name; an owner points a name of their own at it with a CNAME.
 */
export function networkAppLabel(vault: Address): string {
  return vault.slice(2).toLowerCase();
}

/**
 * A node's nameserver name: `ns-<its address, 40 hex digits>.<zone>`. The whole address: a shorter prefix could be
 * matched by a node made for it, and two nameservers of one name would merge their glue.
 */
export function nameserverName(node: Address, zone: string): string {
  return `ns-${node.slice(2).toLowerCase()}.${zone}`;
}

/** Where a node answers an app's status (the node API's `GET /v1/apps/:vault/status`). */
export function nodeStatusUrl(endpoint: string, vault: Address): string {
  return new URL(`/v1/apps/${vault.toLowerCase()}/status`, endpoint).toString();
}

/**
 * The directory for `apps` (network-mode vaults) over the `live` nodes; `servedBy` names the node serving an app
 * (rendezvous hashing over the same live nodes). Undefined when no live node publishes a DNS address: a zone needs a
 * nameserver, and the caller keeps the previous directory.
 */
export function networkDirectory({
  zone,
  live,
  apps,
  servedBy,
}: {
  zone: string;
  live: readonly DirectoryNode[];
  apps: readonly Address[];
  servedBy: (vault: Address) => Address | undefined;
}): DnsDirectory | undefined {
  const nameservers = [...live]
    .sort((a, b) => a.address.toLowerCase().localeCompare(b.address.toLowerCase()))
    .map((node) => ({
      name: nameserverName(node.address, zone),
      addresses: [node.dnsIpv4, node.dnsIpv6].filter((a): a is string => a !== undefined),
    }))
    .filter((ns) => ns.addresses.length > 0)
    .slice(0, MAX_NAMESERVERS);
  if (nameservers.length === 0) return undefined;
  const endpointOf = new Map(live.map((node) => [node.address.toLowerCase(), node.endpoint]));
  const entries = [];
  for (const vault of [...apps].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))) {
    const node = servedBy(vault);
    const endpoint = node && endpointOf.get(node.toLowerCase());
    // An app no live node serves has no status to read: it answers NODATA until one takes it.
    if (endpoint) entries.push({ name: networkAppLabel(vault), statusUrls: [nodeStatusUrl(endpoint, vault)] });
  }
  return { apps: entries, nameservers };
}
