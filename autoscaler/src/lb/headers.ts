import { BlockList, isIPv4, isIPv6 } from "node:net";

/**
 * The headers podnet-lb changes on the way through: hop-by-hop headers (RFC 9110 §7.6.1) are about one connection
 * and never forwarded, nor are the headers a `Connection` header names; the forwarding headers say who the client
 * was, believed only from a trusted proxy (a client could otherwise claim any address).
 */

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Headers a client could use to pass itself off as someone else. */
const FORWARDING = [
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-forwarded-port",
  "x-real-ip",
];

type Headers = Record<string, string | string[] | undefined>;

/** `headers` without the hop-by-hop ones (and those `Connection` names); keys stay lowercase. */
export function endToEndHeaders(headers: Headers): Record<string, string | string[]> {
  const named = new Set<string>();
  const connection = headers.connection;
  for (const value of Array.isArray(connection) ? connection : connection ? [connection] : []) {
    for (const token of value.split(",")) named.add(token.trim().toLowerCase());
  }
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Peers (addresses or CIDR ranges) whose forwarding headers are kept. */
export class TrustedProxies {
  private readonly list = new BlockList();
  private readonly empty: boolean;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address = "", prefix] = entry.split("/");
      const family = isIPv4(address) ? "ipv4" : "ipv6";
      if (prefix === undefined) this.list.addAddress(address, family);
      else this.list.addSubnet(address, Number(prefix), family);
    }
    this.empty = entries.length === 0;
  }

  trusts(peer: string | undefined): boolean {
    if (this.empty || !peer) return false;
    const mapped = peer.startsWith("::ffff:") && isIPv4(peer.slice(7)) ? peer.slice(7) : peer;
    if (!isIPv4(mapped) && !isIPv6(mapped)) return false;
    return this.list.check(mapped, isIPv4(mapped) ? "ipv4" : "ipv6");
  }
}

const joined = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(", ") : value);

/**
 * The request headers for an instance: the client's end-to-end headers, `Host` set to the instance's route (the
 * provider's ingress routes by it: a client's Host must never pick another pod), and the forwarding headers.
 */
export function upstreamRequestHeaders(
  incoming: Headers,
  peer: string | undefined,
  hostHeader: string,
  trusted: TrustedProxies,
): Record<string, string | string[]> {
  const headers = endToEndHeaders(incoming);
  const clientHost = joined(incoming.host) ?? "";
  if (trusted.trusts(peer)) {
    headers["x-forwarded-for"] = [joined(incoming["x-forwarded-for"]), peer].filter(Boolean).join(", ");
    headers["x-forwarded-proto"] = joined(incoming["x-forwarded-proto"]) ?? "http";
    headers["x-forwarded-host"] = joined(incoming["x-forwarded-host"]) ?? clientHost;
  } else {
    for (const name of FORWARDING) delete headers[name];
    if (peer) headers["x-forwarded-for"] = peer;
    headers["x-forwarded-proto"] = "http";
    headers["x-forwarded-host"] = clientHost;
  }
  headers.host = hostHeader;
  return headers;
}
