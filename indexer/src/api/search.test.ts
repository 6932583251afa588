import { describe, expect, it } from "vitest";
import { eligibleOrders, type ProviderRow, type SearchQuery, searchProviders, uptimeBps } from "./search.js";
import { now, rules } from "./search-fixtures.js";

function providerRow(overrides: Partial<ProviderRow> = {}): ProviderRow {
  return {
    address: "0x0000000000000000000000000000000000000001",
    endpoint: "https://p1.example",
    pricePerCpuMilli: 2n,
    pricePerMemoryMiB: 1n,
    pricePerStorageMiB: 0n,
    priceFlat: 10n,
    capacityCpuMillis: 4000,
    capacityMemoryMiB: 8192,
    capacityStorageMiB: 10_000,
    attributes: ["region=eu-west"],
    status: "active",
    stakeFree: 100_000n,
    stakeLocked: 0n,
    firstStakedAt: BigInt(now - 1000),
    lastHeartbeat: BigInt(now - 10),
    jailed: false,
    darkSeconds: 0n,
    darkSince: null,
    disputesLost: 0,
    ...overrides,
  };
}

function query(overrides: Partial<SearchQuery> = {}): SearchQuery {
  return {
    resources: { cpuMillis: 500, memoryMiB: 256, storageMiB: 0 },
    maxPricePerSecond: undefined,
    minFreeStake: undefined,
    minUptimeBps: 0,
    attributes: [],
    limit: 20,
    ...overrides,
  };
}

describe("uptimeBps", () => {
  it("counts closed and open dark periods against the time since the first stake", () => {
    expect(uptimeBps(providerRow(), now)).toBe(10_000);
    expect(uptimeBps(providerRow({ darkSeconds: 250n }), now)).toBe(7500);
    expect(uptimeBps(providerRow({ jailed: true, darkSince: BigInt(now - 100) }), now)).toBe(9000);
    expect(uptimeBps(providerRow({ firstStakedAt: null }), now)).toBe(0);
  });
});

describe("searchProviders", () => {
  const cheap = providerRow({ address: "0x0000000000000000000000000000000000000002", pricePerCpuMilli: 1n });
  const pricey = providerRow({ address: "0x0000000000000000000000000000000000000003", priceFlat: 1000n });
  const small = providerRow({ address: "0x0000000000000000000000000000000000000004", capacityCpuMillis: 100 });
  const us = providerRow({ address: "0x0000000000000000000000000000000000000005", attributes: ["region=us-east"] });

  it("ranks eligible providers by their price for the pod, with the price computed by the shared rule", () => {
    const result = searchProviders([pricey, small, cheap, us], query({ attributes: ["region=eu-west"] }), rules, now);
    expect(result.map((p) => p.address)).toEqual([cheap.address, pricey.address]);
    expect(result[0]?.pricePerSecond).toBe((500n * 1n + 256n * 1n + 10n).toString());
  });

  it("breaks price ties by uptime, then by fewer lost disputes", () => {
    const flaky = providerRow({ address: "0x0000000000000000000000000000000000000006", darkSeconds: 500n });
    const disputed = providerRow({ address: "0x0000000000000000000000000000000000000007", disputesLost: 2 });
    const solid = providerRow({ address: "0x0000000000000000000000000000000000000008" });
    const result = searchProviders([flaky, disputed, solid], query(), rules, now);
    expect(result.map((p) => p.address)).toEqual([solid.address, disputed.address, flaky.address]);
  });

  it("applies the price cap, free-stake and uptime floors, and the limit", () => {
    const all = [
      cheap,
      pricey,
      providerRow({ address: "0x0000000000000000000000000000000000000009", stakeFree: 500n }),
    ];
    expect(searchProviders(all, query({ maxPricePerSecond: 1000n }), rules, now).map((p) => p.address)).not.toContain(
      pricey.address,
    );
    expect(searchProviders(all, query({ minFreeStake: 1000n }), rules, now)).toHaveLength(2);
    expect(
      searchProviders([providerRow({ darkSeconds: 900n })], query({ minUptimeBps: 5000 }), rules, now),
    ).toHaveLength(0);
    expect(searchProviders(all, query({ limit: 1 }), rules, now)).toHaveLength(1);
  });
});

describe("providers that cannot take work", () => {
  const silent = providerRow({ lastHeartbeat: BigInt(now) - rules.heartbeatThreshold - 1n });
  const paused = providerRow({ status: "paused" });
  const jailed = providerRow({ jailed: true });
  const underStaked = providerRow({ stakeFree: 99n });

  it("are not listed by search: silent past the heartbeat threshold, paused, jailed, under the minimum stake", () => {
    expect(searchProviders([silent, paused, jailed, underStaked], query(), rules, now)).toEqual([]);
    const fresh = providerRow({ lastHeartbeat: BigInt(now) - rules.heartbeatThreshold });
    expect(searchProviders([fresh], query(), rules, now)).toHaveLength(1);
  });
});

describe("eligibleOrders", () => {
  const order = {
    id: 1n,
    cpuMillis: 500,
    memoryMiB: 256,
    storageMiB: 0,
    maxPricePerSecond: 10_000n,
    minStake: 100n,
    attributes: ["region=eu-west"],
    bidDeadline: BigInt(now + 60),
    bidCount: 0,
    worstPrice: null,
  };

  it("lists open orders the provider meets, at its own price", () => {
    const result = eligibleOrders(providerRow(), [order], new Set(), rules, now);
    expect(result).toEqual([
      {
        orderId: "1",
        pricePerSecond: String(500 * 2 + 256 * 1 + 10),
        maxPricePerSecond: "10000",
        bidDeadline: String(now + 60),
      },
    ]);
  });

  it("leaves out orders already bid on, too cheap, over capacity, with missing attributes or too much stake", () => {
    const row = providerRow();
    expect(eligibleOrders(row, [order], new Set([1n]), rules, now)).toEqual([]);
    expect(eligibleOrders(row, [{ ...order, maxPricePerSecond: 100n }], new Set(), rules, now)).toEqual([]);
    expect(eligibleOrders(row, [{ ...order, cpuMillis: 5000 }], new Set(), rules, now)).toEqual([]);
    expect(eligibleOrders(row, [{ ...order, attributes: ["tee=sgx"] }], new Set(), rules, now)).toEqual([]);
    expect(eligibleOrders(row, [{ ...order, minStake: 1_000_000n }], new Set(), rules, now)).toEqual([]);
    expect(eligibleOrders(providerRow({ jailed: true }), [order], new Set(), rules, now)).toEqual([]);
    expect(eligibleOrders(providerRow({ status: "paused" }), [order], new Set(), rules, now)).toEqual([]);
    const silent = providerRow({ lastHeartbeat: BigInt(now) - rules.heartbeatThreshold - 1n });
    expect(eligibleOrders(silent, [order], new Set(), rules, now)).toEqual([]);
    // The bid's reservation (price 1266 x 10 s) must fit in free stake, and the order must have room for a bid.
    expect(eligibleOrders(providerRow({ stakeFree: 12_659n }), [order], new Set(), rules, now)).toEqual([]);
    expect(eligibleOrders(providerRow({ stakeFree: 12_660n }), [order], new Set(), rules, now)).toHaveLength(1);
    expect(eligibleOrders(row, [{ ...order, bidCount: 3 }], new Set(), rules, now)).toEqual([]);
  });

  it("takes a full order when the price beats its worst standing bid (the bid would evict it)", () => {
    const row = providerRow();
    const full = { ...order, bidCount: 3 };
    expect(eligibleOrders(row, [{ ...full, worstPrice: 1266n }], new Set(), rules, now)).toEqual([]);
    expect(eligibleOrders(row, [{ ...full, worstPrice: 1267n }], new Set(), rules, now)).toHaveLength(1);
  });

  it("needs free stake for at least the minimum bid collateral", () => {
    // Half of the order's maximum (10,000 / 2 = 5,000 > 1,266) x 10 s.
    const floored = { ...rules, minBidCollateralBps: 5000n };
    expect(eligibleOrders(providerRow({ stakeFree: 49_999n }), [order], new Set(), floored, now)).toEqual([]);
    expect(eligibleOrders(providerRow({ stakeFree: 50_000n }), [order], new Set(), floored, now)).toHaveLength(1);
  });
});
