/**
 * Which network addresses are public. A provider fetches what publishers point it at (registry images, blob sources):
 * anything on loopback, a private or link-local range (cloud metadata at 169.254.169.254 included), CGNAT, multicast
 * or a reserved range would let a publisher reach into the provider's own network (SSRF), so only public addresses
 * are allowed. One rule for the manifest schema (registry hosts written as addresses) and the worker (every address
 * a name resolves to).
 */

/** IPv4 ranges that are not the public internet, as [first octets, prefix length]. */
const NON_PUBLIC_V4: [number[], number][] = [
  [[0], 8],
  [[10], 8],
  [[100, 64], 10],
  [[127], 8],
  [[169, 254], 16],
  [[172, 16], 12],
  [[192, 0, 0], 24],
  [[192, 0, 2], 24],
  [[192, 168], 16],
  [[198, 18], 15],
  [[198, 51, 100], 24],
  [[203, 0, 113], 24],
  [[224], 4],
  [[240], 4],
];

/** The four octets of a dotted-quad IPv4 address, or undefined when `text` is not one. */
export function parseIPv4(text: string): number[] | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? octets : undefined;
}

function inRange(octets: number[], [base, prefix]: [number[], number]): boolean {
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const start = [...base, 0, 0, 0, 0].slice(0, 4).reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  return value >= start && value < start + size;
}

/**
 * Whether `ip` (IPv4 or IPv6 text) is a public internet address. Anything that does not parse is not public.
 *
 * @example
 * isPublicAddress("169.254.169.254"); // false
 * isPublicAddress("1.1.1.1"); // true
 */
export function isPublicAddress(ip: string): boolean {
  const v4 = parseIPv4(ip);
  if (v4) return !NON_PUBLIC_V4.some((range) => inRange(v4, range));
  const text = ip.toLowerCase().replace(/^\[|\]$/g, "");
  if (!text.includes(":") || !/^[0-9a-f:.]+$/.test(text)) return false;
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses carry an IPv4 address: judge that one.
  const mapped = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (mapped?.[1]) return isPublicAddress(mapped[1]);
  if (text === "::" || text === "::1") return false;
  const first = Number.parseInt(text.split(":")[0] || "0", 16);
  // Only global unicast 2000::/3 is public; within it, documentation (2001:db8::/32) is not.
  if ((first & 0xe000) !== 0x2000) return false;
  return !text.startsWith("2001:db8:") && !text.startsWith("2001:0db8:");
}

/**
 * Whether a host name (as written in a URL or an image reference) is certainly not public without resolving it: an
 * address that is not public, `localhost` or a name under it.
 */
export function isLocalHostName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (parseIPv4(name) || name.includes(":") || name.startsWith("[")) return !isPublicAddress(name);
  return false;
}
