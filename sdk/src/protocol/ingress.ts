import { type Hex, isHex } from "viem";
import { parseIPv4 } from "./addresses.js";

/**
 * Where a provider's HTTP ingress listens, as the registry keeps it (`ProviderRegistry.setIngress`: `bytes4[]` IPv4,
 * `bytes16[]` IPv6, one port) and as everyone else reads it (text addresses). App DNS answers these addresses for the
 * apps the provider runs; one codec for the worker that publishes them and the autoscaler, indexer and DNS that read
 * them.
 */
export interface IngressAddress {
  /** IPv4 and IPv6 addresses in text form (IPv6 compressed, lowercase). */
  addresses: string[];
  port: number;
}

/** The registry's limit (`MAX_INGRESS_ADDRESSES`). */
export const MAX_INGRESS_ADDRESSES = 8;

/** The 16 bytes of an IPv6 address in text form, or undefined when `text` is not one. */
export function parseIPv6(text: string): Uint8Array | undefined {
  if (!text.includes(":") || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let canonical: string;
  try {
    // The URL parser knows every IPv6 spelling (embedded IPv4, :: anywhere) and compresses it canonically.
    canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const [head = "", tail] = canonical.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  if (groups.length !== 8) return undefined;
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}

const hexOf = (bytes: Iterable<number>) =>
  `0x${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}` as Hex;

/**
 * The registry's arguments for `ingress`; throws naming the address that is not IPv4 or IPv6 text, a repeated one,
 * more than {@link MAX_INGRESS_ADDRESSES}, or a bad port.
 */
export function encodeIngress(ingress: IngressAddress): { ipv4: Hex[]; ipv6: Hex[]; port: number } {
  if (ingress.addresses.length > MAX_INGRESS_ADDRESSES) {
    throw new Error(`ingress addresses: ${ingress.addresses.length} is over the registry's ${MAX_INGRESS_ADDRESSES}`);
  }
  if (!Number.isInteger(ingress.port) || ingress.port < 1 || ingress.port > 65535) {
    throw new Error(`ingress port: ${ingress.port} is not a TCP port (1-65535)`);
  }
  const ipv4: Hex[] = [];
  const ipv6: Hex[] = [];
  ingress.addresses.forEach((text, i) => {
    const v4 = parseIPv4(text);
    const v6 = v4 ? undefined : parseIPv6(text);
    if (!v4 && !v6) throw new Error(`ingress addresses.${i}: "${text}" is not an IPv4 or IPv6 address`);
    const hex = hexOf((v4 ?? v6) as Iterable<number>);
    const list = v4 ? ipv4 : ipv6;
    if (/^0x0+$/.test(hex)) throw new Error(`ingress addresses.${i}: "${text}" is the unspecified address`);
    if (list.includes(hex)) throw new Error(`ingress addresses.${i}: "${text}" is listed twice`);
    list.push(hex);
  });
  return { ipv4, ipv6, port: ingress.port };
}

/** The registry's `getIngress` / `ProviderIngressSet` values as text; null when the provider published none. */
export function decodeIngress(ipv4: readonly Hex[], ipv6: readonly Hex[], port: number): IngressAddress | null {
  if (port === 0 || ipv4.length + ipv6.length === 0) return null;
  const addresses: string[] = [];
  for (const hex of ipv4) {
    if (!isHex(hex) || hex.length !== 10) continue;
    addresses.push([0, 1, 2, 3].map((i) => Number.parseInt(hex.slice(2 + i * 2, 4 + i * 2), 16)).join("."));
  }
  for (const hex of ipv6) {
    if (!isHex(hex) || hex.length !== 34) continue;
    const groups = [...Array(8).keys()].map((i) => hex.slice(2 + i * 4, 6 + i * 4));
    addresses.push(new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1));
  }
  return { addresses, port };
}
