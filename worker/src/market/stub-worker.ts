/**
 * Test support (no production module imports it): a WorkerContext over a stub chain, for the market modules' unit
 * tests. Contract reads answer from `reads` by function name; `BidPlaced` logs come from `bidPlaced`; every log line
 * is kept in `logs`. Writes go through `sendContract`, which the tests mock with {@link stubSendContract}:
 *
 *   vi.mock("../chain/tx-queue.js", async (importOriginal) => ({
 *     ...(await importOriginal<typeof import("../chain/tx-queue.js")>()),
 *     sendContract: (await import("./stub-worker.js")).stubSendContract,
 *   }));
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeErrorResult, getAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { AdminAlerts } from "../admin/alert-store.js";
import { AdminEventBus } from "../admin/event-bus.js";
import type { ContractCall } from "../chain/tx-queue.js";
import type { WorkerContext } from "../context.js";
import type { Logger } from "../log.js";
import { freshStateData } from "../store/worker-state.js";
import { OpenOrders } from "./open-orders.js";
import type { MarketParams } from "./provider-profile.js";

export const stubProvider = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
export const stubMarket = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
export const stubCourt = getAddress("0xe7f1725e7734ce288f8367e1bb143e90bb3f0512");
export const STUB_DEPLOY_BLOCK = 7;

export const stubParams: MarketParams = {
  feeBps: 100,
  unbondingDelay: 604_800,
  collateralSeconds: 86_400,
  minLeaseDuration: 600,
  maxBidWindow: 86_400,
  acceptWindow: 3600,
  maxBidsPerOrder: 3,
  reporterRewardBps: 1000,
  darkSlashBps: 5000,
  minProviderStake: 100n * 10n ** 18n,
  heartbeatThreshold: 600,
  jailCooldown: 86_400,
  disputeWindow: 172_800,
  minBidCollateralBps: 5000,
};

export type LogLine = { level: string; message: string; fields?: Record<string, unknown> };

export interface StubWorker {
  ctx: WorkerContext;
  logs: LogLine[];
  /** Chain time the context reports. */
  now: number;
  reads: Record<string, (args: readonly unknown[]) => unknown>;
  /** `BidPlaced` events by order id: the providers that bid, in event order. */
  bidPlaced: Record<string, `0x${string}`[]>;
  /** Every contract read, as `functionName(args)`. */
  readCalls: string[];
}

/** What the mocked `sendContract` sent, and how it refuses a call (set per test); `stubWorker()` empties both. */
export const stubTransactions: {
  sent: ContractCall[];
  refuse: ((call: ContractCall) => Promise<Error | undefined>) | undefined;
} = { sent: [], refuse: undefined };

/** The market tests' `sendContract`: throws what `stubTransactions.refuse` returns for the call, else records it. */
export async function stubSendContract(_chain: unknown, _txs: unknown, _label: string, call: ContractCall) {
  const error = await stubTransactions.refuse?.(call);
  if (error) throw error;
  stubTransactions.sent.push(call);
  return { logs: [] };
}

export function stubWorker(): StubWorker {
  stubTransactions.sent.length = 0;
  stubTransactions.refuse = undefined;
  const stub: StubWorker = {
    ctx: undefined as unknown as WorkerContext,
    logs: [],
    now: 1_800_000_000,
    reads: { params: () => stubParams },
    bidPlaced: {},
    readCalls: [],
  };
  // Records every line; a child logger's bindings are merged into its lines' fields, as pino writes them.
  const logger = (bindings: Record<string, unknown>): Logger => {
    const at = (level: string) => (message: string, fields?: Record<string, unknown>) => {
      const all = { ...bindings, ...fields };
      stub.logs.push({ level, message, ...(Object.keys(all).length > 0 ? { fields: all } : {}) });
    };
    return {
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      child: (more) => logger({ ...bindings, ...more }),
    };
  };
  const publicClient = {
    readContract: async ({ functionName, args = [] }: { functionName: string; args?: readonly unknown[] }) => {
      stub.readCalls.push(`${functionName}(${args.map(String).join(",")})`);
      const read = stub.reads[functionName];
      if (!read) throw new Error(`stub chain: no read for ${functionName}`);
      return read(args);
    },
    getContractEvents: async ({
      eventName,
      args,
      fromBlock,
    }: {
      eventName: string;
      args: { orderId: bigint };
      fromBlock: bigint;
    }) => {
      if (eventName !== "BidPlaced") throw new Error(`stub chain: no events ${eventName}`);
      if (fromBlock !== BigInt(STUB_DEPLOY_BLOCK)) throw new Error(`stub chain: read from block ${fromBlock}`);
      return (stub.bidPlaced[args.orderId.toString()] ?? []).map((provider) => ({
        args: { orderId: args.orderId, provider },
      }));
    },
  };
  // Made when a test first uses it (the admin app's tokens, request nonces, dispute evidence): most stubs never do, and
  // a folder per stub was dozens of folders left in the temporary directory by every run of the package tests.
  let dataDir: string | undefined;
  const state = {
    data: freshStateData({ chainId: 31337, provider: stubProvider.address, market: stubMarket }, STUB_DEPLOY_BLOCK),
    save: () => undefined,
    saveNow: () => undefined,
    recordEvent(leaseId: string, type: string, message: string) {
      const list = state.data.events[leaseId] ?? [];
      list.push({ at: stub.now, type, message });
      state.data.events[leaseId] = list;
    },
  };
  const bus = new AdminEventBus();
  stub.ctx = {
    config: {
      get dataDir() {
        dataDir ??= mkdtempSync(join(tmpdir(), "podnet-worker-unit-"));
        return dataDir;
      },
      bidding: { enabled: true, priceBps: 10_000 },
      quoteTtlSec: 300,
      openQuotes: false,
      publicUrl: "http://127.0.0.1:7070",
      apiPort: 7070,
    },
    chain: {
      chainId: 31337,
      account: stubProvider,
      publicClient,
      deployment: {
        chainId: 31337,
        deployBlock: STUB_DEPLOY_BLOCK,
        contracts: { podnetMarket: { address: stubMarket }, disputeCourt: { address: stubCourt } },
      },
    },
    state,
    txs: {},
    log: logger({}),
    metrics: { bidsPlaced: { inc: () => undefined } },
    adminEvents: bus,
    alerts: new AdminAlerts(bus, () => stub.now),
    openOrders: new OpenOrders(),
    profile: {
      registered: true,
      active: true,
      capacity: { cpuMillis: 4000, memoryMiB: 8192, storageMiB: 100_000 },
      pricing: { perCpuMilli: 3n, perMemoryMiB: 2n, perStorageMiB: 1n, flat: 5n },
      attributes: [],
    },
    params: { ...stubParams },
    manifests: { list: () => [], get: () => undefined },
    runtime: { listContainers: async () => [] },
    chainNow: () => stub.now,
    reconcileLease: async () => undefined,
  } as unknown as WorkerContext;
  return stub;
}

/** A revert of the market or the court with custom error `errorName`, as viem throws it from a write. */
export async function revertError(abi: readonly unknown[], errorName: string, args: readonly unknown[]) {
  const { ContractFunctionRevertedError } = await import("viem");
  return new ContractFunctionRevertedError({
    abi: abi as never,
    data: encodeErrorResult({ abi: abi as never, errorName, args } as never),
    functionName: "x",
  });
}
