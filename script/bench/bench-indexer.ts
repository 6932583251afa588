import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cleanupOnSignal, Devnet, type Indexer, spawnIndexer } from "@podnet/devnet";
import { finalizeHistory, type Seeded, seedHistory } from "@podnet/devnet/bench/history";
import { type BenchDatabase, benchDatabase, keepIndexerLogs } from "@podnet/devnet/bench/indexer-db";
import { writeReportDoc } from "@podnet/devnet/bench/report";
import { BLOCK_GAS_LIMIT, measureLag, measureSearch, type SeedChain, seedChain } from "@podnet/devnet/bench/seed";
import { fmt, machineText, met, Progress, sleep, summarize } from "@podnet/devnet/bench/stats";

const LAG_SAMPLES = 50;
const SEARCH_REQUESTS = 200;
// Issue 22's acceptance: catch-up counted from `ponder start`, lag p95 within a second.
const GOALS = { eventsPerSecond: 3_000, lagP95Ms: 1_000, searchP95Ms: 50 };

// ---------------------------------------------------------------- the indexer

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
  db: BenchDatabase;
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
  const db = benchDatabase(options.postgres);
  let devnet: Devnet | undefined;
  let indexer: Indexer | undefined;
  const cleanup = async () => {
    if (devnet) await devnet.stop();
    else {
      rmSync(workDir, { recursive: true, force: true });
      db.drop?.();
    }
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
    if (db.drop) devnet.onStop("drop the benchmark's database", db.drop);
    const keep = options.keepLogs;
    if (keep) devnet.onStop("keep the logs", () => keepIndexerLogs(workDir, keep));
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
