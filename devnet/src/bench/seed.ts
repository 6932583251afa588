/**
 * A seeded marketplace for the benchmarks (npm run bench, bench:indexer): accounts this process signs for, blocks
 * of thousands of transactions mined at once, providers with varied prices, capacity and attributes; then the lag
 * from a mined block to GraphQL and /search latency against the real Ponder indexer.
 */
import {
  type ApiErrorBody,
  type Deployment,
  disputeCourtAbi,
  encodeAttribute,
  type Pricing,
  podnetMarketAbi,
  podnetTestTokenAbi,
  providerRegistryAbi,
  type Resources,
  type SearchResponse,
} from "@podnet/sdk";
import {
  type Abi,
  type Address,
  encodeFunctionData,
  encodePacked,
  type Hex,
  keccak256,
  maxUint256,
  parseEther,
  toEventSelector,
} from "viem";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { LOCAL_CHAIN_ID } from "../anvil.js";
import { graphql } from "../indexer.js";
import { sleep } from "./stats.js";
/** Block gas limit a seeding chain needs (anvil --gas-limit): thousands of transactions must fit in one block. */
export const BLOCK_GAS_LIMIT = 100_000_000_000n;
/** Per-transaction gas limit; generous, because nothing is estimated against the pending state. */
const TX_GAS = 1_000_000n;
const PROVIDERS_PER_BLOCK = 250;

/** Where the indexer answers (GraphQL, /search). */
type IndexerUrl = { url: string };

type RpcCall = { method: string; params: unknown[] };

export class Rpc {
  constructor(readonly url: string) {}

  async call<T>(method: string, params: unknown[] = []): Promise<T> {
    const [result] = await this.batch<T>([{ method, params }]);
    return result as T;
  }

  /** One HTTP request for many calls: anvil answers JSON-RPC batches, which saves a round trip per transaction. */
  async batch<T>(calls: RpcCall[]): Promise<T[]> {
    const body = calls.map((c, id) => ({ jsonrpc: "2.0", id, method: c.method, params: c.params }));
    const response = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const replies = (await response.json()) as { id: number; result?: T; error?: { message: string } }[];
    replies.sort((a, b) => a.id - b.id);
    return replies.map((reply, i) => {
      if (reply.error) throw new Error(`${calls[i]?.method}: ${reply.error.message}`);
      return reply.result as T;
    });
  }
}

export type RpcLog = { address: Address; topics: [Hex, ...Hex[]]; data: Hex };
export type RpcReceipt = { transactionHash: Hex; status: Hex; logs: RpcLog[] };
export type RpcBlock = { number: Hex; timestamp: Hex };

// ---------------------------------------------------------------- accounts and transactions

/** An account whose nonce this process tracks, so many transactions can be signed before any is mined. */
export class Wallet {
  nonce = 0;
  /** Quote nonces are unordered bitmaps in the market; a counter keeps them unique. */
  quoteNonce = 0n;
  constructor(readonly account: PrivateKeyAccount) {}
  get address() {
    return this.account.address;
  }
}

/** Deterministic keys, so a run is reproducible and no key needs storing. */
export function wallet(role: string, index: number): Wallet {
  const key = keccak256(encodePacked(["string", "uint256"], [`podnet-bench-${role}`, BigInt(index)]));
  return new Wallet(privateKeyToAccount(key));
}

export type Call = { from: Wallet; to: Address; data: Hex };
export type Signed = { call: Call; raw: Hex; hash: Hex };

export async function sign({ from, to, data }: Call): Promise<Signed> {
  const raw = await from.account.signTransaction({
    type: "eip1559",
    chainId: LOCAL_CHAIN_ID,
    nonce: from.nonce++,
    to,
    data,
    gas: TX_GAS,
    // The huge block gas limit keeps blocks far under target, so the base fee only falls from anvil's 1 gwei.
    maxFeePerGas: 2_000_000_000n,
    maxPriorityFeePerGas: 1n,
  });
  return { call: { from, to, data }, raw, hash: keccak256(raw) };
}

/** A chain this process signs for itself: nonces tracked locally, blocks mined when a batch is complete. */
export type SeedChain = {
  rpc: Rpc;
  deployment: Deployment;
  deploymentsFile: string;
  /** Addresses the indexer listens to (lowercase): only their logs count as indexed events. */
  indexed: Set<string>;
  /** Timestamp of the last mined block; the next manual block is one second later. */
  time: number;
  blockNumber: number;
};

export const eventNames = new Map<Hex, string>();
for (const abi of [providerRegistryAbi, podnetMarketAbi, disputeCourtAbi] as Abi[]) {
  for (const item of abi) if (item.type === "event") eventNames.set(toEventSelector(item), item.name);
}

export type Mined = { receipts: Map<Hex, RpcReceipt>; events: number; byName: Map<string, number> };

/**
 * Signs, sends and mines `calls` as one block. Blocks advance one second each, whatever the wall time, so a
 * provider's stake-time heartbeat stays fresh for the whole seeding (the market refuses leases from silent ones).
 */
export async function mineBlock(chain: SeedChain, calls: Call[]): Promise<Mined> {
  const signed: Signed[] = [];
  for (const call of calls) signed.push(await sign(call));
  const chunks: Signed[][] = [];
  for (let i = 0; i < signed.length; i += 250) chunks.push(signed.slice(i, i + 250));
  // A few batches in flight at once: anvil validates transactions while the next batch is on the wire.
  for (let i = 0; i < chunks.length; i += 4) {
    await Promise.all(
      chunks
        .slice(i, i + 4)
        .map((chunk) => chain.rpc.batch(chunk.map((s) => ({ method: "eth_sendRawTransaction", params: [s.raw] })))),
    );
  }
  chain.time += 1;
  await chain.rpc.call("evm_mine", [{ timestamp: chain.time, blocks: 1 }]);
  chain.blockNumber += 1;
  const receipts = await chain.rpc.call<RpcReceipt[]>("eth_getBlockReceipts", [`0x${chain.blockNumber.toString(16)}`]);
  return checkReceipts(chain, signed, receipts);
}

/** Every transaction must be in the block and succeed: a silent failure would make the counts lie. */
export function checkReceipts(chain: SeedChain, signed: Signed[], receipts: RpcReceipt[]): Mined {
  if (receipts.length !== signed.length) {
    throw new Error(`block ${chain.blockNumber}: ${receipts.length} of ${signed.length} transactions mined`);
  }
  const byHash = new Map(receipts.map((r) => [r.transactionHash, r]));
  const byName = new Map<string, number>();
  let events = 0;
  for (const s of signed) {
    const receipt = byHash.get(s.hash);
    if (!receipt) throw new Error(`block ${chain.blockNumber}: transaction ${s.hash} missing`);
    if (receipt.status !== "0x1") throw new Error(`block ${chain.blockNumber}: transaction ${s.hash} reverted`);
    for (const log of receipt.logs) {
      if (!chain.indexed.has(log.address.toLowerCase())) continue;
      events += 1;
      const name = eventNames.get(log.topics[0]) ?? "unknown";
      byName.set(name, (byName.get(name) ?? 0) + 1);
    }
  }
  return { receipts: byHash, events, byName };
}

export const REGIONS = ["eu-west", "eu-central", "us-east", "us-west", "ap-south"];
export const TOKENS = parseEther("1000000000");
export const STAKE = parseEther("1000000");

/** A varied provider profile: prices, capacity and attributes differ so that search has something to rank. */
export function profileOf(i: number) {
  const pricing: Pricing = {
    perCpuMilli: 1_000_000n + BigInt((i * 7919) % 1000) * 1_000n,
    perMemoryMiB: 100_000n + BigInt((i * 104_729) % 1000) * 100n,
    perStorageMiB: 1_000n,
    flat: BigInt(i % 10) * 1_000_000n,
  };
  const capacity: Resources = {
    cpuMillis: 1000 * (1 + (i % 64)),
    memoryMiB: 1024 * (1 + ((i * 31) % 256)),
    storageMiB: 10_240 * (1 + (i % 50)),
  };
  const attributes = [`region=${REGIONS[i % REGIONS.length]}`];
  if (i % 3 === 0) attributes.push("tee=sgx");
  if (i % 7 === 0) attributes.push("gpu=a100");
  return {
    endpoint: `https://provider-${i}.bench.podnet.invalid`,
    metadataURI: `ipfs://bench/${i}`,
    encryptionKey: keccak256(encodePacked(["string", "uint256"], ["podnet-bench-x25519", BigInt(i)])),
    pricing,
    capacity,
    attributes: attributes.map((a) => {
      const [key = "", value = ""] = a.split("=");
      return encodeAttribute(key, value);
    }),
  };
}

export const data = {
  mint: (to: Address) => encodeFunctionData({ abi: podnetTestTokenAbi, functionName: "mint", args: [to, TOKENS] }),
  approve: (spender: Address) =>
    encodeFunctionData({ abi: podnetTestTokenAbi, functionName: "approve", args: [spender, maxUint256] }),
  market: (functionName: string, args: readonly unknown[]) =>
    encodeFunctionData({ abi: podnetMarketAbi as Abi, functionName, args }),
};

/** Gives accounts ETH for gas (no transaction needed on anvil), then tokens and the market's allowance. */
export async function fundCalls(chain: SeedChain, wallets: Wallet[]): Promise<Call[]> {
  await chain.rpc.batch(
    wallets.map((w) => ({ method: "anvil_setBalance", params: [w.address, `0x${parseEther("1000").toString(16)}`] })),
  );
  const { paymentToken, podnetMarket } = chain.deployment.contracts;
  return wallets.flatMap((w) => [
    { from: w, to: paymentToken.address, data: data.mint(w.address) },
    { from: w, to: paymentToken.address, data: data.approve(podnetMarket.address) },
  ]);
}

/**
 * Providers `from` .. `count - 1` register and stake, PROVIDERS_PER_BLOCK per block (each one's four transactions in
 * the same block), until `count` or `deadline` (Date.now() ms). `onBlock` sees each mined block with its transaction
 * count and the providers it added.
 */
export async function seedProviders(
  chain: SeedChain,
  count: number,
  { from = 0, deadline = Number.POSITIVE_INFINITY, onBlock }: SeedOptions = {},
): Promise<Wallet[]> {
  const registry = chain.deployment.contracts.providerRegistry.address;
  const market = chain.deployment.contracts.podnetMarket.address;
  const providers: Wallet[] = [];
  for (let first = from; first < count && Date.now() < deadline; first += PROVIDERS_PER_BLOCK) {
    const batch: Wallet[] = [];
    for (let i = first; i < Math.min(count, first + PROVIDERS_PER_BLOCK); i++) batch.push(wallet("provider", i));
    const calls = await fundCalls(chain, batch);
    batch.forEach((w, j) => {
      const profile = profileOf(first + j);
      calls.push({
        from: w,
        to: registry,
        data: encodeFunctionData({ abi: providerRegistryAbi, functionName: "register", args: [profile] }),
      });
      calls.push({ from: w, to: market, data: data.market("stake", [STAKE]) });
    });
    const mined = await mineBlock(chain, calls);
    providers.push(...batch);
    onBlock?.(mined, calls.length, batch);
  }
  return providers;
}

type SeedOptions = {
  /** The first provider index to seed (earlier ones exist already). */
  from?: number;
  deadline?: number;
  onBlock?: (mined: Mined, transactions: number, providers: Wallet[]) => void;
};

export async function lastHeartbeat(indexer: IndexerUrl, address: Address): Promise<string | null> {
  const data = await graphql<{ provider: { lastHeartbeat: string | null } | null }>(
    indexer,
    `{ provider(address: "${address.toLowerCase()}") { lastHeartbeat } }`,
  );
  return data.provider?.lastHeartbeat ?? null;
}

/**
 * With automining back on, sends heartbeats one at a time (a different provider each, so every one changes a
 * value) and times from the mined block (the send returns once anvil mined it) until GraphQL shows it.
 */
export async function waitForReceipt(chain: SeedChain, hash: Hex): Promise<RpcReceipt> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const receipt = await chain.rpc.call<RpcReceipt | null>("eth_getTransactionReceipt", [hash]);
    if (receipt) return receipt;
    if (Date.now() > deadline) {
      const pool = await chain.rpc.call("txpool_status");
      throw new Error(`transaction ${hash} not mined within 10 s (pool ${JSON.stringify(pool)})`);
    }
    await sleep(5);
  }
}

export async function measureLag(
  chain: SeedChain,
  indexer: IndexerUrl,
  providers: Wallet[],
  samples: number,
): Promise<number[]> {
  await chain.rpc.call("evm_setAutomine", [true]);
  const market = chain.deployment.contracts.podnetMarket.address;
  const lags: number[] = [];
  for (let i = 0; i < Math.min(samples, providers.length); i++) {
    const provider = providers[i] as Wallet;
    const before = await lastHeartbeat(indexer, provider.address);
    const signed = await sign({ from: provider, to: market, data: data.market("heartbeat", []) });
    await chain.rpc.call("eth_sendRawTransaction", [signed.raw]);
    const mined = performance.now();
    const receipt = await waitForReceipt(chain, signed.hash);
    if (receipt.status !== "0x1") throw new Error(`heartbeat ${signed.hash} reverted`);
    while ((await lastHeartbeat(indexer, provider.address)) === before) {
      if (performance.now() - mined > 60_000) throw new Error("a heartbeat did not reach GraphQL within 60 s");
      await sleep(15);
    }
    lags.push(performance.now() - mined);
    // Spread the samples over Ponder's polling interval instead of always landing right after a poll.
    await sleep(50 + ((i * 37) % 200));
  }
  return lags;
}

// ---------------------------------------------------------------- search latency

export function searchUrl(indexer: IndexerUrl, i: number): string {
  const params = new URLSearchParams({
    cpu: String(250 * (1 + (i % 16))),
    memory: String(256 * (1 + ((i * 7) % 32))),
  });
  if (i % 2 === 0) params.append("attr", `region=${REGIONS[i % REGIONS.length]}`);
  if (i % 5 === 0) params.append("attr", "tee=sgx");
  if (i % 11 === 0) params.set("maxPrice", String(2_000_000_000n + BigInt(i) * 10_000_000n));
  if (i % 3 === 0) params.set("limit", "50");
  return `${indexer.url}/search?${params}`;
}

export async function measureSearch(indexer: IndexerUrl, requests: number) {
  const latencies: number[] = [];
  let results = 0;
  for (let i = 0; i < requests; i++) {
    const start = performance.now();
    const response = await fetch(searchUrl(indexer, i));
    const body = (await response.json()) as Partial<SearchResponse & ApiErrorBody>;
    latencies.push(performance.now() - start);
    if (!response.ok || !body.providers) throw new Error(`/search: ${response.status} ${body.error?.message ?? ""}`);
    results += body.providers.length;
  }
  return { latencies, meanResults: results / requests };
}

/** Attaches to a freshly deployed anvil for seeding: automine off, so a block is mined only when a batch is complete. */
export async function seedChain(rpcUrl: string, deployment: Deployment, deploymentsFile: string): Promise<SeedChain> {
  const rpc = new Rpc(rpcUrl);
  await rpc.call("evm_setAutomine", [false]);
  const latest = await rpc.call<RpcBlock>("eth_getBlockByNumber", ["latest", false]);
  const { providerRegistry, podnetMarket, disputeCourt } = deployment.contracts;
  return {
    rpc,
    deployment,
    deploymentsFile,
    indexed: new Set([providerRegistry, podnetMarket, disputeCourt].map((c) => c.address.toLowerCase())),
    time: Number(BigInt(latest.timestamp)),
    blockNumber: Number(BigInt(latest.number)),
  };
}
