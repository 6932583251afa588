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
