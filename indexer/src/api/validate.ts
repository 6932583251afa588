// Query validation for the HTTP API: every bad input gets a 400 naming the field and the reason.
import { HTTPException } from "hono/http-exception";
import { type Address, getAddress, isAddress } from "viem";
import type { SearchQuery } from "./search.js";

export const MAX_LIMIT = 100;
const KNOWN_SEARCH_FIELDS = new Set([
  "cpu",
  "memory",
  "storage",
  "maxPrice",
  "attr",
  "minFreeStake",
  "minUptimeBps",
  "limit",
]);
const UINT32_MAX = 2 ** 32 - 1;

function bad(field: string, reason: string): never {
  throw new HTTPException(400, { message: `${field}: ${reason}` });
}

function integer(
  params: URLSearchParams,
  field: string,
  { min, max, fallback }: { min: number; max: number; fallback?: number },
) {
  const raw = params.get(field);
  if (raw === null || raw === "") {
    if (fallback === undefined) bad(field, "is required");
    return fallback;
  }
  if (!/^\d+$/.test(raw)) bad(field, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) bad(field, `must be between ${min} and ${max}, got ${raw}`);
  return value;
}

function amount(params: URLSearchParams, field: string): bigint | undefined {
  const raw = params.get(field);
  if (raw === null || raw === "") return undefined;
  if (!/^\d{1,78}$/.test(raw)) bad(field, `must be a whole number of token base units, got "${raw}"`);
  return BigInt(raw);
}

export function parseSearchQuery(params: URLSearchParams): SearchQuery {
  for (const key of params.keys()) {
    if (!KNOWN_SEARCH_FIELDS.has(key)) bad(key, `unknown field; known: ${[...KNOWN_SEARCH_FIELDS].join(", ")}`);
  }
  const attributes = params.getAll("attr");
  for (const attribute of attributes) {
    if (!/^[a-z0-9_.-]+=[^=]+$/.test(attribute)) bad("attr", `must look like key=value, got "${attribute}"`);
  }
  return {
    resources: {
      cpuMillis: integer(params, "cpu", { min: 1, max: UINT32_MAX }),
      memoryMiB: integer(params, "memory", { min: 1, max: UINT32_MAX }),
      storageMiB: integer(params, "storage", { min: 0, max: UINT32_MAX, fallback: 0 }),
    },
    maxPricePerSecond: amount(params, "maxPrice"),
    minFreeStake: amount(params, "minFreeStake"),
    minUptimeBps: integer(params, "minUptimeBps", { min: 0, max: 10_000, fallback: 0 }),
    attributes,
    limit: integer(params, "limit", { min: 1, max: MAX_LIMIT, fallback: 20 }),
  };
}

export function parseAddressParam(raw: string): Address {
  if (!isAddress(raw, { strict: false })) bad("address", `must be a 0x-prefixed 20-byte address, got "${raw}"`);
  return getAddress(raw);
}
