import { describe, expect, it } from "vitest";
import { kthSmallest, ProviderIndex } from "./provider-index.js";
import { type ProviderRow, type SearchQuery, searchProviders } from "./search.js";
import { now, rules } from "./search-fixtures.js";

/** A deterministic generator, so a failure names a seed that reproduces it. */
function random(seed: number) {
  let state = seed >>> 0 || 1;
  return (n: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
}

const HUGE = 2n ** 90n;
const REGIONS = ["region=eu", "region=us", "region=ap"];

/**
 * Providers built to trip a float ranking: prices in a narrow range (many exact ties), prices near 2^90 that differ
 * by a few base units (equal as floats), every eligibility rule sometimes failing, and uptime near the floors.
 */
function providers(count: number, seed: number): ProviderRow[] {
  const r = random(seed);
  return Array.from({ length: count }, (_, i) => {
    const huge = r(4) === 0;
    const base = (n: number) => (huge ? HUGE + BigInt(r(n)) : BigInt(1 + r(n)));
    const attributes = [REGIONS[r(3)] as string];
    if (r(2) === 0) attributes.push("tee=sgx");
    const jailed = r(20) === 0;
    return {
      address: `0x${(i + 1).toString(16).padStart(40, "0")}`,
      endpoint: `https://p${i}.example`,
      pricePerCpuMilli: base(5),
      pricePerMemoryMiB: huge ? BigInt(r(3)) : base(3),
      pricePerStorageMiB: BigInt(r(2)),
      priceFlat: BigInt(r(3) * 10),
      capacityCpuMillis: 500 * (1 + r(8)),
      capacityMemoryMiB: 256 * (1 + r(16)),
      capacityStorageMiB: 1024 * r(4),
      attributes,
      status: r(15) === 0 ? "paused" : "active",
      stakeFree: BigInt(r(300)),
      stakeLocked: BigInt(r(50)),
      firstStakedAt: r(30) === 0 ? null : BigInt(now - 10_000),
      lastHeartbeat: r(15) === 0 ? null : BigInt(now - r(700)),
      jailed,
      darkSeconds: BigInt(r(3) === 0 ? r(2000) : 0),
      darkSince: jailed ? BigInt(now - r(500)) : null,
      disputesLost: r(3),
    };
  });
}

function queries(seed: number, prices: bigint[]): SearchQuery[] {
  const r = random(seed);
  return Array.from({ length: 60 }, () => {
    const attributes: string[] = [];
    if (r(2) === 0) attributes.push(REGIONS[r(3)] as string);
    if (r(4) === 0) attributes.push("tee=sgx");
    return {
      resources: { cpuMillis: 250 * (1 + r(8)), memoryMiB: 128 * (1 + r(16)), storageMiB: 512 * r(3) },
      // A cap equal to a listed price (of some shape) lands exactly on a boundary.
      maxPricePerSecond: r(3) === 0 ? (prices[r(prices.length)] as bigint) * BigInt(250 * (1 + r(8))) : undefined,
      minFreeStake: r(4) === 0 ? BigInt(r(300)) : undefined,
      minUptimeBps: r(3) === 0 ? ([8000, 8500, 9000, 9990][r(4)] as number) : 0,
      attributes,
      limit: [1, 3, 10, 50][r(4)] as number,
    };
  });
}

describe("ProviderIndex", () => {
  it("answers exactly what searchProviders answers over every row, on rows built to fool a float ranking and after changes", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const first = providers(600, seed);
      // Every fifth provider changes afterwards (attributes, prices, status, stake...), as later blocks would.
      const changed = providers(600, seed + 100).filter((_, i) => i % 5 === 0);
      const index = new ProviderIndex();
      index.upsert(first);
      index.upsert(changed);
      const latest = new Map(first.map((row) => [row.address, row]));
      for (const row of changed) latest.set(row.address, row);
      const rows = [...latest.values()];
      for (const q of queries(
        seed * 7919,
        rows.map((row) => row.pricePerCpuMilli),
      )) {
        expect(
          index.search(q, rules, now),
          `seed ${seed}, query ${JSON.stringify(q, (_, v) => (typeof v === "bigint" ? `${v}` : v))}`,
        ).toEqual(searchProviders(rows, q, rules, now));
      }
    }
  });

  it("ranks prices that differ by one base unit near 2^90, which floats cannot tell apart", () => {
    const rows = providers(40, 9).map((row, i) => ({
      ...row,
      status: "active",
      jailed: false,
      lastHeartbeat: BigInt(now),
      stakeFree: 1000n,
      attributes: [],
      capacityCpuMillis: 8000,
      capacityMemoryMiB: 8192,
      capacityStorageMiB: 8192,
      pricePerCpuMilli: HUGE,
      pricePerMemoryMiB: 0n,
      pricePerStorageMiB: 0n,
      priceFlat: BigInt(40 - i),
    }));
    const index = new ProviderIndex();
    index.upsert(rows);
    const q: SearchQuery = {
      resources: { cpuMillis: 1, memoryMiB: 0, storageMiB: 0 },
      maxPricePerSecond: HUGE + 3n,
      minFreeStake: undefined,
      minUptimeBps: 0,
      attributes: [],
      limit: 2,
    };
    const found = index.search(q, rules, now);
    expect(found.map((p) => BigInt(p.pricePerSecond))).toEqual([HUGE + 1n, HUGE + 2n]);
    expect(found).toEqual(searchProviders(rows, q, rules, now));
  });

  it("replaces a row by address on upsert, and holds only the given rows after replaceAll", () => {
    const [a, b] = providers(2, 11).map((row) => ({
      ...row,
      status: "active",
      jailed: false,
      lastHeartbeat: BigInt(now),
      stakeFree: 1000n,
      capacityCpuMillis: 8000,
      capacityMemoryMiB: 8192,
      capacityStorageMiB: 8192,
      firstStakedAt: BigInt(now - 100),
      darkSeconds: 0n,
    })) as [ProviderRow, ProviderRow];
    const index = new ProviderIndex();
    const q: SearchQuery = {
      resources: { cpuMillis: 500, memoryMiB: 256, storageMiB: 0 },
      maxPricePerSecond: undefined,
      minFreeStake: undefined,
      minUptimeBps: 0,
      attributes: [],
      limit: 10,
    };
    index.upsert([a, b]);
    expect(index.search(q, rules, now)).toHaveLength(2);
    index.upsert([{ ...a, address: a.address.toUpperCase().replace("0X", "0x") as `0x${string}`, status: "paused" }]);
    expect(index.size).toBe(2);
    expect(index.search(q, rules, now).map((p) => p.address)).toEqual([b.address]);
    index.replaceAll([a]);
    expect(index.search(q, rules, now).map((p) => p.address)).toEqual([a.address]);
  });
});

describe("kthSmallest", () => {
  it("finds the k-th smallest value, duplicates counted", () => {
    const r = random(42);
    for (let round = 0; round < 50; round++) {
      const values = Array.from({ length: 1 + r(200) }, () => r(30));
      const k = 1 + r(values.length);
      expect(kthSmallest(values, k)).toBe([...values].sort((x, y) => x - y)[k - 1]);
    }
  });
});
