/**
 * `npm run bench:indexer -- [--providers N] [--leases N] [--minutes M] [--postgres] [--keep-logs DIR]`: benchmarks
 * the Ponder indexer against real parts: its own anvil, the real contracts, a seeded history, then `ponder start`.
 *
 * 1. Starts anvil on a free port and deploys with script/deploy-local.ts into a temp DEPLOYMENTS_DIR.
 * 2. Seeds a history with manual mining (one block per batch of signed raw transactions): N providers register
 *    and stake, then leases go through create, top-up, withdraw and close until --leases events (or --minutes).
 * 3. Starts the indexer after seeding and times the catch-up (events/s).
 * 4. Measures the lag from a mined block to GraphQL on a live (automining) chain.
 * 5. Measures /search latency at that size.
 * 6. Prints a markdown table and writes it to docs/indexer-benchmarks.md.
 *
 * Every process it starts (anvil, ponder) is killed on exit, error or Ctrl-C, and its temp dirs are removed.
 * --postgres benches Postgres at $PODNET_TEST_DATABASE_URL (a fresh schema, dropped afterwards) instead of PGlite;
 * --keep-logs DIR copies anvil's and ponder's logs to DIR before the temp dir goes.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { cpus, freemem, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type Deployment,
  disputeCourtAbi,
  encodeAttribute,
  type Pricing,
  parseDeployment,
  podnetMarketAbi,
  podnetTestTokenAbi,
  pricePerSecond,
  providerRegistryAbi,
  quoteDomain,
  quoteTypes,
  type Resources,
} from "@podnet/sdk";
import {
  type Abi,
  type Address,
  decodeEventLog,
  encodeFunctionData,
  encodePacked,
  type Hex,
  keccak256,
  maxUint256,
  parseEther,
  toEventSelector,
} from "viem";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { bin, repoRoot, startAnvil } from "./lib/chain.js";

const CHAIN_ID = 31337;
/** Block gas limit of the bench chain: thousands of transactions must fit in one block. */
const BLOCK_GAS_LIMIT = 100_000_000_000n;
/** Per-transaction gas limit; generous, because nothing is estimated against the pending state. */
const TX_GAS = 1_000_000n;
const PROVIDERS_PER_BLOCK = 250;
const LEASES_PER_COHORT = 400;
const PUBLISHERS = 500;
const LAG_SAMPLES = 50;
const SEARCH_REQUESTS = 200;
const GOALS = { eventsPerSecond: 2_000, lagP95Ms: 2_000, searchP95Ms: 50 };

// ---------------------------------------------------------------- cleanup

const cleanups: (() => void)[] = [];

/** Runs every cleanup once, newest first. Synchronous, so it also works from the "exit" event. */
function cleanup() {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      fn();
    } catch {
      // Best effort: one failed cleanup must not keep the others from running.
    }
  }
}

/** Kills a process started detached, with its whole group (anvil's npm wrapper and the native binary). */
function killGroup(child: ChildProcess) {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    child.kill("SIGTERM");
  }
}

process.on("exit", cleanup);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    cleanup();
    process.exit(130);
  });
}

// ---------------------------------------------------------------- small helpers

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

function summarize(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) ?? Number.NaN };
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits }) : "n/a";

// ---------------------------------------------------------------- JSON-RPC

type RpcCall = { method: string; params: unknown[] };

class Rpc {
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

type RpcLog = { address: Address; topics: [Hex, ...Hex[]]; data: Hex };
type RpcReceipt = { transactionHash: Hex; status: Hex; logs: RpcLog[] };
type RpcBlock = { number: Hex; timestamp: Hex };

// ---------------------------------------------------------------- accounts and transactions

/** An account whose nonce this process tracks, so many transactions can be signed before any is mined. */
class Wallet {
  nonce = 0;
  /** Quote nonces are unordered bitmaps in the market; a counter keeps them unique. */
  quoteNonce = 0n;
  constructor(readonly account: PrivateKeyAccount) {}
  get address() {
    return this.account.address;
  }
}

/** Deterministic keys, so a run is reproducible and no key needs storing. */
function wallet(role: string, index: number): Wallet {
  const key = keccak256(encodePacked(["string", "uint256"], [`podnet-bench-${role}`, BigInt(index)]));
  return new Wallet(privateKeyToAccount(key));
}

type Call = { from: Wallet; to: Address; data: Hex };
type Signed = { call: Call; raw: Hex; hash: Hex };

async function sign({ from, to, data }: Call): Promise<Signed> {
  const raw = await from.account.signTransaction({
    type: "eip1559",
    chainId: CHAIN_ID,
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

// ---------------------------------------------------------------- the chain under test

type Chain = {
  rpc: Rpc;
  deployment: Deployment;
  deploymentsFile: string;
  /** Addresses the indexer listens to (lowercase): only their logs count as indexed events. */
  indexed: Set<string>;
  /** Timestamp of the last mined block; the next manual block is one second later. */
  time: number;
  blockNumber: number;
};

const eventNames = new Map<Hex, string>();
for (const abi of [providerRegistryAbi, podnetMarketAbi, disputeCourtAbi] as Abi[]) {
  for (const item of abi) if (item.type === "event") eventNames.set(toEventSelector(item), item.name);
}

async function startChain(workDir: string): Promise<Chain> {
  const port = await freePort();
  const { rpcUrl, process: anvil } = await startAnvil({
    port,
    logFile: join(workDir, "anvil.log"),
    detached: true,
    args: ["--gas-limit", BLOCK_GAS_LIMIT.toString(), "--silent"],
  });
  cleanups.push(() => killGroup(anvil));
  const deploymentsDir = join(workDir, "deployments");
  execFileSync(bin("tsx"), [join(repoRoot, "script/deploy-local.ts")], {
    cwd: repoRoot,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, RPC_URL: rpcUrl, DEPLOYMENTS_DIR: deploymentsDir },
  });
  const deploymentsFile = join(deploymentsDir, `${CHAIN_ID}.json`);
  const deployment = parseDeployment(JSON.parse(readFileSync(deploymentsFile, "utf8")));
  const rpc = new Rpc(rpcUrl);
  // From here on, a block is mined only when a batch is complete.
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

type Mined = { receipts: Map<Hex, RpcReceipt>; events: number; byName: Map<string, number> };

/**
 * Signs, sends and mines `calls` as one block. Blocks advance one second each, whatever the wall time, so a
 * provider's stake-time heartbeat stays fresh for the whole seeding (the market refuses leases from silent ones).
 */
async function mineBlock(chain: Chain, calls: Call[]): Promise<Mined> {
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

/**
 * Empty blocks after the seeded history, more than Ponder's finality depth for chain 31337 (30 blocks): a seeded
 * history is history, so the catch-up measures Ponder's historical sync. The live path (one block at a time) is
 * what the lag measurement times.
 */
const FINALITY_BLOCKS = 64;

async function finalizeHistory(chain: Chain) {
  for (let i = 0; i < FINALITY_BLOCKS; i++) {
    chain.time += 1;
    await chain.rpc.call("evm_mine", [{ timestamp: chain.time, blocks: 1 }]);
    chain.blockNumber += 1;
  }
}

/** Every transaction must be in the block and succeed: a silent failure would make the counts lie. */
function checkReceipts(chain: Chain, signed: Signed[], receipts: RpcReceipt[]): Mined {
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

// ---------------------------------------------------------------- seeding

type Seeded = {
  providers: Wallet[];
  providersWanted: number;
  leases: number;
  events: number;
  lifecycleEvents: number;
  byName: Map<string, number>;
  transactions: number;
  blocks: number;
  seconds: number;
  stoppedByTime: boolean;
};

const REGIONS = ["eu-west", "eu-central", "us-east", "us-west", "ap-south"];
const TOKENS = parseEther("1000000000");
const STAKE = parseEther("1000000");

/** A varied provider profile: prices, capacity and attributes differ so that search has something to rank. */
function profileOf(i: number) {
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

const data = {
  mint: (to: Address) => encodeFunctionData({ abi: podnetTestTokenAbi, functionName: "mint", args: [to, TOKENS] }),
  approve: (spender: Address) =>
    encodeFunctionData({ abi: podnetTestTokenAbi, functionName: "approve", args: [spender, maxUint256] }),
  market: (functionName: string, args: readonly unknown[]) =>
    encodeFunctionData({ abi: podnetMarketAbi as Abi, functionName, args }),
};

/** Gives accounts ETH for gas (no transaction needed on anvil), then tokens and the market's allowance. */
async function fundCalls(chain: Chain, wallets: Wallet[]): Promise<Call[]> {
  await chain.rpc.batch(
    wallets.map((w) => ({ method: "anvil_setBalance", params: [w.address, `0x${parseEther("1000").toString(16)}`] })),
  );
  const { paymentToken, podnetMarket } = chain.deployment.contracts;
  return wallets.flatMap((w) => [
    { from: w, to: paymentToken.address, data: data.mint(w.address) },
    { from: w, to: paymentToken.address, data: data.approve(podnetMarket.address) },
  ]);
}

class Progress {
  private last = 0;
  constructor(private readonly start: number) {}
  log(message: string, force = false) {
    const now = Date.now();
    if (!force && now - this.last < 5_000) return;
    this.last = now;
    console.log(`  [${fmt((now - this.start) / 1000, 0)} s] ${message}`);
  }
}

function addCounts(target: Map<string, number>, source: Map<string, number>) {
  for (const [name, n] of source) target.set(name, (target.get(name) ?? 0) + n);
}

/** Providers register and stake, PROVIDERS_PER_BLOCK per block (each one's four transactions in the same block). */
async function seedProviders(chain: Chain, count: number, deadline: number, seeded: Seeded, progress: Progress) {
  const registry = chain.deployment.contracts.providerRegistry.address;
  const market = chain.deployment.contracts.podnetMarket.address;
  for (let first = 0; first < count && Date.now() < deadline; first += PROVIDERS_PER_BLOCK) {
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
    record(seeded, await mineBlock(chain, calls), calls.length);
    seeded.providers.push(...batch);
    progress.log(`providers ${fmt(seeded.providers.length)}/${fmt(count)}, events ${fmt(seeded.events)}`);
  }
}

function record(seeded: Seeded, mined: Mined, transactions: number) {
  seeded.events += mined.events;
  seeded.transactions += transactions;
  seeded.blocks += 1;
  addCounts(seeded.byName, mined.byName);
}

type Lease = { id: bigint; provider: Wallet; publisher: Wallet; close: boolean };

/** Signs a quote with the provider's key, priced by its listed prices (as a real provider would). */
async function createLeaseCall(chain: Chain, provider: Wallet, publisher: Wallet, i: number): Promise<Call> {
  const profile = profileOf(Number(BigInt.asUintN(32, BigInt(i))));
  const resources: Resources = { cpuMillis: 500 + (i % 4) * 250, memoryMiB: 512 * (1 + (i % 4)), storageMiB: 1024 };
  const quote = {
    provider: provider.address,
    publisher: publisher.address,
    specHash: keccak256(encodePacked(["string", "uint256"], ["podnet-bench-spec", BigInt(i)])),
    resources,
    pricePerSecond: pricePerSecond(profile.pricing, resources),
    validUntil: chain.time + 86_400,
    attestationHash: keccak256(encodePacked(["string", "uint256"], ["podnet-bench-attestation", BigInt(i)])),
    nonce: provider.quoteNonce++,
  };
  const signature = await provider.account.signTypedData({
    domain: quoteDomain(CHAIN_ID, chain.deployment.contracts.podnetMarket.address),
    types: quoteTypes,
    primaryType: "Quote",
    message: quote,
  });
  // A day of funds: well above the market's 10-minute minimum, and it never runs out during the bench.
  const deposit = quote.pricePerSecond * 86_400n;
  return {
    from: publisher,
    to: chain.deployment.contracts.podnetMarket.address,
    data: data.market("createLease", [quote, signature, deposit]),
  };
}

/**
 * Leases in cohorts through a four-stage pipeline, one stage per block: cohort c is created while c-1 is topped
 * up, c-2's providers withdraw, and half of c-3 is closed by its publishers. Every block thus mixes the lease
 * events an indexer sees in production.
 */
async function seedLeases(chain: Chain, aim: number, deadline: number, seeded: Seeded, progress: Progress) {
  const market = chain.deployment.contracts.podnetMarket.address;
  const publishers = Array.from({ length: PUBLISHERS }, (_, i) => wallet("publisher", i));
  const funding = await fundCalls(chain, publishers);
  record(seeded, await mineBlock(chain, funding), funding.length);

  const providers = seeded.providers;
  const cohortSize = Math.min(LEASES_PER_COHORT, providers.length);
  const cohorts: Lease[][] = [];
  const startEvents = seeded.events;
  let leaseIndex = 0;
  for (let c = 0; Date.now() < deadline; c++) {
    const creating = seeded.lifecycleEvents < aim;
    if (!creating && c - cohorts.length >= 3) break;
    const calls: Call[] = [];
    const newLeases: { provider: Wallet; publisher: Wallet }[] = [];
    if (creating) {
      for (let j = 0; j < cohortSize; j++, leaseIndex++) {
        const provider = providers[leaseIndex % providers.length] as Wallet;
        const publisher = publishers[leaseIndex % publishers.length] as Wallet;
        calls.push(await createLeaseCall(chain, provider, publisher, leaseIndex));
        newLeases.push({ provider, publisher });
      }
    }
    const topUps = cohorts[c - 1] ?? [];
    for (const l of topUps) calls.push({ from: l.publisher, to: market, data: data.market("topUp", [l.id, 1_000n]) });
    for (const l of cohorts[c - 2] ?? []) {
      calls.push({ from: l.provider, to: market, data: data.market("withdraw", [[l.id]]) });
    }
    for (const l of (cohorts[c - 3] ?? []).filter((l) => l.close)) {
      calls.push({ from: l.publisher, to: market, data: data.market("closeLease", [l.id]) });
    }
    if (calls.length === 0) break;
    const mined = await mineBlock(chain, calls);
    if (creating) cohorts.push(leasesFrom(mined, newLeases));
    record(seeded, mined, calls.length);
    seeded.lifecycleEvents = seeded.events - startEvents;
    seeded.leases = leaseIndex;
    progress.log(
      `leases ${fmt(leaseIndex)}, lease events ${fmt(seeded.lifecycleEvents)}/${fmt(aim)}, block ${chain.blockNumber}`,
    );
  }
}

/** Lease ids come from the LeaseCreated logs; a cohort has one lease per provider, so the provider names it. */
function leasesFrom(mined: Mined, created: { provider: Wallet; publisher: Wallet }[]): Lease[] {
  const byProvider = new Map(created.map((l) => [l.provider.address.toLowerCase(), l]));
  const leases: Lease[] = [];
  for (const receipt of mined.receipts.values()) {
    for (const log of receipt.logs) {
      if (eventNames.get(log.topics[0]) !== "LeaseCreated") continue;
      const { args } = decodeEventLog({ abi: podnetMarketAbi, eventName: "LeaseCreated", ...log });
      const match = byProvider.get(args.provider.toLowerCase());
      if (match) leases.push({ id: args.leaseId, ...match, close: leases.length % 2 === 0 });
    }
  }
  if (leases.length !== created.length) throw new Error(`${leases.length} of ${created.length} leases created`);
  return leases;
}

async function seed(chain: Chain, options: Options): Promise<Seeded> {
  const start = Date.now();
  const deadline = start + options.minutes * 60_000;
  const progress = new Progress(start);
  const seeded: Seeded = {
    providers: [],
    providersWanted: options.providers,
    leases: 0,
    events: 0,
    lifecycleEvents: 0,
    byName: new Map(),
    transactions: 0,
    blocks: 0,
    seconds: 0,
    stoppedByTime: false,
  };
  console.log(`Seeding ${fmt(options.providers)} providers, then ~${fmt(options.leases)} lease events`);
  await seedProviders(chain, options.providers, deadline, seeded, progress);
  progress.log(`providers done: ${fmt(seeded.providers.length)}, events ${fmt(seeded.events)}`, true);
  if (seeded.providers.length > 0 && Date.now() < deadline) {
    await seedLeases(chain, options.leases, deadline, seeded, progress);
  }
  seeded.stoppedByTime = Date.now() >= deadline;
  seeded.seconds = (Date.now() - start) / 1000;
  progress.log(
    `seeded ${fmt(seeded.events)} events in ${fmt(seeded.transactions)} transactions, ${seeded.blocks} blocks` +
      (seeded.stoppedByTime ? " (stopped by the time budget)" : ""),
    true,
  );
  return seeded;
}

// ---------------------------------------------------------------- the indexer

type Indexer = { url: string; process: ChildProcess; logFile: string };

type Database = { env: Record<string, string>; schema: string; label: string; drop?: () => void };

/** PGlite in a fresh temp dir by default; --postgres uses a fresh schema on the test server, dropped afterwards. */
function database(workDir: string, postgres: boolean): Database {
  if (!postgres) {
    return { env: { PGLITE_DIRECTORY: join(workDir, "pglite") }, schema: "bench", label: "PGlite (embedded)" };
  }
  const url = process.env.PODNET_TEST_DATABASE_URL;
  if (!url)
    throw new Error("--postgres needs PODNET_TEST_DATABASE_URL (start a server with bash script/postgres.sh start)");
  // A schema of its own: a shared database may hold a previous run's "bench" schema from another build.
  const schema = `bench_${process.pid}`;
  const drop = () =>
    execFileSync("psql", [url, "-qc", `DROP SCHEMA IF EXISTS "${schema}" CASCADE`], {
      stdio: "ignore",
      timeout: 10_000,
    });
  return { env: { DATABASE_URL: url }, schema, label: `Postgres (${new URL(url).host})`, drop };
}

function startIndexer(chain: Chain, workDir: string, db: Database, port: number): Indexer {
  const logFile = join(workDir, "ponder.log");
  const out = openLog(logFile);
  const child = spawn(
    join(repoRoot, "node_modules/.bin/ponder"),
    ["start", "--schema", db.schema, "--port", String(port)],
    {
      cwd: join(repoRoot, "indexer"),
      env: {
        ...process.env,
        ...db.env,
        PONDER_TELEMETRY_DISABLED: "true",
        RPC_URL: chain.rpc.url,
        CHAIN_ID: String(CHAIN_ID),
        DEPLOYMENTS_FILE: chain.deploymentsFile,
      },
      stdio: ["ignore", out, out],
      // Its own process group, so that killing it takes any worker it spawned along.
      detached: true,
    },
  );
  cleanups.push(() => killGroup(child));
  return { url: `http://127.0.0.1:${port}`, process: child, logFile };
}

function openLog(file: string): number {
  writeFileSync(file, "");
  return openSync(file, "a");
}

async function httpStatus(url: string): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

async function indexedBlock(indexer: Indexer): Promise<number> {
  try {
    const response = await fetch(`${indexer.url}/status`, { signal: AbortSignal.timeout(5_000) });
    const status = (await response.json()) as Record<string, { block?: { number?: number } }>;
    return status.podnet?.block?.number ?? -1;
  } catch {
    return -1;
  }
}

type CatchUp = { totalSeconds: number; startupSeconds: number; indexingSeconds: number };

/**
 * Starts the indexer and times it until /status shows the chain's head and /ready answers 200. Startup (build,
 * database setup) ends when the HTTP server answers /health, which Ponder starts before historical indexing.
 */
async function timeCatchUp(chain: Chain, workDir: string, db: Database): Promise<{ indexer: Indexer } & CatchUp> {
  const indexer = startIndexer(chain, workDir, db, await freePort());
  const start = performance.now();
  let serverUp: number | undefined;
  const progress = new Progress(Date.now());
  for (;;) {
    if (indexer.process.exitCode !== null) {
      throw new Error(
        `ponder exited with ${indexer.process.exitCode}; see the end of its log:\n${tail(indexer.logFile)}`,
      );
    }
    if (performance.now() - start > 30 * 60_000) throw new Error("the indexer did not catch up within 30 minutes");
    if (serverUp === undefined && (await httpStatus(`${indexer.url}/health`)) === 200) serverUp = performance.now();
    if (serverUp !== undefined) {
      const block = await indexedBlock(indexer);
      if (block >= chain.blockNumber && (await httpStatus(`${indexer.url}/ready`)) === 200) break;
      progress.log(`indexed block ${block}/${chain.blockNumber}`);
    }
    await sleep(100);
  }
  const end = performance.now();
  const startup = (serverUp ?? start) - start;
  return {
    indexer,
    totalSeconds: (end - start) / 1000,
    startupSeconds: startup / 1000,
    indexingSeconds: (end - start - startup) / 1000,
  };
}

function tail(file: string, lines = 30): string {
  return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
}

// ---------------------------------------------------------------- lag on a live chain

async function graphql<T>(indexer: Indexer, query: string): Promise<T> {
  const response = await fetch(`${indexer.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
  if (!body.data) throw new Error(`GraphQL: ${body.errors?.map((e) => e.message).join("; ")}`);
  return body.data;
}

async function lastHeartbeat(indexer: Indexer, address: Address): Promise<string | null> {
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
async function waitForReceipt(chain: Chain, hash: Hex): Promise<RpcReceipt> {
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

async function measureLag(chain: Chain, indexer: Indexer, providers: Wallet[], samples: number): Promise<number[]> {
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

function searchUrl(indexer: Indexer, i: number): string {
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

async function measureSearch(indexer: Indexer, requests: number) {
  const latencies: number[] = [];
  let results = 0;
  for (let i = 0; i < requests; i++) {
    const start = performance.now();
    const response = await fetch(searchUrl(indexer, i));
    const body = (await response.json()) as { providers?: unknown[]; error?: string };
    latencies.push(performance.now() - start);
    if (!response.ok || !body.providers) throw new Error(`/search: ${response.status} ${body.error ?? ""}`);
    results += body.providers.length;
  }
  return { latencies, meanResults: results / requests };
}

// ---------------------------------------------------------------- report

type Results = {
  options: Options;
  db: Database;
  seeded: Seeded;
  catchUp: CatchUp;
  lag: ReturnType<typeof summarize> & { n: number };
  search: ReturnType<typeof summarize> & { n: number; meanResults: number };
};

function machine() {
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  return `${cpus().length} cores (${cpu}), ${fmt(totalmem() / 2 ** 30, 1)} GiB memory (${fmt(freemem() / 2 ** 30, 1)} GiB free at the end), Node ${process.version}`;
}

function report(r: Results, command: string): string {
  const eventsPerSecond = r.seeded.events / r.catchUp.totalSeconds;
  const indexingRate = r.seeded.events / r.catchUp.indexingSeconds;
  const met = (ok: boolean) => (ok ? "met" : "**not met**");
  const breakdown = [...r.seeded.byName.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${fmt(n)}`)
    .join(", ");
  const size =
    `${fmt(r.seeded.providers.length)} of ${fmt(r.seeded.providersWanted)} providers, ${fmt(r.seeded.leases)} leases, ` +
    `${fmt(r.seeded.events)} indexed events (${fmt(r.seeded.lifecycleEvents)} of the ${fmt(r.options.leases)} lease events aimed at) ` +
    `in ${fmt(r.seeded.transactions)} transactions and ${r.seeded.blocks} blocks, seeded in ${fmt(r.seeded.seconds)} s` +
    (r.seeded.stoppedByTime ? ` (stopped by the ${r.options.minutes}-minute budget)` : "");
  return [
    `Run ${new Date().toISOString()} with \`${command}\`.`,
    "",
    `- Machine: ${machine()}`,
    `- Database: ${r.db.label}`,
    `- History: ${size}`,
    `- Events by name: ${breakdown}`,
    "",
    "| measure | value | goal | |",
    "|---|---|---|---|",
    `| catch-up from \`ponder start\` to /ready at the head | ${fmt(r.catchUp.totalSeconds, 1)} s | | |`,
    `| of which startup (until /health answers) | ${fmt(r.catchUp.startupSeconds, 1)} s | | |`,
    `| indexing throughput (events / catch-up time) | ${fmt(eventsPerSecond)} events/s | >= ${fmt(GOALS.eventsPerSecond)} events/s | ${met(eventsPerSecond >= GOALS.eventsPerSecond)} |`,
    `| indexing throughput without startup | ${fmt(indexingRate)} events/s | | |`,
    `| lag block -> GraphQL, p50 / p95 / max (${r.lag.n} heartbeats) | ${fmt(r.lag.p50)} / ${fmt(r.lag.p95)} / ${fmt(r.lag.max)} ms | p95 <= ${fmt(GOALS.lagP95Ms)} ms | ${met(r.lag.p95 <= GOALS.lagP95Ms)} |`,
    `| /search latency, p50 / p95 / max (${r.search.n} requests, ${fmt(r.search.meanResults, 1)} results each on average) | ${fmt(r.search.p50, 1)} / ${fmt(r.search.p95, 1)} / ${fmt(r.search.max, 1)} ms | p95 <= ${GOALS.searchP95Ms} ms | ${met(r.search.p95 <= GOALS.searchP95Ms)} |`,
  ].join("\n");
}

/** Rewrites the figures; a hand-written "## Observations" section already in the file is kept. */
function writeDoc(table: string) {
  const file = join(repoRoot, "docs/indexer-benchmarks.md");
  const previous = existsSync(file) ? readFileSync(file, "utf8") : "";
  const observations = previous.indexOf("## Observations");
  const text = [
    "# Indexer benchmarks",
    "",
    "Written by `npm run bench:indexer` (script/bench-indexer.ts): its own anvil and deployment, a seeded history",
    "(providers registering and staking, leases created from signed quotes, topped up, withdrawn from and closed,",
    "thousands of transactions per block), then `ponder start` from scratch, the lag from a mined block to GraphQL",
    "on a live chain (automine, one heartbeat at a time), and `/search` latency at that size.",
    "",
    table,
    "",
    observations >= 0 ? previous.slice(observations) : "",
  ].join("\n");
  writeFileSync(file, `${text.trimEnd()}\n`);
  console.log(`Wrote ${file}`);
}

// ---------------------------------------------------------------- main

type Options = { providers: number; leases: number; minutes: number; postgres: boolean; keepLogs?: string };

/** Copies anvil's and ponder's logs out of the temp dir before it is removed. */
function keepLogs(workDir: string, dir: string) {
  mkdirSync(dir, { recursive: true });
  for (const name of ["anvil.log", "ponder.log"]) {
    if (existsSync(join(workDir, name))) copyFileSync(join(workDir, name), join(dir, name));
  }
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      providers: { type: "string", default: "10000" },
      leases: { type: "string", default: "100000" },
      minutes: { type: "string", default: "10" },
      postgres: { type: "boolean", default: false },
      "keep-logs": { type: "string" },
    },
  });
  const positive = (name: string, raw: string) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${raw}"`);
    return n;
  };
  return {
    providers: Math.floor(positive("providers", values.providers)),
    leases: Math.floor(positive("leases", values.leases)),
    minutes: positive("minutes", values.minutes),
    postgres: values.postgres,
    keepLogs: values["keep-logs"],
  };
}

async function main() {
  const options = parseOptions();
  const command = `npx tsx script/bench-indexer.ts ${process.argv.slice(2).join(" ")}`.trim();
  const workDir = mkdtempSync(join(tmpdir(), "podnet-bench-"));
  cleanups.push(() => rmSync(workDir, { recursive: true, force: true }));
  const db = database(workDir, options.postgres);
  // Registered before anything starts, so it runs after ponder is killed (cleanups run newest first).
  if (db.drop) cleanups.push(db.drop);
  if (options.keepLogs) cleanups.push(() => keepLogs(workDir, options.keepLogs as string));

  console.log("Starting anvil and deploying");
  const chain = await startChain(workDir);
  const seeded = await seed(chain, options);
  await finalizeHistory(chain);

  console.log(`Starting the indexer (${db.label}) on ${fmt(seeded.events)} events up to block ${chain.blockNumber}`);
  const { indexer, ...catchUp } = await timeCatchUp(chain, workDir, db);
  console.log(`  caught up in ${fmt(catchUp.totalSeconds, 1)} s (startup ${fmt(catchUp.startupSeconds, 1)} s)`);

  console.log(`Lag on a live chain: ${LAG_SAMPLES} heartbeats`);
  const lags = await measureLag(chain, indexer, seeded.providers, LAG_SAMPLES);
  console.log(`Search latency: ${SEARCH_REQUESTS} requests`);
  const search = await measureSearch(indexer, SEARCH_REQUESTS);

  const table = report(
    {
      options,
      db,
      seeded,
      catchUp,
      lag: { ...summarize(lags), n: lags.length },
      search: { ...summarize(search.latencies), n: SEARCH_REQUESTS, meanResults: search.meanResults },
    },
    command,
  );
  console.log(`\n${table}\n`);
  writeDoc(table);
}

main()
  .catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  })
  .finally(cleanup);
