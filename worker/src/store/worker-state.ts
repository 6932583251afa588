import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Resources } from "@podnet/sdk/protocol";
import type { Address, Hex } from "viem";
import type { Alert } from "../admin/alert-store.js";
import { removeStaleTemporaries, writeFileAtomic, writeFileAtomicAsync } from "./atomic-file.js";

/**
 * What the worker knows that is not in Docker: its chain cursor and the chain state it derived from the events it
 * followed (its leases, its bids), its quote reservations and host-port allocations. Kept in one JSON file written
 * atomically, so a kill -9 at any moment leaves a consistent snapshot. Event handlers are idempotent, so events
 * handled after the last snapshot are simply handled again from the saved cursor.
 */

export interface LeaseRecord {
  id: string;
  publisher: Address;
  orderId: string;
  specHash: Hex;
  resources: Resources;
  pricePerSecond: string;
  startedAt: number;
  status: "active" | "closed";
  /** Chain time the escrow runs dry (from the market's leaseRunsOutAt), refreshed on top-ups. */
  runsOutAt?: number;
  closedAt?: number;
  /** Owed to the provider at close and not yet withdrawn. */
  owed?: string;
  /** Set when the worker itself decided to end the lease (out of funds, no manifest) so it is not decided twice. */
  ending?: "out-of-funds" | "no-manifest" | "no-room" | "stopped-by-provider";
  /**
   * Chain time its first manifest was refused because leases made before it hold the capacity (409): the worker
   * closes it at its next money pass, so the publisher gets the rest of the deposit back without having to.
   */
  refusedAt?: number;
  /**
   * Chain time the provider is paid up to (the market's settledAt, from LeaseSettled): what it may still withdraw
   * accrued after it. Unknown for leases recorded before the worker followed it: the last withdrawal stands in.
   */
  settledAt?: number;
  /** The spec hash of the newest manifest the publisher sent (kept after the close, when the manifests are gone). */
  manifestSpecHash?: Hex;
  /**
   * Collateral the market still holds for a closed lease (LeaseClosed's collateralHeld and releasableAt): the worker
   * calls `releaseCollateral` from closedAt + the disputeWindow in force on (unless a dispute holds it). Gone once
   * released (by anyone) or ruled.
   */
  collateral?: { held: string; releasableAt: number };
}

export interface BidRecord {
  orderId: string;
  resources: Resources;
  pricePerSecond: string;
  bidDeadline: number;
  /** The order matches itself to its best bid after the deadline (anyone may call finalizeOrder). */
  autoAccept?: boolean;
  /** pending: tx in flight; placed: on chain; done: won (a lease exists) or released. */
  status: "pending" | "placed" | "lost" | "done";
}

/** A dispute a publisher opened on one of this provider's leases (DisputeCourt). */
export interface DisputeRecord {
  id: string;
  leaseId: string;
  publisher: Address;
  /** The publisher's evidence URI. */
  evidenceURI: string;
  /** Chain time by which the provider may answer. */
  answerBy: number;
  /** open: to answer; answered: the worker's (or the provider's own) answer is on chain; missed: the window closed
   *  before an answer went through; ruled: slashed, dismissed or lapsed. */
  status: "open" | "answered" | "missed" | "ruled";
  /** The URI the worker answered with: its evidence document, with the document's keccak256 as the fragment. */
  answerURI?: string;
}

/** What the chain said about this provider's liveness: the dark gap it may still be reported for, its jail. */
export interface LivenessRecord {
  /** The last dark gap a late heartbeat recorded (DarkGapRecorded): silent from `from` to `until`. */
  darkGap?: { from: number; until: number };
  /** Reported dark (ProviderReportedDark) and not yet out with `unjail`: may unjail from this chain time on. */
  jailedUntil?: number;
}

/** One withdrawal of the provider's earnings (ProviderWithdrew), for the console's earnings page. */
export interface WithdrawalRecord {
  /** Wall time of the receipt, unix seconds. */
  at: number;
  tx: Hex;
  /** Token base units, decimal strings. */
  gross: string;
  fee: string;
  net: string;
  /** Leases the transaction withdrew from. */
  leases: number;
}

export interface LeaseEvent {
  at: number;
  type: string;
  message: string;
}

export interface WorkerStateData {
  version: 1;
  chainId: number;
  provider: Address;
  market: Address;
  /** Next block to read events from. */
  cursor: number;
  /**
   * The newest lease id the follower has seen created (for any provider): a lease id up to it that is not in `leases`
   * belongs to another provider, which the API can answer without asking the chain.
   */
  lastLeaseId?: string;
  leases: Record<string, LeaseRecord>;
  /** Open and recent alerts by condition key (admin/alert-store.ts); absent in state files of earlier versions. */
  alerts?: Record<string, Alert>;
  bids: Record<string, BidRecord>;
  /**
   * The first quote nonce not reserved yet. Nonces are reserved in blocks (store/quote-nonces.ts): a restart continues
   * after the block in use and never signs a nonce twice.
   */
  nextQuoteNonce: string;
  tcpPorts: Record<string, number>;
  /** Lease id (or `blocked:<index>`) → index of its pod network subnet in the worker's pool. */
  subnets: Record<string, number>;
  /** Decrypted image tags this worker loaded → when a pod last needed them (ms): what its image collector may remove. */
  images: Record<string, number>;
  /** Lease id → content id → bytes of the blobs its publisher uploaded: what the lease's upload allowance counts. */
  leaseBlobs: Record<string, Record<string, number>>;
  /** Custom host → the lease whose DNS proof routes it, and when the proof was last checked (ms). */
  hosts: Record<string, { leaseId: string; checkedAt: number }>;
  lastWithdrawAt: number;
  /**
   * Scale-to-zero: lease id → the spec whose containers sleep (stopped, kept) and since when (ms). The reconciler
   * leaves such containers stopped, across a worker restart too; the ingress starts them on the next request.
   */
  asleep: Record<string, { specHash: Hex; since: number }>;
  events: Record<string, LeaseEvent[]>;
  disputes: Record<string, DisputeRecord>;
  liveness: LivenessRecord;
  /** The newest withdrawals, oldest first, at most {@link MAX_WITHDRAWALS}. */
  withdrawals: WithdrawalRecord[];
}

const MAX_EVENTS_PER_LEASE = 100;
/** Withdrawals kept: hourly ones (the default `withdrawIntervalSec`) for more than a year. */
export const MAX_WITHDRAWALS = 10_000;

/** What a worker knows before it followed any block: nothing but who it is and where it starts reading. */
export function freshStateData(
  identity: { chainId: number; provider: Address; market: Address },
  startBlock: number,
): WorkerStateData {
  return {
    version: 1,
    ...identity,
    cursor: startBlock,
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
}

export class WorkerState {
  readonly data: WorkerStateData;
  private readonly file: string;
  private saveTimer: NodeJS.Timeout | undefined;

  private constructor(file: string, data: WorkerStateData) {
    this.file = file;
    this.data = data;
  }

  /**
   * Opens the state in `dataDir`, or starts a fresh one at `startBlock`. A state file of another chain, provider or
   * market is refused instead of being mixed with this one.
   */
  static open(dataDir: string, identity: { chainId: number; provider: Address; market: Address }, startBlock: number) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const file = join(dataDir, "state.json");
    removeStaleTemporaries(file);
    if (existsSync(file)) {
      const data = JSON.parse(readFileSync(file, "utf8")) as WorkerStateData;
      for (const key of ["chainId", "provider", "market"] as const) {
        if (String(data[key]).toLowerCase() !== String(identity[key]).toLowerCase()) {
          throw new Error(
            `${file}: belongs to ${key} ${data[key]}, not ${identity[key]}; use another dataDir for another chain or key`,
          );
        }
      }
      // Quote reservations of earlier versions: quotes reserve nothing any more (see market/capacity.ts).
      delete (data as { quotes?: unknown }).quotes;
      // Fields added after a state file was written start empty.
      data.subnets ??= {};
      data.images ??= {};
      data.disputes ??= {};
      data.leaseBlobs ??= {};
      data.hosts ??= {};
      data.liveness ??= {};
      data.asleep ??= {};
      data.withdrawals ??= [];
      // A state written before lastLeaseId: its own newest lease is a lower bound of what the follower has seen.
      if (data.lastLeaseId === undefined) {
        let newest = 0n;
        for (const id of Object.keys(data.leases)) if (BigInt(id) > newest) newest = BigInt(id);
        if (newest > 0n) data.lastLeaseId = newest.toString();
      }
      return new WorkerState(file, data);
    }
    const state = new WorkerState(file, freshStateData(identity, startBlock));
    state.saveNow();
    return state;
  }

  /** Appends to a lease's event log (shown to its publisher), keeping the newest entries. */
  recordEvent(leaseId: string, type: string, message: string, at = Math.floor(Date.now() / 1000)) {
    const list = this.data.events[leaseId] ?? [];
    list.push({ at, type, message });
    if (list.length > MAX_EVENTS_PER_LEASE) list.splice(0, list.length - MAX_EVENTS_PER_LEASE);
    this.data.events[leaseId] = list;
    this.save();
  }

  /** Records a withdrawal, keeping the newest {@link MAX_WITHDRAWALS}. */
  recordWithdrawal(withdrawal: WithdrawalRecord) {
    const list = this.data.withdrawals;
    list.push(withdrawal);
    if (list.length > MAX_WITHDRAWALS) list.splice(0, list.length - MAX_WITHDRAWALS);
    this.save();
  }

  /** Why the last write of the state failed (a full disk), until a write works again. */
  saveError: string | undefined;
  /** Each write's snapshot is numbered; the file holds `committed`'s, and an older snapshot never replaces a newer. */
  private generation = 0;
  private committed = 0;
  /** The asynchronous write in flight, and the one queued behind it that every flush() meanwhile joins. */
  private writing: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  /** When the pending save() runs (ms since the epoch). */
  private saveDueAt = 0;

  /**
   * Saves within `withinMs` (default 100 ms), coalescing bursts of changes into one write off the event loop; an
   * earlier deadline moves the pending write up, a later one joins it. A failed write (a full disk) is retried every 5 s.
   */
  save(withinMs = 100) {
    const due = Date.now() + withinMs;
    if (this.saveTimer) {
      if (this.saveDueAt <= due) return;
      clearTimeout(this.saveTimer);
    }
    this.saveDueAt = due;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      // saveError says why it failed (/health reports it); the worker goes on, its pods too.
      this.flush().catch(() => setTimeout(() => this.save(), 5000).unref());
    }, withinMs);
  }

  /**
   * Saves now without blocking the event loop: only the snapshot (JSON) is taken on it, the write and the fsync run
   * in the thread pool. Resolves once the file holds this state or a newer one. For what is saved after every batch of
   * events (the follower): a synchronous save there stalled the ingress and the API for the fsync, every block
   * (32-37 ms with a 5.3 MiB state, `npm run bench:state`). Calls while a write is in flight share the next write.
   */
  flush(): Promise<void> {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    if (this.queued) return this.queued;
    if (!this.writing) return this.startWrite();
    const queued = this.writing
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.startWrite();
      });
    this.queued = queued;
    return queued;
  }

  private startWrite(): Promise<void> {
    const generation = ++this.generation;
    const write = writeFileAtomicAsync(this.file, JSON.stringify(this.data), {
      commit: () => generation > this.committed,
    })
      .then(
        (written) => {
          if (written) this.committed = generation;
          this.saveError = undefined;
        },
        (error: Error) => {
          this.saveError = error.message;
          throw error;
        },
      )
      .finally(() => {
        if (this.writing === write) this.writing = undefined;
      });
    this.writing = write;
    return write;
  }

  /**
   * Saves now, synchronously: where the change must be on disk before the next statement (a quote nonce before the
   * quote is signed, a bid before its transaction). Supersedes any write still in flight.
   */
  saveNow() {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    const generation = ++this.generation;
    try {
      writeFileAtomic(this.file, JSON.stringify(this.data));
      this.committed = generation;
      this.saveError = undefined;
    } catch (error) {
      this.saveError = (error as Error).message;
      throw error;
    }
  }
}
