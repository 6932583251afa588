import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_WITHDRAWALS, WorkerState, type WorkerStateData } from "./worker-state.js";

const identity = {
  chainId: 31337,
  provider: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  market: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
} as const;

/** The real setTimeout, for a real wait while the test's timers are fake. */
const realSetTimeout = globalThis.setTimeout;
let dir: string;
const opened: WorkerState[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "podnet-state-"));
});
afterEach(() => {
  // Flush pending debounced saves before the directory goes away.
  for (const state of opened.splice(0)) state.saveNow();
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

function open(startBlock = 0, id: { chainId: number; provider: `0x${string}`; market: `0x${string}` } = identity) {
  const state = WorkerState.open(dir, id, startBlock);
  opened.push(state);
  return state;
}

const stateFile = () => join(dir, "state.json");
const onDisk = () => JSON.parse(readFileSync(stateFile(), "utf8")) as WorkerStateData;

describe("WorkerState", () => {
  it("writes a fresh state at the start block", () => {
    const state = open(1234);
    const expected: WorkerStateData = {
      version: 1,
      ...identity,
      cursor: 1234,
      leases: {},
      bids: {},
      nextQuoteNonce: "1",
      tcpPorts: {},
      subnets: {},
      images: {},
      leaseBlobs: {},
      hosts: {},
      lastWithdrawAt: 0,
      asleep: {},
      events: {},
      disputes: {},
      liveness: {},
      withdrawals: [],
    };
    expect(state.data).toEqual(expected);
    expect(onDisk()).toEqual(expected);
  });

  it("keeps the newest withdrawals, at most MAX_WITHDRAWALS, across a reopen", () => {
    const state = open();
    const withdrawal = (i: number) => ({
      at: i,
      tx: `0x${i.toString(16).padStart(64, "0")}` as const,
      gross: "10",
      fee: "1",
      net: "9",
      leases: 1,
    });
    for (let i = 1; i <= MAX_WITHDRAWALS + 2; i++) state.recordWithdrawal(withdrawal(i));
    expect(state.data.withdrawals).toHaveLength(MAX_WITHDRAWALS);
    expect(state.data.withdrawals[0]?.at).toBe(3);
    expect(state.data.withdrawals.at(-1)?.at).toBe(MAX_WITHDRAWALS + 2);
    state.saveNow();
    expect(open().data.withdrawals).toHaveLength(MAX_WITHDRAWALS);
  });

  it("opens a state file written before withdrawals were recorded with none", () => {
    const state = open();
    const { withdrawals: _, ...older } = state.data;
    writeFileSync(stateFile(), JSON.stringify(older));
    expect(open().data.withdrawals).toEqual([]);
  });

  it("reads its state back on reopen, ignoring the start block", () => {
    const first = open(10);
    first.data.cursor = 99;
    first.data.tcpPorts["5:db:5432"] = 30001;
    first.data.bids["3"] = {
      orderId: "3",
      resources: { cpuMillis: 1, memoryMiB: 2, storageMiB: 3 },
      pricePerSecond: "7",
      bidDeadline: 100,
      status: "placed",
    };
    first.saveNow();

    // Same identity in another case: addresses compare case-insensitively.
    const again = open(500, { ...identity, provider: identity.provider.toLowerCase() as `0x${string}` });
    expect(again.data.cursor).toBe(99);
    expect(again.data.tcpPorts).toEqual({ "5:db:5432": 30001 });
    expect(again.data.bids["3"]?.status).toBe("placed");
  });

  it("drops the quote reservations of a state file written before quotes stopped reserving capacity", () => {
    open(10);
    const old = { ...onDisk(), quotes: [{ nonce: "1", resources: { cpuMillis: 4000, memoryMiB: 1, storageMiB: 0 } }] };
    writeFileSync(stateFile(), JSON.stringify(old));
    const reopened = open(10);
    expect("quotes" in reopened.data).toBe(false);
    expect(reopened.data.nextQuoteNonce).toBe("1");
  });

  it("starts lastLeaseId of an older state file at its own newest lease", () => {
    const first = open(10);
    const lease = (id: string) => ({
      id,
      publisher: identity.provider,
      orderId: "0",
      specHash: `0x${"ab".repeat(32)}` as const,
      resources: { cpuMillis: 1, memoryMiB: 1, storageMiB: 0 },
      pricePerSecond: "1",
      startedAt: 1,
      status: "active" as const,
    });
    first.data.leases = { "9": lease("9"), "10": lease("10"), "2": lease("2") };
    first.saveNow();
    expect(open(10).data.lastLeaseId).toBe("10");
  });

  it.each([
    ["chainId", { ...identity, chainId: 1 }],
    ["provider", { ...identity, provider: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" as const }],
    ["market", { ...identity, market: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" as const }],
  ] as const)("refuses a state file of another %s", (field, other) => {
    open(0);
    const before = readFileSync(stateFile(), "utf8");
    expect(() => WorkerState.open(dir, other, 0)).toThrow(
      new RegExp(`state\\.json: belongs to ${field} ${identity[field]}, not ${other[field]}`),
    );
    // The other chain's file is left as it was.
    expect(readFileSync(stateFile(), "utf8")).toBe(before);
  });

  it("keeps the newest 100 events of each lease", () => {
    const state = open();
    for (let i = 0; i < 150; i++) state.recordEvent("1", "tick", `event ${i}`, 1000 + i);
    state.recordEvent("2", "running", "other lease");
    const events = state.data.events["1"] ?? [];
    expect(events).toHaveLength(100);
    expect(events[0]).toEqual({ at: 1050, type: "tick", message: "event 50" });
    expect(events[99]).toEqual({ at: 1149, type: "tick", message: "event 149" });
    expect(state.data.events["2"]).toHaveLength(1);
    state.saveNow();
    expect(onDisk().events["1"]).toHaveLength(100);
  });

  it("stamps events with the current time by default", () => {
    const state = open();
    const before = Math.floor(Date.now() / 1000);
    state.recordEvent("1", "x", "y");
    const at = state.data.events["1"]?.[0]?.at ?? 0;
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it("coalesces save() into one write shortly after", async () => {
    vi.useFakeTimers();
    const state = open();
    state.data.cursor = 7;
    state.save();
    state.data.cursor = 8;
    state.save();
    expect(onDisk().cursor).toBe(0);
    vi.advanceTimersByTime(150);
    // The write itself runs off the event loop (flush).
    await vi.waitFor(() => expect(onDisk().cursor).toBe(8));
  });

  it("save(withinMs): an earlier deadline moves the pending write up, a later one joins it", async () => {
    vi.useFakeTimers();
    const state = open();
    state.data.cursor = 1;
    state.save(5000);
    vi.advanceTimersByTime(150);
    // Time for a write, had one started.
    await new Promise((resolve) => realSetTimeout(resolve, 100));
    expect(onDisk().cursor).toBe(0);
    state.data.cursor = 2;
    state.save();
    vi.advanceTimersByTime(150);
    await vi.waitFor(() => expect(onDisk().cursor).toBe(2));
    state.data.cursor = 3;
    state.save();
    state.save(5000);
    vi.advanceTimersByTime(150);
    await vi.waitFor(() => expect(onDisk().cursor).toBe(3));
  });

  it("flush() writes off the event loop: other work runs before the new state is on disk", async () => {
    const state = open();
    state.data.cursor = 9;
    const flushed = state.flush();
    const onDiskMeanwhile = await new Promise<number>((resolve) => setImmediate(() => resolve(onDisk().cursor)));
    expect(onDiskMeanwhile).toBe(0);
    await flushed;
    expect(onDisk().cursor).toBe(9);
    expect(readdirSync(dir)).toEqual(["state.json"]);
  });

  it("a saveNow() during a flush() in flight stays: the flush's older snapshot never replaces it", async () => {
    const state = open();
    state.data.cursor = 1;
    const flushed = state.flush();
    state.data.cursor = 2;
    state.saveNow();
    await flushed;
    expect(onDisk().cursor).toBe(2);
    // The superseded write's temporary file is removed.
    expect(readdirSync(dir)).toEqual(["state.json"]);
  });

  it("flush() calls while a write is in flight share the next write, which holds the newest state", async () => {
    const state = open();
    state.data.cursor = 1;
    const first = state.flush();
    state.data.cursor = 2;
    const second = state.flush();
    state.data.cursor = 3;
    const third = state.flush();
    expect(third).toBe(second);
    await Promise.all([first, second]);
    expect(onDisk().cursor).toBe(3);
  });

  it("a failed flush() rejects and says why in saveError, which the next write that works clears", async () => {
    const state = open();
    rmSync(dir, { recursive: true, force: true });
    state.data.cursor = 4;
    await expect(state.flush()).rejects.toThrow(/ENOENT/);
    expect(state.saveError).toMatch(/ENOENT/);
    mkdirSync(dir);
    await state.flush();
    expect(state.saveError).toBeUndefined();
    expect(onDisk().cursor).toBe(4);
  });

  it("saveNow writes atomically: the file always parses and no temporary file is left", () => {
    const state = open();
    for (let i = 0; i < 50; i++) {
      state.data.cursor = i;
      state.recordEvent("1", "tick", "x".repeat(i * 100));
      state.saveNow();
      expect(onDisk().cursor).toBe(i);
      expect(readdirSync(dir)).toEqual(["state.json"]);
    }
  });

  it("removes the temporary files of writes a crash cut short in processes gone, not those of a live process", () => {
    open().saveNow();
    const gone = spawnSync("true").pid as number;
    const live = process.ppid;
    for (const name of [`state.json.${gone}.tmp`, `state.json.${gone}.async.tmp`, `state.json.${live}.async.tmp`]) {
      writeFileSync(join(dir, name), "{half a wri");
    }
    open().data.cursor = 3;
    expect(readdirSync(dir).sort()).toEqual(["state.json", `state.json.${live}.async.tmp`]);
  });

  it("overwrites a stale temporary file from a crashed write", () => {
    const state = open();
    writeFileSync(join(dir, `state.json.${process.pid}.tmp`), "{half a wri");
    state.data.cursor = 5;
    state.saveNow();
    expect(onDisk().cursor).toBe(5);
    expect(readdirSync(dir)).toEqual(["state.json"]);
  });
});
