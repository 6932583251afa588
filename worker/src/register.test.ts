import { createPublicClient, custom } from "viem";
import { describe, expect, it } from "vitest";
import type { ChainContext } from "./chain/connect.js";
import { ensureStake } from "./register.js";

// `podnet-worker register`'s stake step against a stub chain: top-ups, and leaving jail with unjail (re-staking alone
// no longer ends a jail).

const TOKEN = 10n ** 18n;
const NOW = 1_800_000_000;
const MIN = 100n * TOKEN;

type StakeView = { free: bigint; locked: bigint; jailed: boolean; epoch: number };

function stubChain(stake: StakeView, { jailedUntil = 0, balance = 10_000n * TOKEN } = {}) {
  const writes: { functionName: string; args?: readonly unknown[] }[] = [];
  const darkRecordReads: unknown[][] = [];
  const chain = {
    account: { address: "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc" },
    deployment: {
      contracts: {
        podnetMarket: { address: "0x5fbdb2315678afecb367f032d93f642f64180aa3" },
        paymentToken: { address: "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512" },
      },
    },
    publicClient: {
      readContract: async ({ functionName, args = [] }: { functionName: string; args?: unknown[] }) => {
        if (functionName === "stakeOf") return stake;
        if (functionName === "params") return { minProviderStake: MIN };
        if (functionName === "balanceOf") return balance;
        if (functionName === "darkRecord") {
          darkRecordReads.push(args);
          return { jailedUntil };
        }
        throw new Error(`no read ${functionName}`);
      },
      getBlock: async () => ({ timestamp: BigInt(NOW) }),
      waitForTransactionReceipt: async ({ hash }: { hash: string }) => ({ status: "success", transactionHash: hash }),
    },
    walletClient: {
      writeContract: async (call: { functionName: string; args?: readonly unknown[] }) => {
        writes.push({ functionName: call.functionName, args: call.args });
        return `0x${writes.length.toString(16).padStart(64, "0")}`;
      },
    },
  } as unknown as ChainContext;
  return { chain, writes, darkRecordReads };
}

const lines: string[] = [];
const say = (line: string) => lines.push(line);

describe("ensureStake", () => {
  it("leaves a bonded, free provider alone", async () => {
    const { chain, writes } = stubChain({ free: 1000n * TOKEN, locked: 0n, jailed: false, epoch: 0 });
    await ensureStake(chain, { stake: 1000n * TOKEN }, say);
    expect(writes).toEqual([]);
  });

  it("tops a short stake up to the configured amount", async () => {
    const { chain, writes } = stubChain({ free: 400n * TOKEN, locked: 100n * TOKEN, jailed: false, epoch: 0 });
    await ensureStake(chain, { stake: 1000n * TOKEN }, say);
    expect(writes.map((w) => [w.functionName, w.args?.at(-1)])).toEqual([
      ["approve", 500n * TOKEN],
      ["stake", 500n * TOKEN],
    ]);
  });

  it("leaves jail with unjail once the cooldown is over, staking nothing when the stake suffices", async () => {
    const { chain, writes, darkRecordReads } = stubChain(
      { free: 900n * TOKEN, locked: 0n, jailed: true, epoch: 2 },
      { jailedUntil: NOW },
    );
    await ensureStake(chain, { stake: 500n * TOKEN }, say);
    expect(writes.map((w) => w.functionName)).toEqual(["unjail"]);
    // The jail ended by the last report, that of the epoch before the current one.
    expect(darkRecordReads).toEqual([[chain.account.address, 1n]]);
  });

  it("tops up to the market's minimum before unjail when the slash took the stake below it", async () => {
    const { chain, writes } = stubChain(
      { free: 30n * TOKEN, locked: 0n, jailed: true, epoch: 1 },
      { jailedUntil: NOW - 10 },
    );
    // The configured stake is below the minimum: the minimum wins, unjail would revert otherwise.
    await ensureStake(chain, { stake: 50n * TOKEN }, say);
    expect(writes.map((w) => [w.functionName, w.args?.at(-1)])).toEqual([
      ["approve", 70n * TOKEN],
      ["stake", 70n * TOKEN],
      ["unjail", undefined],
    ]);
  });

  it("refuses before the cooldown is over, naming when it ends, without calling unjail", async () => {
    const { chain, writes } = stubChain(
      { free: 900n * TOKEN, locked: 0n, jailed: true, epoch: 1 },
      { jailedUntil: NOW + 3600 },
    );
    await expect(ensureStake(chain, { stake: 500n * TOKEN }, say)).rejects.toThrow(new RegExp(`jailed.*${NOW + 3600}`));
    expect(writes.map((w) => w.functionName)).not.toContain("unjail");
  });
});

/**
 * A chain whose receipts appear `delayMs` after the transaction is sent, as on a chain that mines on a timer or an anvil
 * busy when the first check comes: viem's real `waitForTransactionReceipt` over a scripted JSON-RPC transport.
 */
function slowReceiptClient(delayMs: number, pollingInterval: number) {
  const sentAt = new Map<string, number>();
  const hex = (n: bigint) => `0x${n.toString(16)}`;
  const blockOf = (hash: string) => 2n + BigInt([...sentAt.keys()].indexOf(hash));
  const client = createPublicClient({
    pollingInterval,
    transport: custom({
      async request({ method, params }: { method: string; params?: unknown[] }) {
        const hash = (params?.[0] ?? "") as string;
        const mined = sentAt.has(hash) && Date.now() - (sentAt.get(hash) ?? 0) >= delayMs;
        // Each transaction mined in a block of its own, the n-th sent in block n + 1: the head is block 1 before any.
        const block = 1n + BigInt([...sentAt.values()].filter((at) => Date.now() - at >= delayMs).length);
        if (method === "eth_chainId") return "0x7a69";
        if (method === "eth_blockNumber") return hex(block);
        // viem looks in the head block for a replacement (same sender and nonce) of a transaction not mined yet.
        if (method === "eth_getBlockByNumber")
          return { number: hex(block), hash: `0x${"c".repeat(64)}`, transactions: [] };
        if (method === "eth_getTransactionByHash") {
          // Known to the chain from the send on: pending (no block) until mined.
          if (!sentAt.has(hash)) return null;
          return {
            blockHash: mined ? `0x${"b".repeat(64)}` : null,
            blockNumber: mined ? hex(blockOf(hash)) : null,
            from: `0x${"1".repeat(40)}`,
            gas: "0x5208",
            gasPrice: "0x1",
            hash,
            input: "0x",
            nonce: "0x0",
            to: `0x${"2".repeat(40)}`,
            transactionIndex: mined ? "0x0" : null,
            value: "0x0",
            type: "0x0",
            v: "0x1b",
            r: `0x${"1".repeat(64)}`,
            s: `0x${"1".repeat(64)}`,
          };
        }
        if (method === "eth_getTransactionReceipt") {
          if (!mined) return null;
          return {
            blockHash: `0x${"b".repeat(64)}`,
            blockNumber: hex(blockOf(hash)),
            contractAddress: null,
            cumulativeGasUsed: "0x5208",
            effectiveGasPrice: "0x1",
            from: `0x${"1".repeat(40)}`,
            gasUsed: "0x5208",
            logs: [],
            logsBloom: `0x${"0".repeat(512)}`,
            status: "0x1",
            to: `0x${"2".repeat(40)}`,
            transactionHash: hash,
            transactionIndex: "0x0",
            type: "0x2",
          };
        }
        throw new Error(`no ${method}`);
      },
    }),
  });
  return { client, sent: (hash: string) => sentAt.set(hash, Date.now()) };
}

describe("register's transactions", () => {
  it("wait for their receipts at a receipt's pace, not at the follower's poll interval", async () => {
    // A worker configured to poll the chain every 10 minutes (one that learns of leases by a new-head subscription):
    // its public client polls at that interval, and a receipt missed by the first check was looked for again only
    // then, past viem's 180 s timeout (chain-push.test's control worker, 2026-12-07).
    const { chain, writes } = stubChain({ free: 400n * TOKEN, locked: 0n, jailed: false, epoch: 0 });
    const slow = slowReceiptClient(300, 600_000);
    const write = chain.walletClient.writeContract;
    const withSlowReceipts = {
      ...chain,
      publicClient: { ...chain.publicClient, waitForTransactionReceipt: slow.client.waitForTransactionReceipt },
      walletClient: {
        writeContract: async (call: never) => {
          const hash = await write(call);
          slow.sent(hash);
          return hash;
        },
      },
    } as unknown as ChainContext;
    const started = Date.now();
    await ensureStake(withSlowReceipts, { stake: 1000n * TOKEN }, say);
    expect(writes.map((w) => w.functionName)).toEqual(["approve", "stake"]);
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 10_000);
});
