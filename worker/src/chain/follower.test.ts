import { podnetMarketAbi } from "@podnet/sdk/protocol";
import { encodeAbiParameters, encodeEventTopics, type Log } from "viem";
import { describe, expect, it } from "vitest";
import type { Logger } from "../log.js";
import type { WorkerState } from "../store/worker-state.js";
import type { ChainContext } from "./connect.js";
import { ChainFollower, CURSOR_SAVE_MS, REORG_REPLAY_BLOCKS } from "./follower.js";

const quiet: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => quiet,
};

/** A follower on a stub chain whose head the test sets (number and hash) or takes down. */
function setup(stallSec = 60, pollIntervalMs = 5, logsOf: (fromBlock: bigint) => Log[] = () => []) {
  let head = { number: 200n, hash: "0xa200", parentHash: "0xa199" };
  let down = false;
  let polls = 0;
  /** Held while set: the next getBlock waits for it (a poll in flight). */
  let gate: Promise<void> | undefined;
  const logsFrom: bigint[] = [];
  const context = {
    deployment: {
      deployBlock: 10,
      contracts: {
        podnetMarket: { address: "0x1" },
        providerRegistry: { address: "0x2" },
        disputeCourt: { address: "0x3" },
      },
    },
    publicClient: {
      getBlock: async () => {
        polls++;
        await gate;
        if (down) throw new Error("fetch failed\nmore details");
        return { ...head, timestamp: 1000n };
      },
      getLogs: async ({ fromBlock }: { fromBlock: bigint }) => {
        logsFrom.push(fromBlock);
        return logsOf(fromBlock);
      },
    },
  } as unknown as ChainContext;
  const state = {
    data: { cursor: 150 },
    saveNow: () => undefined,
    save: () => undefined,
    flush: async () => undefined,
  } as unknown as WorkerState;
  const reorgs: bigint[] = [];
  const follower = new ChainFollower(context, state, quiet, async () => undefined, {
    pollIntervalMs,
    confirmations: 0,
    stallSec,
    onReorg: (from) => reorgs.push(from),
  });
  return {
    follower,
    state,
    reorgs,
    logsFrom,
    setHead: (h: typeof head) => {
      head = h;
    },
    setDown: (value: boolean) => {
      down = value;
    },
    polls: () => polls,
    /** Holds the next polls at getBlock until the returned release is called. */
    hold: () => {
      let release = () => {};
      gate = new Promise<void>((resolve) => {
        release = () => {
          gate = undefined;
          resolve();
        };
      });
      return release;
    },
  };
}

const until = async (check: () => boolean) => {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe("ChainFollower", () => {
  it("replays recent events when the head it saw was replaced (a reorg), and only then", async () => {
    const t = setup();
    t.follower.start();
    await t.follower.caughtUpTo(200n);
    expect(t.state.data.cursor).toBe(201);
    t.setHead({ number: 201n, hash: "0xa201", parentHash: "0xa200" });
    await t.follower.caughtUpTo(201n);
    expect(t.reorgs).toEqual([]);
    // Block 201 is replaced by another one at the same height.
    t.setHead({ number: 201n, hash: "0xb201", parentHash: "0xa200" });
    await until(() => t.reorgs.length === 1);
    expect(t.reorgs).toEqual([202n - REORG_REPLAY_BLOCKS]);
    await until(() => t.state.data.cursor === 202);
    expect(t.logsFrom).toContain(202n - REORG_REPLAY_BLOCKS);
    expect(t.follower.reorgs).toBe(1);
    t.follower.stop();
  });

  it("reports the chain stalled when no new block came for stallSec, and ok once one comes", async () => {
    const t = setup(1);
    t.follower.start();
    await t.follower.caughtUpTo(200n);
    expect(t.follower.chainState).toBe("ok");
    await until(() => t.follower.chainState === "stalled");
    expect(t.follower.headAgeSec).toBeGreaterThanOrEqual(1);
    t.setHead({ number: 201n, hash: "0xa201", parentHash: "0xa200" });
    await until(() => t.follower.chainState === "ok");
    t.follower.stop();
  });

  it("reports the chain unreachable while polls fail, and ok again after", async () => {
    const t = setup();
    t.follower.start();
    await t.follower.caughtUpTo(200n);
    expect(t.follower.chainState).toBe("ok");
    t.setDown(true);
    await until(() => t.follower.chainState === "unreachable");
    expect(t.follower.lastError).toBe("fetch failed");
    expect(t.follower.consecutiveFailures).toBeGreaterThan(0);
    t.setDown(false);
    await until(() => t.follower.chainState === "ok");
    expect(t.follower.lastError).toBeUndefined();
    t.follower.stop();
  });

  it("polls at once when poked (a new head announced), not at the end of its interval", async () => {
    const t = setup(60, 60_000);
    t.follower.start();
    await t.follower.caughtUpTo(200n);
    const before = t.polls();
    t.setHead({ number: 201n, hash: "0xa201", parentHash: "0xa200" });
    t.follower.poke();
    // The 60 s interval would leave block 201 unseen for a minute; the poke has it handled within the wait below.
    await until(() => t.state.data.cursor === 202);
    expect(t.polls()).toBe(before + 1);
    t.follower.stop();
  });

  it("polls again right after a poll that a poke arrived during, instead of sleeping over it", async () => {
    const t = setup(60, 60_000);
    t.follower.start();
    await t.follower.caughtUpTo(200n);
    const release = t.hold();
    t.follower.poke(); // starts a poll, held at getBlock
    await until(() => t.polls() === 2);
    t.setHead({ number: 201n, hash: "0xa201", parentHash: "0xa200" });
    t.follower.poke(); // announced while that poll is in flight
    release();
    await until(() => t.state.data.cursor === 202);
    expect(t.polls()).toBe(3);
    t.follower.stop();
  });

  it("writes the state at once after a batch with events; a batch that only moved the cursor within CURSOR_SAVE_MS", async () => {
    // Block 201 carries an event (a provider unjailed: any followed event), block 202 none.
    const unjailed = {
      address: "0x1",
      topics: encodeEventTopics({
        abi: podnetMarketAbi,
        eventName: "ProviderUnjailed",
        args: { provider: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" },
      }),
      data: encodeAbiParameters([{ type: "uint24" }], [1]),
      blockNumber: 201n,
      logIndex: 0,
      transactionHash: `0x${"11".repeat(32)}`,
    } as unknown as Log;
    const t = setup(60, 60_000, (fromBlock) => (fromBlock === 201n ? [unjailed] : []));
    const writes: string[] = [];
    t.state.flush = async () => {
      writes.push(`flush at cursor ${t.state.data.cursor}`);
    };
    t.state.save = (withinMs?: number) => {
      writes.push(`save at cursor ${t.state.data.cursor} within ${withinMs} ms`);
    };
    t.follower.start();
    await t.follower.caughtUpTo(200n);
    writes.length = 0;
    t.setHead({ number: 201n, hash: "0xa201", parentHash: "0xa200" });
    t.follower.poke();
    await until(() => t.state.data.cursor === 202);
    t.setHead({ number: 202n, hash: "0xa202", parentHash: "0xa201" });
    t.follower.poke();
    await until(() => t.state.data.cursor === 203);
    expect(writes).toEqual(["flush at cursor 202", `save at cursor 203 within ${CURSOR_SAVE_MS} ms`]);
    t.follower.stop();
  });

  it("keeps its back-off while the chain fails: pokes do not make it hammer the RPC", async () => {
    const t = setup(60, 5);
    t.follower.start();
    await t.follower.caughtUpTo(200n);
    t.setDown(true);
    await until(() => t.follower.consecutiveFailures === 1);
    const failed = t.polls();
    for (let i = 0; i < 20; i++) t.follower.poke();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The first back-off is 500 ms: twenty pokes within it add no poll.
    expect(t.polls()).toBe(failed);
    t.follower.stop();
  });
});
