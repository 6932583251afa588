/**
 * `npm run bench:indexer -- [--providers N] [--leases N] [--minutes M] [--postgres] [--keep-logs DIR]`: benchmarks
 * the Ponder indexer against real parts: its own anvil, the real contracts, a seeded history, then `ponder start`.
 *
 * 1. Starts anvil on a free port and deploys the contracts into a temp dir (the deployment of `npm run deploy:local`).
 * 2. Seeds a history with manual mining (one block per batch of signed raw transactions): N providers register
 *    and stake, then leases go through create, top-up, withdraw and close until --leases events (or --minutes).
 * 3. Starts the indexer after seeding and times the catch-up (events/s).
 * 4. Measures the lag from a mined block to GraphQL on a live (automining) chain.
 * 5. Measures /search latency at that size.
 * 6. Prints a markdown table and writes it to docs/indexer-benchmarks.md.
 *
 * Every process it starts (anvil, ponder) is stopped on exit, error or Ctrl-C, and its temp dir is removed.
 * --postgres benches Postgres at $PODNET_TEST_DATABASE_URL (a fresh schema, dropped afterwards) instead of PGlite;
 * --keep-logs DIR copies anvil's and ponder's logs to DIR before the temp dir goes.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cleanupOnSignal, Devnet, type Indexer, spawnIndexer } from "@podnet/devnet";
import { finalizeHistory, type Seeded, seedHistory } from "@podnet/devnet/bench/history";
import { writeReportDoc } from "@podnet/devnet/bench/report";
import { BLOCK_GAS_LIMIT, measureLag, measureSearch, type SeedChain, seedChain } from "@podnet/devnet/bench/seed";
import { fmt, machineText, met, Progress, sleep, summarize } from "@podnet/devnet/bench/stats";

const LAG_SAMPLES = 50;
const SEARCH_REQUESTS = 200;
// Issue 22's acceptance: catch-up counted from `ponder start`, lag p95 within a second.
const GOALS = { eventsPerSecond: 3_000, lagP95Ms: 1_000, searchP95Ms: 50 };

// ---------------------------------------------------------------- the indexer

type Database = { databaseUrl?: string; schema: string; label: string; drop?: () => void };

/** PGlite in a fresh temp dir by default; --postgres uses a fresh schema on the test server, dropped afterwards. */
function database(postgres: boolean): Database {
  if (!postgres) return { schema: "bench", label: "PGlite (embedded)" };
  const url = process.env.PODNET_TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      "--postgres needs PODNET_TEST_DATABASE_URL (start a server with bash script/toolchain/postgres.sh start)",
    );
  }
  // A schema of its own: a shared database may hold a previous run's "bench" schema from another build.
  const schema = `bench_${process.pid}`;
  const drop = () =>
    execFileSync("psql", [url, "-qc", `DROP SCHEMA IF EXISTS "${schema}" CASCADE`], {
      stdio: "ignore",
      timeout: 10_000,
    });
  return { databaseUrl: url, schema, label: `Postgres (${new URL(url).host})`, drop };
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
 * Times the indexer from its spawn until /status shows the chain's head and /ready answers 200. Startup (build,
 * database setup) ends when the HTTP server answers /health, which Ponder starts before historical indexing.
 */
async function timeCatchUp(chain: SeedChain, spawn: () => Promise<Indexer>): Promise<{ indexer: Indexer } & CatchUp> {
  const start = performance.now();
  const indexer = await spawn();
  let serverUp: number | undefined;
  const progress = new Progress(Date.now());
  for (;;) {
    if (indexer.process.exitCode !== null) {
      throw new Error(
        `ponder exited with ${indexer.process.exitCode}; see the end of its log:\n${indexer.logTail(30)}`,
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

// ---------------------------------------------------------------- main

type Options = { providers: number; leases: number; minutes: number; postgres: boolean; keepLogs?: string };

/** Copies anvil's and ponder's logs out of the temp dir before it is removed. */
function keepLogs(workDir: string, dir: string) {
  mkdirSync(dir, { recursive: true });
  for (const log of ["chain/anvil.log", "indexer/ponder.log"]) {
    const from = join(workDir, log);
    if (existsSync(from)) copyFileSync(from, join(dir, log.split("/").at(-1) as string));
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
  const db = database(options.postgres);
  let devnet: Devnet | undefined;
  let indexer: Indexer | undefined;
  const cleanup = async () => {
    if (devnet) await devnet.stop();
    else rmSync(workDir, { recursive: true, force: true });
  };
  cleanupOnSignal(cleanup);

  try {
    console.log("Starting anvil and deploying");
    devnet = await Devnet.start({
      dir: workDir,
      anvilArgs: ["--gas-limit", BLOCK_GAS_LIMIT.toString(), "--silent"],
      removeDir: true,
    });
    // In this order before anvil stops and the dir goes: ponder first, then its schema, then the logs.
    devnet.onStop("stop the indexer", () => indexer?.stop());
    if (db.drop) devnet.onStop("drop the benchmark's schema", db.drop);
    const keep = options.keepLogs;
    if (keep) devnet.onStop("keep the logs", () => keepLogs(workDir, keep));
    const { chain: local } = devnet;
    // From here on, a block is mined only when a batch is complete.
    const chain = await seedChain(local.rpcUrl, local.deployment, local.deploymentsFile);
    const seeded = await seedHistory(chain, options);
    await finalizeHistory(chain);

    console.log(`Starting the indexer (${db.label}) on ${fmt(seeded.events)} events up to block ${chain.blockNumber}`);
    const spawn = async () => {
      indexer = await spawnIndexer({ chain: local, dir: join(workDir, "indexer"), ...db });
      return indexer;
    };
    const { indexer: running, ...catchUp } = await timeCatchUp(chain, spawn);
    console.log(`  caught up in ${fmt(catchUp.totalSeconds, 1)} s (startup ${fmt(catchUp.startupSeconds, 1)} s)`);

    console.log(`Lag on a live chain: ${LAG_SAMPLES} heartbeats`);
    const lags = await measureLag(chain, running, seeded.providers, LAG_SAMPLES);
    console.log(`Search latency: ${SEARCH_REQUESTS} requests`);
    const search = await measureSearch(running, SEARCH_REQUESTS);

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
    writeReportDoc("indexer-benchmarks.md", table, "## Observations");
  } finally {
    await cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
