import type { Pricing, Resources } from "./types.js";

const UINT96_MAX = (1n << 96n) - 1n;

/**
 * Price per second, in token base units, of `resources` at a provider's `pricing`.
 * The same formula as the contracts' PricingMath library: exact integers, no rounding.
 *
 * @example
 * pricePerSecond({ perCpuMilli: 2n, perMemoryMiB: 1n, perStorageMiB: 0n, flat: 10n },
 *   { cpuMillis: 500, memoryMiB: 256, storageMiB: 0 }) // 1266n
 */
export function pricePerSecond(pricing: Pricing, resources: Resources): bigint {
  return (
    BigInt(resources.cpuMillis) * pricing.perCpuMilli +
    BigInt(resources.memoryMiB) * pricing.perMemoryMiB +
    BigInt(resources.storageMiB) * pricing.perStorageMiB +
    pricing.flat
  );
}

/** Whether a price fits the contracts' uint96 price fields. */
export function isValidPricePerSecond(price: bigint): boolean {
  return price > 0n && price <= UINT96_MAX;
}
