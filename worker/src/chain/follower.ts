import { disputeCourtAbi, podnetMarketAbi, providerRegistryAbi } from "@podnet/sdk/protocol";
import { type Log, parseEventLogs } from "viem";
import type { Logger } from "../log.js";
import type { WorkerState } from "../store/worker-state.js";
import type { ChainContext } from "./connect.js";

const followedAbi = [...podnetMarketAbi, ...providerRegistryAbi, ...disputeCourtAbi] as const;
export type ChainEvent = ReturnType<typeof parseEventLogs<typeof followedAbi>>[number];

export interface FollowerOptions {
  pollIntervalMs: number;
  confirmations: number;
  /** Blocks per eth_getLogs call; public RPCs cap ranges. */
  batchBlocks?: number;
  /** Seconds without a new block after which the chain counts as stalled (0: never). */
  stallSec?: number;
  /** Called when a reorg was detected, with the block the follower replays from. */
  onReorg?: (replayFrom: bigint) => void;
}

/** How the chain looks from here: `unreachable` (the last poll failed), `stalled` (no new block for `stallSec`). */
export type ChainState = "ok" | "unreachable" | "stalled";

/** Blocks replayed after a reorg: the handlers set state, so replaying more than was reorged is harmless. */
export const REORG_REPLAY_BLOCKS = 64n;
/** Heads remembered (number → hash) to notice a reorg. */
const REMEMBERED_HEADS = 256;
/** How long a cursor moved by blocks without events may wait for the next write of the state. */
export const CURSOR_SAVE_MS = 5_000;

/**
 * Follows the market's, registry's and dispute court's events from the persisted cursor. The cursor moves only after a batch was
 * handled, and handlers are idempotent, so a crash or an RPC outage replays events instead of losing them. RPC
 * errors back off exponentially (0.5 s .. 30 s) and the follower resumes where it stopped.
 */
export class ChainFollower {
  /** Newest block seen, its timestamp, and the wall time (ms) it was seen at. */
  head = { number: 0n, timestamp: 0, seenAt: 0 };
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private failures = 0;
  private wake: (() => void) | undefined;
  /** A new head was announced while a poll ran: poll again at once instead of sleeping. */
  private poked = false;
  private readonly waiters: { block: bigint; resolve: () => void }[] = [];
  /** Hashes of the heads seen, to notice when the chain replaced one (a reorg). */
  private readonly heads = new Map<bigint, string>();
  /** Wall time (ms) of the last poll that reached the chain, and the last error when it did not. */
  lastReachedAt = 0;
  lastError: string | undefined;
  reorgs = 0;

  constructor(
    private readonly chain: ChainContext,
    private readonly state: WorkerState,
    private readonly log: Logger,
    private readonly handle: (events: ChainEvent[]) => Promise<void>,
    private readonly options: FollowerOptions,
  ) {}

  start() {
    this.running = true;
    void this.loop();
  }

  stop() {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
  }

  /**
   * A new block exists (a new-head subscription said so): poll now rather than at the end of the interval. The poll
   * still reads the head and the logs itself, so a poke carries no data that could be wrong; a lost or late one only
   * leaves the follower on its polling interval.
   */
  poke() {
    // A failing chain keeps its back-off: a head announced over another socket does not make the RPC answer.
    if (!this.running || this.failures > 0) return;
    this.poked = true;
    this.wake?.();
  }

  /**
   * Chain time now, in seconds: the newest block's timestamp plus the wall time since it was seen. That is the
   * timestamp a block made now would get (give or take the block time), also on a quiet chain or a dev chain whose
   * clock was moved forward, where the last block's timestamp alone would stand still.
   */
  now(): number {
    if (this.head.seenAt === 0) return Math.floor(Date.now() / 1000);
    return this.head.timestamp + Math.floor((Date.now() - this.head.seenAt) / 1000);
  }

  /** Resolves once every event up to `block` has been handled. */
  caughtUpTo(block: bigint): Promise<void> {
    if (BigInt(this.state.data.cursor) > block) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ block, resolve });
      this.wake?.();
    });
  }

  /** True while the last poll succeeded. */
  get healthy() {
    return this.failures === 0;
  }

  /** Polls that failed in a row (0 when the chain answers). */
  get consecutiveFailures() {
    return this.failures;
  }

  /** Seconds since a new block was seen (0 before the first). */
  get headAgeSec() {
    return this.head.seenAt === 0 ? 0 : Math.floor((Date.now() - this.head.seenAt) / 1000);
  }

  /** The chain as the worker sees it now (reported by /health and the metrics). */
  get chainState(): ChainState {
    if (this.failures > 0) return "unreachable";
    const stall = this.options.stallSec ?? 0;
    if (stall > 0 && this.headAgeSec >= stall) return "stalled";
    return "ok";
  }

  private async loop() {
    while (this.running) {
      try {
        await this.poll();
        if (this.failures > 0)
          this.log.info("chain reachable again, following resumed", { cursor: this.state.data.cursor });
        this.failures = 0;
        this.lastReachedAt = Date.now();
        this.lastError = undefined;
      } catch (error) {
        this.failures++;
        this.lastError = (error as Error).message.split("\n")[0];
        if (this.failures === 1 || this.failures % 10 === 0) {
          this.log.warn("chain unreachable, backing off", {
            error: (error as Error).message.split("\n")[0],
            failures: this.failures,
          });
        }
      }
      const delay =
        this.failures === 0 ? this.options.pollIntervalMs : Math.min(30_000, 500 * 2 ** (this.failures - 1));
      // A head announced during the poll is not slept over (unless the chain is failing: then the back-off holds).
      if (this.poked && this.failures === 0) {
        this.poked = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, delay);
      });
      this.wake = undefined;
      this.poked = false;
    }
  }

  private async poll() {
    const client = this.chain.publicClient;
    const latest = await client.getBlock({ blockTag: "latest" });
    this.checkReorg(latest);
    if (latest.number !== this.head.number || this.head.seenAt === 0) {
      this.head = { number: latest.number, timestamp: Number(latest.timestamp), seenAt: Date.now() };
    }
    const safeHead = latest.number - BigInt(this.options.confirmations);
    const batch = BigInt(this.options.batchBlocks ?? 2000);
    const contracts = this.chain.deployment.contracts;
    while (BigInt(this.state.data.cursor) <= safeHead && this.running) {
      const fromBlock = BigInt(this.state.data.cursor);
      const toBlock = fromBlock + batch - 1n < safeHead ? fromBlock + batch - 1n : safeHead;
      const logs: Log[] = await client.getLogs({
        address: [contracts.podnetMarket.address, contracts.providerRegistry.address, contracts.disputeCourt.address],
        fromBlock,
        toBlock,
      });
      const events = parseEventLogs({ abi: followedAbi, logs, strict: true });
      await this.handle(events);
      this.state.data.cursor = Number(toBlock + 1n);
      // What the events changed is on disk before the next batch, written off the event loop: the ingress and the API
      // go on meanwhile. A batch without events moved the cursor only: a few seconds of blocks read again after a
      // crash change nothing, so that is saved with the next write, within CURSOR_SAVE_MS (every block made the
      // whole state's JSON, megabytes for a provider a year on: `npm run bench:state`).
      if (events.length > 0) await this.state.flush();
      else this.state.save(CURSOR_SAVE_MS);
    }
    this.resolveWaiters();
  }

  /**
   * Notices a reorg: the new head, or its parent, has another hash than the one seen at that height, or the chain got
   * shorter. The cursor then goes back {@link REORG_REPLAY_BLOCKS} and the events are handled again (idempotent). What
   * a reorged-out event did to the state is not undone here: the reconciler confirms every teardown on chain first.
   */
  private checkReorg(latest: { number: bigint; hash: string | null; parentHash: string }) {
    const seenHere = this.heads.get(latest.number);
    const seenParent = this.heads.get(latest.number - 1n);
    const replaced =
      (seenHere !== undefined && seenHere !== latest.hash) ||
      (seenParent !== undefined && seenParent !== latest.parentHash) ||
      (this.head.number > 0n && latest.number < this.head.number);
    if (replaced) {
      this.reorgs++;
      const cursor = BigInt(this.state.data.cursor);
      const top = cursor < latest.number + 1n ? cursor : latest.number + 1n;
      const start = BigInt(this.chain.deployment.deployBlock);
      const from = top - REORG_REPLAY_BLOCKS > start ? top - REORG_REPLAY_BLOCKS : start;
      this.log.warn("chain reorganised: replaying recent events", {
        head: latest.number,
        seenHash: seenHere ?? seenParent,
        replayFrom: from,
      });
      this.heads.clear();
      this.state.data.cursor = Number(from);
      this.state.saveNow();
      this.options.onReorg?.(from);
    }
    if (latest.hash) this.heads.set(latest.number, latest.hash);
    if (this.heads.size > REMEMBERED_HEADS) {
      for (const number of this.heads.keys()) {
        if (number < latest.number - BigInt(REMEMBERED_HEADS)) this.heads.delete(number);
      }
    }
  }

  private resolveWaiters() {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i] as { block: bigint; resolve: () => void };
      if (BigInt(this.state.data.cursor) > waiter.block) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }
}
