/**
 * Who a request came from, when proxies may sit in front: `X-Forwarded-For` is a header any client can write, so the
 * worker believes it only from peers the operator lists in `trustedProxies` (a load balancer, a CDN). From anyone
 * else, the header is replaced by the peer's own address, and the other forwarding headers are dropped.
 */
import { BlockList, isIPv4, isIPv6 } from "node:net";

/** Headers a client could use to pass itself off as someone else, believed only from a trusted proxy. */
const FORWARDING_HEADERS = ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-port", "x-real-ip", "forwarded"];

/** The trusted proxies: addresses or CIDR ranges (`10.0.0.0/8`, `::1`); empty trusts nobody. */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address = "", prefixText] = entry.split("/");
      const family = isIPv4(address) ? "ipv4" : isIPv6(address) ? "ipv6" : undefined;
      if (!family) throw new Error(`trustedProxies: "${entry}" is not an IP address or CIDR range`);
      if (prefixText === undefined) {
        this.list.addAddress(address, family);
        continue;
      }
      const prefix = Number(prefixText);
      if (!/^\d{1,3}$/.test(prefixText) || prefix > (family === "ipv4" ? 32 : 128)) {
        throw new Error(`trustedProxies: "${entry}" has an invalid prefix length`);
      }
      this.list.addSubnet(address, prefix, family);
    }
    this.empty = entries.length === 0;
  }

  /** Whether `peer` (a socket's remote address, IPv4-mapped IPv6 included) is a trusted proxy. */
  trusts(peer: string | undefined): boolean {
    if (this.empty || !peer) return false;
    const mapped = peer.startsWith("::ffff:") && isIPv4(peer.slice(7)) ? peer.slice(7) : peer;
    return this.list.check(mapped, isIPv4(mapped) ? "ipv4" : "ipv6");
  }
}

/** A header's values as one comma-separated list (Node joins repeated headers for most names, not all). */
const joined = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(", ") : value);

/**
 * The forwarding headers to send upstream for a request from `peer`: a trusted proxy's `X-Forwarded-For` chain with
 * `peer` appended (and its other forwarding headers kept); from anyone else, `X-Forwarded-For: <peer>` alone and no
 * other forwarding header. Keys are lowercase; `undefined` means "remove the header".
 */
export function forwardingHeaders(
  peer: string | undefined,
  incoming: Record<string, string | string[] | undefined>,
  trusted: TrustedProxies,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (trusted.trusts(peer)) {
    for (const name of FORWARDING_HEADERS) out[name] = joined(incoming[name]);
    out["x-forwarded-for"] = [joined(incoming["x-forwarded-for"]), peer].filter(Boolean).join(", ");
  } else {
    for (const name of FORWARDING_HEADERS) out[name] = undefined;
    out["x-forwarded-for"] = peer;
  }
  return out;
}

/**
 * The client's address as the worker believes it (for rate limits and logs): the right-most `X-Forwarded-For` entry
 * that is not itself a trusted proxy when `peer` is one, else `peer`.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: TrustedProxies,
): string | undefined {
  if (!trusted.trusts(peer)) return peer;
  const chain = (joined(forwardedFor) ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (let i = chain.length - 1; i >= 0; i--) {
    const hop = chain[i] as string;
    if (!trusted.trusts(hop)) return hop;
  }
  return chain[0] ?? peer;
}
