import { type Hex, hexToString, stringToHex } from "viem";

/**
 * Encodes a provider attribute ("key=value", UTF-8, at most 32 bytes) as the bytes32 the contracts store.
 * Orders require attributes by exact match, so keys and values are case-sensitive.
 *
 * @example encodeAttribute("region", "eu-west") // "0x726567696f6e3d65752d77657374000000…"
 */
export function encodeAttribute(key: string, value: string): Hex {
  if (!/^[a-z0-9_.-]+$/.test(key)) {
    throw new Error(`attribute key "${key}": use lowercase letters, digits, '_', '.' or '-'`);
  }
  if (value.length === 0 || value.includes("=")) {
    throw new Error(`attribute "${key}": value must be non-empty and must not contain '='`);
  }
  const text = `${key}=${value}`;
  const size = new TextEncoder().encode(text).length;
  if (size > 32) throw new Error(`attribute "${text}" is ${size} bytes; at most 32 fit on chain`);
  return stringToHex(text, { size: 32 });
}

/** Decodes a bytes32 attribute back into its key and value. */
export function decodeAttribute(attribute: Hex): { key: string; value: string } {
  const text = hexToString(attribute, { size: 32 }).replace(/\0+$/, "");
  const separator = text.indexOf("=");
  if (separator <= 0) throw new Error(`attribute ${attribute} is not "key=value"`);
  return { key: text.slice(0, separator), value: text.slice(separator + 1) };
}
