/**
 * Durations, token amounts and lease ids as the CLI reads and prints them. Amounts are integers in token base units
 * everywhere (bigint, no floats); the decimal form is only for people and comes from viem's formatUnits (string
 * arithmetic).
 */
import { formatUnits } from "viem";
import { parseDurationText } from "../protocol/index.js";
import { UsageError } from "./args.js";

const UNIT_SECONDS = { d: 86_400n, h: 3_600n, m: 60n, s: 1n } as const;

/**
 * `1h`, `30m`, `3600s`, `1h30m`, `2d`, or a bare number of seconds (`3600`) → seconds (the protocol's duration
 * grammar, the one app.yaml uses). Zero is refused.
 *
 * @param what names the flag in errors (`--duration`).
 */
export function parseDuration(text: string, what: string): bigint {
  const seconds = parseDurationText(text);
  if (seconds === undefined) {
    throw new UsageError(`${what}: "${text}" is not a duration (e.g. 90s, 30m, 1h, 1h30m, 2d, or seconds)`);
  }
  if (seconds <= 0) throw new UsageError(`${what}: must be longer than 0 seconds`);
  return BigInt(seconds);
}

/** A whole number of token base units (`1000000`, `1_000_000`); decimals and exponents are refused. */
export function parseAmount(text: string, what: string, { allowZero = false } = {}): bigint {
  const digits = text.trim().replaceAll("_", "");
  if (!/^\d+$/.test(digits)) {
    throw new UsageError(`${what}: "${text}" is not a whole number of token base units`);
  }
  const value = BigInt(digits);
  if (!allowZero && value === 0n) throw new UsageError(`${what}: must be more than 0`);
  return value;
}

/** A positive whole number that fits a JavaScript number (`--cpu 250`, `--limit 5`). */
export function parseCount(text: string, what: string, { min = 1, max = 2 ** 32 - 1 } = {}): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${what}: "${text}" is not a whole number`);
  const value = Number(text.trim());
  if (value < min || value > max) throw new UsageError(`${what}: must be between ${min} and ${max}, got ${text}`);
  return value;
}

/** A lease or order id. */
export function parseId(text: string | undefined, what: string): bigint {
  if (text === undefined) throw new UsageError(`${what}: missing`);
  if (!/^\d+$/.test(text)) throw new UsageError(`${what}: "${text}" is not an id (a whole number)`);
  return BigInt(text);
}

/** `123456 (0.000123456 tPOD)`; the decimal part without trailing zeros, exact. */
export function formatAmount(value: bigint, token?: { decimals: number; symbol: string }): string {
  if (!token) return `${value}`;
  return `${value} (${formatUnits(value, token.decimals)} ${token.symbol})`;
}

/** The decimal form only: `0.000123456`. */
export function formatTokens(value: bigint, decimals: number): string {
  return formatUnits(value, decimals);
}

/** 3725 → `1h2m5s`; 0 → `0s`. */
export function formatDuration(seconds: bigint | number): string {
  let rest = BigInt(seconds);
  const negative = rest < 0n;
  if (negative) rest = -rest;
  const parts: string[] = [];
  for (const [unit, size] of Object.entries(UNIT_SECONDS)) {
    const amount = rest / size;
    if (amount > 0n) parts.push(`${amount}${unit}`);
    rest %= size;
  }
  const text = parts.length === 0 ? "0s" : parts.slice(0, 2).join("");
  return negative ? `-${text}` : text;
}

/** Unix seconds → `2025-01-02 03:04:05Z (in 59m)`, relative to `now` (unix seconds). */
export function formatTime(at: number, now: number = Math.floor(Date.now() / 1000)): string {
  const iso = `${new Date(at * 1000).toISOString().slice(0, 19).replace("T", " ")}Z`;
  const delta = at - now;
  const relative = delta === 0 ? "now" : delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`;
  return `${iso} (${relative})`;
}

/** Basis points → `99.50%`. */
export function formatBps(bps: number): string {
  return `${(bps / 100).toFixed(2)}%`;
}
