// @ts-check
/**
 * Display formats. Money arrives as decimal strings of token base units and is formatted with BigInt only: a number
 * would round amounts above 2^53 base units (9e-3 of an 18-decimal token).
 */

/** @type {{ symbol: string, decimals: number }} */
let token = { symbol: "tokens", decimals: 18 };

/** @param {{ symbol?: string, decimals?: number } | undefined | null} t */
export function setToken(t) {
  if (t && typeof t.decimals === "number") token = { symbol: t.symbol ?? "tokens", decimals: t.decimals };
}

/**
 * @param {string | bigint | null | undefined} baseUnits
 * @param {{ symbol?: boolean, digits?: number }} [options] digits: most fraction digits shown (cut, not rounded)
 */
export function money(baseUnits, { symbol = true, digits = 6 } = {}) {
  if (baseUnits === null || baseUnits === undefined || baseUnits === "") return "—";
  const value = BigInt(baseUnits);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const scale = 10n ** BigInt(token.decimals);
  const whole = (abs / scale).toLocaleString("en-US");
  let fraction = (abs % scale).toString().padStart(token.decimals, "0").slice(0, digits).replace(/0+$/, "");
  // A tiny non-zero amount (a per-second price) keeps its significant digits rather than showing as 0.
  if (fraction === "" && abs % scale !== 0n && abs < scale) {
    fraction = (abs % scale).toString().padStart(token.decimals, "0").replace(/0+$/, "");
  }
  const text = `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
  return symbol ? `${text} ${token.symbol}` : text;
}

/** Base units per second → per 30-day month, the figure providers compare. @param {string} perSecond */
export function monthly(perSecond) {
  return money((BigInt(perSecond) * 2_592_000n).toString(), { digits: 4 });
}

/** @param {number | null | undefined} unixSec */
export function dateTime(unixSec) {
  if (!unixSec) return "—";
  return new Date(unixSec * 1000).toISOString().replace("T", " ").slice(0, 19);
}

/** @param {number | null | undefined} seconds */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** @param {number} millis */
export const cpu = (millis) => `${(millis / 1000).toFixed(millis % 1000 === 0 ? 0 : 2)} CPU`;
/** @param {number} mib */
export const mem = (mib) => (mib >= 1024 ? `${(mib / 1024).toFixed(1)} GiB` : `${Math.round(mib)} MiB`);
/** @param {string} address */
export const short = (address) => (address?.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address);
