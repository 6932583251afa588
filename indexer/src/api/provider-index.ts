// The providers /search ranks, held in memory so that a search at 100,000 providers scans plain numbers instead of
// every row in the database (a sequential scan in PGlite costs about 1 µs a row, 100 ms at that size). The index is
// kept current by the API (api/index.ts), which reads only the rows whose `changedBlock` moved.
import type { SearchResultJson } from "@podnet/sdk/protocol";
import { type MarketRules, type ProviderRow, type SearchQuery, searchProviders } from "./search.js";

/**
 * Room for rounding when a float stands in for an exact price. Converting a uint96-sized bigint to a float and
 * summing four non-negative products errs by under 1e-15 of the value, so 1e-9 only ever lets in extra rows, which
 * the exact ranking then judges.
 */
const FLOAT_SLACK = 1e-9;

/** A provider as the index holds it: the row, and what the scan compares, flat and without bigint arithmetic. */
type Entry = {
  row: ProviderRow;
  /** Active in the registry and not jailed. */
  open: boolean;
  /** The last heartbeat; -Infinity for none. */
  heartbeat: number;
  cpuMillis: number;
  memoryMiB: number;
  storageMiB: number;
  perCpuMilli: number;
  perMemoryMiB: number;
  perStorageMiB: number;
  flat: number;
  bonded: bigint;
  firstStakedAt: number | null;
  darkSeconds: number;
  darkSince: number | null;
};

function entryOf(row: ProviderRow): Entry {
  return {
    row,
    open: row.status === "active" && !row.jailed,
    heartbeat: row.lastHeartbeat === null ? Number.NEGATIVE_INFINITY : Number(row.lastHeartbeat),
    cpuMillis: row.capacityCpuMillis,
    memoryMiB: row.capacityMemoryMiB,
    storageMiB: row.capacityStorageMiB,
    perCpuMilli: Number(row.pricePerCpuMilli),
    perMemoryMiB: Number(row.pricePerMemoryMiB),
    perStorageMiB: Number(row.pricePerStorageMiB),
    flat: Number(row.priceFlat),
    bonded: row.stakeFree + row.stakeLocked,
    firstStakedAt: row.firstStakedAt === null ? null : Number(row.firstStakedAt),
    darkSeconds: Number(row.darkSeconds),
    darkSince: row.darkSince === null ? null : Number(row.darkSince),
  };
}

/** uptimeBps of search.ts in floats, at most one basis point above the exact figure (which floors). */
function approxUptimeBps(e: Entry, now: number): number {
  if (e.firstStakedAt === null) return 0;
  const age = now - e.firstStakedAt;
  if (age <= 0) return 10_000;
  const dark = e.darkSeconds + (e.row.jailed && e.darkSince !== null ? now - e.darkSince : 0);
  return (Math.max(age - dark, 0) * 10_000) / age;
}

export class ProviderIndex {
  readonly #entries: Entry[] = [];
  /** Where each address's entry is in #entries. */
  readonly #slots = new Map<string, number>();
  /** The slots of the entries listing each attribute: a search for attributes scans only the rarest one's. */
  readonly #withAttribute = new Map<string, Set<number>>();
  // Scratch space of one search, kept between searches: the candidates' float prices and their entries' slots.
  #prices = new Float64Array(1024);
  #picked = new Int32Array(1024);

  get size(): number {
    return this.#entries.length;
  }

  /** Adds the rows, or replaces the ones already held (by address). */
  upsert(rows: Iterable<ProviderRow>) {
    for (const row of rows) {
      const key = row.address.toLowerCase();
      let slot = this.#slots.get(key);
      if (slot === undefined) {
        slot = this.#entries.length;
        this.#slots.set(key, slot);
      } else {
        for (const attribute of (this.#entries[slot] as Entry).row.attributes)
          this.#withAttribute.get(attribute)?.delete(slot);
      }
      this.#entries[slot] = entryOf(row);
      for (const attribute of row.attributes) {
        let slots = this.#withAttribute.get(attribute);
        if (!slots) {
          slots = new Set();
          this.#withAttribute.set(attribute, slots);
        }
        slots.add(slot);
      }
    }
  }

  /** Holds exactly `rows` from now on. */
  replaceAll(rows: Iterable<ProviderRow>) {
    this.#entries.length = 0;
    this.#slots.clear();
    this.#withAttribute.clear();
    this.upsert(rows);
  }

  /**
   * The answer `searchProviders` gives over every held row, without pricing every row exactly: a float scan keeps
   * the rows that can qualify and the `limit` cheapest of them, plus every row within float rounding of the dearest
   * of those (so equal prices are all there for the tie-breaks), and `searchProviders` ranks that handful exactly.
   */
  search(query: SearchQuery, rules: MarketRules, now: number): SearchResultJson[] {
    const count = this.#scan(query, rules, now);
    const prices = this.#prices.subarray(0, count);
    const rowsWhere = (keep: (price: number) => boolean) => {
      const rows: ProviderRow[] = [];
      for (let i = 0; i < count; i++) {
        if (keep(prices[i] as number)) rows.push((this.#entries[this.#picked[i] as number] as Entry).row);
      }
      return rows;
    };
    if (count <= query.limit)
      return searchProviders(
        rowsWhere(() => true),
        query,
        rules,
        now,
      );
    const ceiling = kthSmallest(prices, query.limit) * (1 + FLOAT_SLACK);
    const cheapest = rowsWhere((price) => price <= ceiling);
    const ranked = searchProviders(cheapest, query, rules, now);
    // Short of `limit` only when exact checks near a boundary (price cap, uptime floor) dropped rows the float scan
    // let in: then rank every candidate exactly, as the index would without floats.
    if (ranked.length >= query.limit || cheapest.length === count) return ranked;
    return searchProviders(
      rowsWhere(() => true),
      query,
      rules,
      now,
    );
  }

  /**
   * Finds the rows that may qualify (every exact rule of `searchProviders`, or a looser float one) and writes their
   * float prices and slots to the scratch arrays; returns how many.
   */
  #scan(query: SearchQuery, rules: MarketRules, now: number): number {
    const { cpuMillis, memoryMiB, storageMiB } = query.resources;
    const maxPrice =
      query.maxPricePerSecond === undefined ? Infinity : Number(query.maxPricePerSecond) * (1 + FLOAT_SLACK);
    const freshSince = now - Number(rules.heartbeatThreshold);
    const { attributes, minFreeStake, minUptimeBps } = query;
    if (this.#prices.length < this.#entries.length) {
      this.#prices = new Float64Array(this.#entries.length * 2);
      this.#picked = new Int32Array(this.#entries.length * 2);
    }
    let count = 0;
    const consider = (slot: number) => {
      const e = this.#entries[slot] as Entry;
      if (!e.open || e.heartbeat < freshSince) return;
      if (e.cpuMillis < cpuMillis || e.memoryMiB < memoryMiB || e.storageMiB < storageMiB) return;
      if (e.bonded < rules.minProviderStake) return;
      if (minFreeStake !== undefined && e.row.stakeFree < minFreeStake) return;
      const price = e.perCpuMilli * cpuMillis + e.perMemoryMiB * memoryMiB + e.perStorageMiB * storageMiB + e.flat;
      if (price > maxPrice) return;
      if (minUptimeBps > 0 && approxUptimeBps(e, now) < minUptimeBps - 1) return;
      this.#prices[count] = price;
      this.#picked[count] = slot;
      count++;
    };
    if (attributes.length === 0) {
      for (let slot = 0; slot < this.#entries.length; slot++) consider(slot);
      return count;
    }
    // Only the entries with the rarest wanted attribute can have them all.
    const postings = attributes.map((attribute) => this.#withAttribute.get(attribute) ?? new Set<number>());
    const rarest = postings.reduce((a, b) => (b.size < a.size ? b : a));
    for (const slot of rarest) {
      if (postings.every((slots) => slots === rarest || slots.has(slot))) consider(slot);
    }
    return count;
  }
}

/** The k-th smallest of `values` (1-based, k <= length), by a bounded max-heap: O(n log k), `values` untouched. */
export function kthSmallest(values: ArrayLike<number> & Iterable<number>, k: number): number {
  const heap: number[] = [];
  const swap = (i: number, j: number) => {
    const t = heap[i] as number;
    heap[i] = heap[j] as number;
    heap[j] = t;
  };
  const siftDown = (from: number) => {
    let i = from;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let top = i;
      if (l < heap.length && (heap[l] as number) > (heap[top] as number)) top = l;
      if (r < heap.length && (heap[r] as number) > (heap[top] as number)) top = r;
      if (top === i) return;
      swap(i, top);
      i = top;
    }
  };
  for (const v of values) {
    if (heap.length < k) {
      heap.push(v);
      for (let i = heap.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if ((heap[parent] as number) >= (heap[i] as number)) break;
        swap(i, parent);
        i = parent;
      }
    } else if (v < (heap[0] as number)) {
      heap[0] = v;
      siftDown(0);
    }
  }
  return heap[0] as number;
}
