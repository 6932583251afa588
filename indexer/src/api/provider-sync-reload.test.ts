import { describe, expect, it } from "vitest";
import type { ProviderIndex } from "./provider-index.js";
import { FULL_RELOAD_MS, type ProviderReads, ProviderSync, type SyncedRow } from "./provider-sync.js";
import type { SearchQuery } from "./search.js";
import { now, rules } from "./search-fixtures.js";

type Deferred = { promise: Promise<void>; resolve: () => void };

function deferred(): Deferred {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Lets pending callbacks run: the sync's background build yields to the event loop between pages. */
async function turns(count = 20): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Whether the promise settled within a few turns of the event loop (a search that waits for a held read does not). */
async function settles(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await turns();
  return settled;
}

const address = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as const;

/** An eligible provider whose price for `everything` below is its flat price, so a price tells its version apart. */
function row(n: number, price: number, changedBlock: number): SyncedRow {
  return {
    address: address(n),
    endpoint: `https://p${n}.example`,
    pricePerCpuMilli: 0n,
    pricePerMemoryMiB: 0n,
    pricePerStorageMiB: 0n,
    priceFlat: BigInt(price),
    capacityCpuMillis: 1000,
    capacityMemoryMiB: 1024,
    capacityStorageMiB: 0,
    attributes: [],
    stakeFree: 1000n,
    stakeLocked: 0n,
    firstStakedAt: BigInt(now - 1000),
    lastHeartbeat: BigInt(now),
    status: "active",
    jailed: false,
    darkSeconds: 0n,
    darkSince: null,
    disputesLost: 0,
    changedBlock: BigInt(changedBlock),
  };
}

const everything: SearchQuery = {
  resources: { cpuMillis: 1, memoryMiB: 1, storageMiB: 0 },
  maxPricePerSecond: undefined,
  minFreeStake: undefined,
  minUptimeBps: 0,
  attributes: [],
  limit: 100,
};

/** What a search lists: each provider (by its number) with its price. */
function listed(index: ProviderIndex): Record<number, number> {
  const out: Record<number, number> = {};
  for (const p of index.search(everything, rules, now)) out[Number.parseInt(p.address, 16)] = Number(p.pricePerSecond);
  return out;
}

/** A checkpoint that orders as Ponder's do: by block, then by the fork it is on. */
const checkpoint = (block: number, fork = "a") => `${block.toString().padStart(10, "0")}${fork}`;

/**
 * A provider table and its checkpoint. A read takes the table as it is when called; while `hold` is set, whole-table
 * reads (every row, or a page) then wait for it, which is how a test keeps a full reload in flight.
 */
class FakeDb implements ProviderReads {
  readonly table = new Map<string, SyncedRow>();
  checkpoint: string | undefined;
  hold: Deferred | undefined;
  /** Whole-table reads that will fail, one each. */
  failures = 0;
  wholeReads = 0;
  /** Whole-table reads waiting for `hold`. */
  held = 0;
  pageReads = 0;
  /** Resolves each time a page read finds the end of the table. */
  #ends: (() => void)[] = [];

  /** A block that writes these rows (their changedBlock is the block) and moves the checkpoint. */
  commit(block: number, ...changes: [n: number, price: number][]) {
    for (const [n, price] of changes) this.table.set(address(n), row(n, price, block));
    this.checkpoint = checkpoint(block);
  }

  /** The next time a page read reaches the end of the table (a background build read it all). */
  tableEnd(): Promise<void> {
    return new Promise((resolve) => this.#ends.push(resolve));
  }

  async readCheckpoint() {
    return this.checkpoint;
  }

  async readRows(sinceBlock: bigint | undefined) {
    const rows = [...this.table.values()].filter((r) => sinceBlock === undefined || r.changedBlock >= sinceBlock);
    if (sinceBlock === undefined) await this.#whole();
    return rows;
  }

  async readPage(afterAddress: string | undefined) {
    const page = [...this.table.values()]
      .filter((r) => afterAddress === undefined || r.address > afterAddress)
      .sort((a, b) => (a.address < b.address ? -1 : 1))
      .slice(0, 2);
    this.pageReads++;
    await this.#whole();
    if (page.length === 0) for (const end of this.#ends.splice(0)) end();
    return page;
  }

  async #whole() {
    this.wholeReads++;
    const hold = this.hold;
    if (hold) {
      this.held++;
      await hold.promise;
      this.held--;
    }
    if (this.failures > 0) {
      this.failures--;
      throw new Error("connection reset");
    }
  }
}

/** A sync over a fresh table of providers 1-3 at price 10 (block 1), first loaded at time 0, then moved to block 2. */
async function started() {
  const db = new FakeDb();
  const clock = { time: 0 };
  const warnings: unknown[] = [];
  const sync = new ProviderSync(db, {
    now: () => clock.time,
    warn: (_, error) => warnings.push(error),
    pageGap: () => new Promise((resolve) => setImmediate(resolve)),
  });
  db.commit(1, [1, 10], [2, 10], [3, 10]);
  expect(listed(await sync.current())).toEqual({ 1: 10, 2: 10, 3: 10 });
  db.commit(2, [2, 20]);
  expect(listed(await sync.current())).toEqual({ 1: 10, 2: 20, 3: 10 });
  return { db, clock, sync, warnings };
}

/** A change that incremental reads miss (its changedBlock is behind the last block seen): only a full read finds it. */
function missedChange(db: FakeDb, n: number, price: number) {
  db.table.set(address(n), row(n, price, 1));
}

describe("ProviderSync", () => {
  it("makes the first search wait for the whole table", async () => {
    const db = new FakeDb();
    const sync = new ProviderSync(db, { now: () => 0, pageGap: () => new Promise((resolve) => setImmediate(resolve)) });
    db.commit(1, [1, 10]);
    db.hold = deferred();
    const search = sync.current();
    expect(await settles(search)).toBe(false);
    db.hold.resolve();
    expect(listed(await search)).toEqual({ 1: 10 });
  });

  it("answers a search during the periodic full reload at once, from the current index kept current", async () => {
    const { db, clock, sync } = await started();
    clock.time = FULL_RELOAD_MS + 1;
    db.hold = deferred();
    db.commit(3, [1, 30]);
    const search = sync.current();
    expect(await settles(search)).toBe(true);
    expect(listed(await search)).toEqual({ 1: 30, 2: 20, 3: 10 });
    expect(db.held).toBe(1);
    // Later searches too, with a change committed while the whole-table read is still in flight.
    db.commit(4, [3, 40]);
    const later = sync.current();
    expect(await settles(later)).toBe(true);
    expect(listed(await later)).toEqual({ 1: 30, 2: 20, 3: 40 });
    expect(db.held).toBe(1);
    db.hold.resolve();
  });

  it("swaps in the new index when it is built, which repairs what incremental reads missed", async () => {
    const { db, clock, sync } = await started();
    missedChange(db, 1, 11);
    clock.time = FULL_RELOAD_MS + 1;
    db.hold = deferred();
    const end = db.tableEnd();
    expect(listed(await sync.current())).toEqual({ 1: 10, 2: 20, 3: 10 });
    db.hold.resolve();
    await end;
    await turns();
    expect(listed(await sync.current())).toEqual({ 1: 11, 2: 20, 3: 10 });
  });

  it("keeps changes committed while the background read was in flight", async () => {
    const { db, clock, sync } = await started();
    missedChange(db, 3, 13);
    clock.time = FULL_RELOAD_MS + 1;
    db.hold = deferred();
    const end = db.tableEnd();
    await sync.current();
    // The build's first page (providers 1 and 2) is read as it was; then provider 1 changes and 4 registers, in a
    // later block than provider 1's change: the build's pages hold a block newer than the change they missed.
    db.commit(3, [1, 31]);
    db.commit(4, [4, 34]);
    expect(listed(await sync.current())).toEqual({ 1: 31, 2: 20, 3: 10, 4: 34 });
    db.commit(5, [2, 42]);
    db.hold.resolve();
    await end;
    await turns();
    expect(listed(await sync.current())).toEqual({ 1: 31, 2: 42, 3: 13, 4: 34 });
  });

  it("runs one background build at a time", async () => {
    const { db, clock, sync } = await started();
    clock.time = FULL_RELOAD_MS + 1;
    db.hold = deferred();
    await sync.current();
    const reads = db.wholeReads;
    clock.time = 3 * FULL_RELOAD_MS;
    db.commit(3, [1, 30]);
    expect(listed(await sync.current())).toEqual({ 1: 30, 2: 20, 3: 10 });
    expect(db.wholeReads).toBe(reads);
    db.hold.resolve();
  });

  it("reloads the whole table before answering after a reorganisation, and discards the build it overtook", async () => {
    const { db, clock, sync } = await started();
    clock.time = FULL_RELOAD_MS + 1;
    const build = deferred();
    db.hold = build;
    await sync.current();
    // Block 2 is replaced: provider 2 returns to its block-1 price, and the new block 2 reprices provider 3.
    db.table.set(address(2), row(2, 10, 1));
    db.table.set(address(3), row(3, 23, 2));
    db.checkpoint = checkpoint(2, "0");
    const reload = deferred();
    db.hold = reload;
    const search = sync.current();
    expect(await settles(search)).toBe(false);
    reload.resolve();
    expect(listed(await search)).toEqual({ 1: 10, 2: 10, 3: 23 });
    // The overtaken build read the table as it was before (provider 2 at 20): it must not be swapped in.
    db.hold = undefined;
    build.resolve();
    for (let i = 0; i < 3; i++) {
      await turns();
      expect(listed(await sync.current())).toEqual({ 1: 10, 2: 10, 3: 23 });
    }
  });

  it("reloads the whole table when the background build saw the checkpoint go back, even if it has moved on since", async () => {
    const { db, clock, sync } = await started();
    clock.time = FULL_RELOAD_MS + 1;
    db.hold = deferred();
    await sync.current();
    // The build holds the first page (provider 2 at 20); block 2 is then undone, which no search sees.
    db.table.set(address(2), row(2, 10, 1));
    db.checkpoint = checkpoint(1);
    const reads = db.wholeReads;
    db.hold.resolve();
    await turns();
    db.hold = undefined;
    // The chain moves past the old checkpoint: comparing with it, a search could not tell there was a reorganisation.
    db.commit(3, [3, 33]);
    expect(listed(await sync.current())).toEqual({ 1: 10, 2: 10, 3: 33 });
    // One whole-table read: the blocking one, after the build gave up at the checkpoint that went back.
    expect(db.wholeReads).toBe(reads + 1);
  });

  it("answers searches when the background read fails, and tries again at the next interval", async () => {
    const { db, clock, sync, warnings } = await started();
    missedChange(db, 1, 11);
    clock.time = FULL_RELOAD_MS + 1;
    db.failures = 1;
    db.commit(3, [3, 30]);
    expect(listed(await sync.current())).toEqual({ 1: 10, 2: 20, 3: 30 });
    await turns();
    expect(warnings).toHaveLength(1);
    const reads = db.wholeReads;
    db.commit(4, [2, 40]);
    expect(listed(await sync.current())).toEqual({ 1: 10, 2: 40, 3: 30 });
    await turns();
    expect(db.wholeReads).toBe(reads);
    clock.time = 2 * FULL_RELOAD_MS + 2;
    const end = db.tableEnd();
    await sync.current();
    await end;
    await turns();
    expect(listed(await sync.current())).toEqual({ 1: 11, 2: 40, 3: 30 });
  });

  it("builds from every page of a table larger than a page", async () => {
    const { db, clock, sync } = await started();
    for (let n = 4; n <= 20; n++) missedChange(db, n, n);
    clock.time = FULL_RELOAD_MS + 1;
    const end = db.tableEnd();
    expect(Object.keys(listed(await sync.current()))).toHaveLength(3);
    await end;
    await turns();
    expect(Object.keys(listed(await sync.current()))).toHaveLength(20);
  });
});
