import { describe, expect, it } from "vitest";
import { isValidPricePerSecond, pricePerSecond } from "./pricing.js";

describe("pricePerSecond", () => {
  it("charges each unit of each resource plus the flat rate", () => {
    const pricing = { perCpuMilli: 2n, perMemoryMiB: 3n, perStorageMiB: 5n, flat: 7n };
    expect(pricePerSecond(pricing, { cpuMillis: 1000, memoryMiB: 100, storageMiB: 10 })).toBe(
      1000n * 2n + 100n * 3n + 10n * 5n + 7n,
    );
  });

  it("is the flat rate alone for an empty pod", () => {
    const pricing = { perCpuMilli: 9n, perMemoryMiB: 9n, perStorageMiB: 9n, flat: 4n };
    expect(pricePerSecond(pricing, { cpuMillis: 0, memoryMiB: 0, storageMiB: 0 })).toBe(4n);
  });

  it("stays exact where floats would round (uint96 prices, uint32 resources)", () => {
    const max96 = (1n << 96n) - 1n;
    const max32 = 2 ** 32 - 1;
    const pricing = { perCpuMilli: max96, perMemoryMiB: max96, perStorageMiB: max96, flat: max96 };
    const price = pricePerSecond(pricing, { cpuMillis: max32, memoryMiB: max32, storageMiB: max32 });
    expect(price).toBe(3n * BigInt(max32) * max96 + max96);
    expect(isValidPricePerSecond(price)).toBe(false);
  });

  it("accepts only prices that fit the contracts' uint96 fields", () => {
    expect(isValidPricePerSecond(0n)).toBe(false);
    expect(isValidPricePerSecond(1n)).toBe(true);
    expect(isValidPricePerSecond((1n << 96n) - 1n)).toBe(true);
    expect(isValidPricePerSecond(1n << 96n)).toBe(false);
  });
});
