import { HttpError } from "../api/http-error.js";

/** The largest uint96: stake, prices and lease balances are uint96 in the contracts. */
export const MAX_UINT96 = 2n ** 96n - 1n;

/**
 * A token amount in base units from a request: a decimal string of digits (no sign, point, exponent or leading zero;
 * a JSON number would lose digits past 2^53), from `min` to `max`. Anything else is a 400 naming `field`.
 */
export function parseAmount(field: string, value: unknown, { min = 1n, max = MAX_UINT96 } = {}): bigint {
  if (typeof value !== "string" || !/^(0|[1-9]\d{0,39})$/.test(value)) {
    throw new HttpError(400, `${field}: must be a whole number of token base units as a decimal string, like "1000"`);
  }
  const amount = BigInt(value);
  if (amount < min) throw new HttpError(400, `${field}: must be at least ${min}`);
  if (amount > max) throw new HttpError(400, `${field}: must be at most ${max}`);
  return amount;
}
