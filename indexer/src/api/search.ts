// Ranking of providers for a pod, and the orders a provider may bid on. Pure functions over indexed rows, priced
// with the SDK's one pricing rule.
import {
  bidReservation,
  type EligibleOrderJson,
  pricePerSecond,
  type Resources,
  type SearchResultJson,
} from "@podnet/sdk/protocol";

export type SearchQuery = {
  resources: Resources;
  maxPricePerSecond: bigint | undefined;
  minFreeStake: bigint | undefined;
  minUptimeBps: number;
  attributes: string[];
  limit: number;
};

/** The provider columns the ranking reads. */
export type ProviderRow = {
  address: `0x${string}`;
  endpoint: string;
  pricePerCpuMilli: bigint;
  pricePerMemoryMiB: bigint;
  pricePerStorageMiB: bigint;
  priceFlat: bigint;
  capacityCpuMillis: number;
  capacityMemoryMiB: number;
  capacityStorageMiB: number;
  attributes: string[];
  stakeFree: bigint;
  stakeLocked: bigint;
  firstStakedAt: bigint | null;
  lastHeartbeat: bigint | null;
  status: string;
  jailed: boolean;
  darkSeconds: bigint;
  darkSince: bigint | null;
  disputesLost: number;
};

export type OrderRow = {
  id: bigint;
  bidCount: number;
  /** The highest standing bid price: a full order takes a bid only below it (void bids aside). */
  worstPrice: bigint | null;
  cpuMillis: number;
  memoryMiB: number;
  storageMiB: number;
  maxPricePerSecond: bigint;
  minStake: bigint;
  attributes: string[];
  bidDeadline: bigint;
};

function pricingOf(row: ProviderRow) {
  return {
    perCpuMilli: row.pricePerCpuMilli,
    perMemoryMiB: row.pricePerMemoryMiB,
    perStorageMiB: row.pricePerStorageMiB,
    flat: row.priceFlat,
  };
}

function fits(row: ProviderRow, r: Resources): boolean {
  return (
    row.capacityCpuMillis >= r.cpuMillis &&
    row.capacityMemoryMiB >= r.memoryMiB &&
    row.capacityStorageMiB >= r.storageMiB
  );
}

/**
 * Share of the time since its first stake that a provider was not dark, in basis points. A provider that never
 * staked has no uptime (0).
 */
export function uptimeBps(row: ProviderRow, now: number): number {
  if (row.firstStakedAt === null) return 0;
  const age = BigInt(now) - row.firstStakedAt;
  if (age <= 0n) return 10_000;
  const openDark = row.jailed && row.darkSince !== null ? BigInt(now) - row.darkSince : 0n;
  const dark = row.darkSeconds + openDark;
  const up = age > dark ? age - dark : 0n;
  return Number((up * 10_000n) / age);
}

/**
 * Eligible providers for the query, cheapest first; ties go to the more reliable, then fewer lost disputes, then the
 * larger free stake, then the lower address. Only
 * providers that can take a lease now are listed (active, not jailed, heartbeat fresh, minimum stake).
 */
export function searchProviders(
  rows: ProviderRow[],
  query: SearchQuery,
  rules: MarketRules,
  now: number,
): SearchResultJson[] {
  const wanted = new Set(query.attributes);
  return rows
    .filter((row) => canTakeWork(row, rules, now) && row.stakeFree + row.stakeLocked >= rules.minProviderStake)
    .filter((row) => fits(row, query.resources))
    .filter((row) => [...wanted].every((a) => row.attributes.includes(a)))
    .filter((row) => query.minFreeStake === undefined || row.stakeFree >= query.minFreeStake)
    .map((row) => ({
      row,
      price: pricePerSecond(pricingOf(row), query.resources),
      uptime: uptimeBps(row, now),
    }))
    .filter(({ price }) => query.maxPricePerSecond === undefined || price <= query.maxPricePerSecond)
    .filter(({ uptime }) => uptime >= query.minUptimeBps)
    .sort((a, b) => {
      if (a.price !== b.price) return a.price < b.price ? -1 : 1;
      if (a.uptime !== b.uptime) return b.uptime - a.uptime;
      if (a.row.disputesLost !== b.row.disputesLost) return a.row.disputesLost - b.row.disputesLost;
      if (a.row.stakeFree !== b.row.stakeFree) return a.row.stakeFree > b.row.stakeFree ? -1 : 1;
      // Last the address, so that the order never depends on the order the rows came in.
      const [x, y] = [a.row.address.toLowerCase(), b.row.address.toLowerCase()];
      return x < y ? -1 : x > y ? 1 : 0;
    })
    .slice(0, query.limit)
    .map(({ row, price, uptime }) => ({
      address: row.address,
      endpoint: row.endpoint,
      pricePerSecond: price.toString(),
      uptimeBps: uptime,
      stakeFree: row.stakeFree.toString(),
      stakeLocked: row.stakeLocked.toString(),
      lastHeartbeat: row.lastHeartbeat?.toString() ?? null,
      disputesLost: row.disputesLost,
      attributes: row.attributes,
    }));
}

/** The governed parameters a bid is checked against (from the indexed protocol row). */
export type MarketRules = {
  minProviderStake: bigint;
  collateralSeconds: bigint;
  heartbeatThreshold: bigint;
  maxBidsPerOrder: number;
  minBidCollateralBps: bigint;
};

/** Whether the provider may take work now, as the market checks it: active, not jailed, heartbeat fresh. */
export function canTakeWork(row: ProviderRow, rules: MarketRules, now: number): boolean {
  return (
    row.status === "active" &&
    !row.jailed &&
    row.lastHeartbeat !== null &&
    BigInt(now) <= row.lastHeartbeat + rules.heartbeatThreshold
  );
}

/**
 * Open orders the provider could bid on now at its listed price, mirroring PodnetMarket.placeBid: the provider can
 * take work; the order has room for a bid, or is full and the price beats its worst standing bid (which the bid would
 * evict; a void worst bid, which any price evicts, is not known here); capacity, attributes, bonded stake (the
 * order's and the protocol's minimum), the price within the maximum, and free stake for the bid's reservation (at
 * least the minimum bid collateral).
 */
export function eligibleOrders(
  row: ProviderRow,
  orders: OrderRow[],
  alreadyBid: Set<bigint>,
  rules: MarketRules,
  now: number,
): EligibleOrderJson[] {
  if (!canTakeWork(row, rules, now)) return [];
  const bonded = row.stakeFree + row.stakeLocked;
  return orders
    .filter((o) => !alreadyBid.has(o.id))
    .map((o) => {
      const resources = { cpuMillis: o.cpuMillis, memoryMiB: o.memoryMiB, storageMiB: o.storageMiB };
      return { o, resources, price: pricePerSecond(pricingOf(row), resources) };
    })
    .filter(({ o, price }) => o.bidCount < rules.maxBidsPerOrder || (o.worstPrice !== null && price < o.worstPrice))
    .filter(({ o, resources, price }) => fits(row, resources) && price <= o.maxPricePerSecond)
    .filter(({ o }) => bonded >= o.minStake && bonded >= rules.minProviderStake)
    .filter(
      ({ o, price }) =>
        row.stakeFree >= bidReservation(price, o.maxPricePerSecond, rules.minBidCollateralBps, rules.collateralSeconds),
    )
    .filter(({ o }) => o.attributes.every((a) => row.attributes.includes(a)))
    .sort((a, b) => (a.o.bidDeadline < b.o.bidDeadline ? -1 : 1))
    .map(({ o, price }) => ({
      orderId: o.id.toString(),
      pricePerSecond: price.toString(),
      maxPricePerSecond: o.maxPricePerSecond.toString(),
      bidDeadline: o.bidDeadline.toString(),
    }));
}
