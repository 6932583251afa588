/**
 * `npm run bench:indexer -- [--providers N] [--leases N] [--minutes M] [--postgres] [--keep-logs DIR]`: benchmarks
 * the Ponder indexer against real parts: its own anvil, the real contracts, a seeded history, then `ponder start`.
 *
 * 1. Starts anvil on a free port and deploys with script/dev/deploy-local.ts into a temp DEPLOYMENTS_DIR.
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
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseDeployment, podnetMarketAbi, pricePerSecond, quoteDomain, quoteTypes, type Resources } from "@podnet/sdk";
import { decodeEventLog, encodePacked, keccak256 } from "viem";
import { freePort } from "../../test/lib/net.js";
import {
  BLOCK_GAS_LIMIT,
  type Call,
  CHAIN_ID,
  data,
  eventNames,
  fundCalls,
  type Mined,
  measureLag,
  measureSearch,
  mineBlock,
  profileOf,
  type SeedChain,
  seedChain,
  seedProviders,
  type Wallet,
  wallet,
} from "../lib/bench/seed.js";
import { fmt, machineText, met, sleep, summarize } from "../lib/bench/stats.js";
import { bin, repoRoot, startAnvil } from "../lib/chain.js";

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

// ---------------------------------------------------------------- JSON-RPC

// ---------------------------------------------------------------- the chain under test

async function startChain(workDir: string): Promise<SeedChain> {
  const port = await freePort();
  const { rpcUrl, process: anvil } = await startAnvil({
    port,
    logFile: join(workDir, "anvil.log"),
    detached: true,
    args: ["--gas-limit", BLOCK_GAS_LIMIT.toString(), "--silent"],
  });
  cleanups.push(() => killGroup(anvil));
  const deploymentsDir = join(workDir, "deployments");
  execFileSync(bin("tsx"), [join(repoRoot, "script/dev/deploy-local.ts")], {
    cwd: repoRoot,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, RPC_URL: rpcUrl, DEPLOYMENTS_DIR: deploymentsDir },
  });
  const deploymentsFile = join(deploymentsDir, `${CHAIN_ID}.json`);
  const deployment = parseDeployment(JSON.parse(readFileSync(deploymentsFile, "utf8")));
  // From here on, a block is mined only when a batch is complete.
  return seedChain(rpcUrl, deployment, deploymentsFile);
}

/**
 * Empty blocks after the seeded history, more than Ponder's finality depth for chain 31337 (30 blocks): a seeded
 * history is history, so the catch-up measures Ponder's historical sync. The live path (one block at a time) is
 * what the lag measurement times.
 */
const FINALITY_BLOCKS = 64;

async function finalizeHistory(chain: SeedChain) {
  for (let i = 0; i < FINALITY_BLOCKS; i++) {
    chain.time += 1;
    await chain.rpc.call("evm_mine", [{ timestamp: chain.time, blocks: 1 }]);
    chain.blockNumber += 1;
  }
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

async function seedAllProviders(chain: SeedChain, count: number, deadline: number, seeded: Seeded, progress: Progress) {
  await seedProviders(chain, count, {
    deadline,
    onBlock: (mined, transactions, batch) => {
      record(seeded, mined, transactions);
      seeded.providers.push(...batch);
      progress.log(`providers ${fmt(seeded.providers.length)}/${fmt(count)}, events ${fmt(seeded.events)}`);
    },
  });
}

function record(seeded: Seeded, mined: Mined, transactions: number) {
  seeded.events += mined.events;
  seeded.transactions += transactions;
  seeded.blocks += 1;
  addCounts(seeded.byName, mined.byName);
}

type Lease = { id: bigint; provider: Wallet; publisher: Wallet; close: boolean };

/** Signs a quote with the provider's key, priced by its listed prices (as a real provider would). */
async function createLeaseCall(chain: SeedChain, provider: Wallet, publisher: Wallet, i: number): Promise<Call> {
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
async function seedLeases(chain: SeedChain, aim: number, deadline: number, seeded: Seeded, progress: Progress) {
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

async function seed(chain: SeedChain, options: Options): Promise<Seeded> {
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
  await seedAllProviders(chain, options.providers, deadline, seeded, progress);
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
    throw new Error(
      "--postgres needs PODNET_TEST_DATABASE_URL (start a server with bash script/toolchain/postgres.sh start)",
    );
  // A schema of its own: a shared database may hold a previous run's "bench" schema from another build.
  const schema = `bench_${process.pid}`;
  const drop = () =>
    execFileSync("psql", [url, "-qc", `DROP SCHEMA IF EXISTS "${schema}" CASCADE`], {
      stdio: "ignore",
      timeout: 10_000,
    });
  return { env: { DATABASE_URL: url }, schema, label: `Postgres (${new URL(url).host})`, drop };
}

function startIndexer(chain: SeedChain, workDir: string, db: Database, port: number): Indexer {
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
async function timeCatchUp(chain: SeedChain, workDir: string, db: Database): Promise<{ indexer: Indexer } & CatchUp> {
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

// ---------------------------------------------------------------- report

type Results = {
  options: Options;
  db: Database;
  seeded: Seeded;
  catchUp: CatchUp;
  lag: ReturnType<typeof summarize> & { n: number };
  search: ReturnType<typeof summarize> & { n: number; meanResults: number };
};

function report(r: Results, command: string): string {
  const eventsPerSecond = r.seeded.events / r.catchUp.totalSeconds;
  const indexingRate = r.seeded.events / r.catchUp.indexingSeconds;
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
    `- Machine: ${machineText()}`,
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
    "Written by `npm run bench:indexer` (script/bench/bench-indexer.ts): its own anvil and deployment, a seeded history",
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
  const command = `npx tsx script/bench/bench-indexer.ts ${process.argv.slice(2).join(" ")}`.trim();
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
