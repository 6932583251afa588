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
}

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
  private readonly waiters: { block: bigint; resolve: () => void }[] = [];

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

  private async loop() {
    while (this.running) {
      try {
        await this.poll();
        if (this.failures > 0)
          this.log.info("chain reachable again, following resumed", { cursor: this.state.data.cursor });
        this.failures = 0;
      } catch (error) {
        this.failures++;
        if (this.failures === 1 || this.failures % 10 === 0) {
          this.log.warn("chain unreachable, backing off", {
            error: (error as Error).message.split("\n")[0],
            failures: this.failures,
          });
        }
      }
      const delay =
        this.failures === 0 ? this.options.pollIntervalMs : Math.min(30_000, 500 * 2 ** (this.failures - 1));
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, delay);
      });
    }
  }

  private async poll() {
    const client = this.chain.publicClient;
    const latest = await client.getBlock({ blockTag: "latest" });
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
      this.state.saveNow();
    }
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i] as { block: bigint; resolve: () => void };
      if (BigInt(this.state.data.cursor) > waiter.block) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }
}
