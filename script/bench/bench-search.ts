import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cleanupOnSignal, Devnet, graphql, type Indexer, spawnIndexer } from "@podnet/devnet";
import { benchDatabase, keepIndexerLogs } from "@podnet/devnet/bench/indexer-db";
import { rssBytes } from "@podnet/devnet/bench/load";
import { reportedCommand, writeJsonResult, writeReportDoc } from "@podnet/devnet/bench/report";
import { BLOCK_GAS_LIMIT, measureSearch, searchUrl, seedChain, seedProviders } from "@podnet/devnet/bench/seed";
import { atMost, fmt, goalCells, load1, machineText, Progress, sleep, summarize } from "@podnet/devnet/bench/stats";

const GOAL = { p95: 50 };
/** How far ahead of the wall clock the seeded blocks are stamped (see the header). */
const LEAD_SECONDS = 30 * 60;
const MAX_PROVIDERS = 200_000;
/** States anvil keeps in memory: more than Ponder's finality depth for chain 31337 (30 blocks). */
const PRUNE_HISTORY = 64;

type Options = { sizes: number[]; requests: number; postgres: boolean; keepLogs?: string; json?: string };

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      sizes: { type: "string", default: "1000,10000,100000" },
      requests: { type: "string", default: "200" },
      postgres: { type: "boolean", default: false },
      "keep-logs": { type: "string" },
      // The figures as JSON too (what `npm run bench:growth` charts).
      json: { type: "string" },
    },
  });
  const sizes = values.sizes.split(",").map((raw) => Number(raw.trim()));
  for (const [i, n] of sizes.entries()) {
    if (!Number.isInteger(n) || n < 1 || n > MAX_PROVIDERS) {
      throw new Error(`--sizes: "${values.sizes}" must list whole numbers from 1 to ${fmt(MAX_PROVIDERS)}`);
    }
    if (i > 0 && n <= (sizes[i - 1] as number)) throw new Error(`--sizes: "${values.sizes}" must grow`);
  }
  const requests = Number(values.requests);
  if (!Number.isInteger(requests) || requests < 20) throw new Error(`--requests must be a whole number >= 20`);
  return { sizes, requests, postgres: values.postgres, keepLogs: values["keep-logs"], json: values.json };
}

async function indexedProviders(indexer: Indexer): Promise<number> {
  try {
    const data = await graphql<{ protocol: { providers: number } | null }>(
      indexer,
      `{ protocol(id: "podnet") { providers } }`,
    );
    return data.protocol?.providers ?? 0;
  } catch {
    return 0;
  }
}

type SizeResult = {
  providers: number;
  seedSeconds: number;
  indexedAfterSeconds: number;
  firstSearchMs: number;
  latencies: ReturnType<typeof summarize>;
  meanResults: number;
  rssMiB: number;
  load: string;
};

function report(results: SizeResult[], options: Options, db: string, command: string): string {
  return [
    `Run ${new Date().toISOString()} with \`${command}\`.`,
    "",
    `- Machine: ${machineText()}`,
    `- Database: ${db}; the indexer (\`ponder start\`) follows the chain while it is seeded`,
    `- Providers register and stake with signed transactions, 250 a block; varied prices, capacity and attributes (\`profileOf\` of devnet/src/bench/seed.ts)`,
    `- Searches: ${options.requests} per size, one at a time, the query mix of \`npm run bench:indexer\` (\`searchUrl\`: 250-4,000 mCPU, 256-8,192 MiB, half with a region, a fifth with tee=sgx, some with a price cap, a third with limit 50)`,
    "",
    "| providers | seeded in (s) | indexed (s after the seeding) | first search after growing (ms) | /search p50 / p95 / max (ms) | results per search | indexer RSS (MiB) | load (1 min) | goal | |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...results.map(
      (r) =>
        `| ${fmt(r.providers)} | ${fmt(r.seedSeconds)} | ${fmt(r.indexedAfterSeconds, 1)} | ${fmt(r.firstSearchMs, 1)} | ` +
        `${fmt(r.latencies.p50, 1)} / ${fmt(r.latencies.p95, 1)} / ${fmt(r.latencies.max, 1)} | ${fmt(r.meanResults, 1)} | ` +
        `${fmt(r.rssMiB)} | ${r.load} | ${goalCells(atMost(r.latencies, GOAL, " ms"))} |`,
    ),
  ].join("\n");
}

async function main() {
  const options = parseOptions();
  const command = reportedCommand("npm run bench:search", "--");
  const workDir = mkdtempSync(join(tmpdir(), "podnet-bench-search-"));
  const db = benchDatabase(options.postgres);
  let indexer: Indexer | undefined;
  const devnet = await Devnet.start({
    dir: workDir,
    // --prune-history: anvil otherwise keeps every block's state in memory, and 100,000 providers' state took 23 GiB
    // (the kernel killed anvil at 71,000 providers). The indexer reads logs and blocks, not old states.
    anvilArgs: ["--gas-limit", BLOCK_GAS_LIMIT.toString(), "--silent", "--prune-history", String(PRUNE_HISTORY)],
    removeDir: true,
  }).catch((error: unknown) => {
    db.drop?.();
    throw error;
  });
  devnet.onStop("stop the indexer", () => indexer?.stop());
  if (db.drop) devnet.onStop("drop the benchmark's database", db.drop);
  const keep = options.keepLogs;
  if (keep) devnet.onStop("keep the logs", () => keepIndexerLogs(workDir, keep));
  cleanupOnSignal(() => devnet.stop());

  try {
    const { chain: local } = devnet;
    const chain = await seedChain(local.rpcUrl, local.deployment, local.deploymentsFile);
    chain.time = Math.max(chain.time, Math.floor(Date.now() / 1000) + LEAD_SECONDS);
    indexer = await spawnIndexer({
      chain: local,
      dir: join(workDir, "indexer"),
      schema: db.schema,
      databaseUrl: db.databaseUrl,
    });
    const running = indexer;
    const results: SizeResult[] = [];
    let seeded = 0;
    for (const size of options.sizes) {
      console.log(`Growing to ${fmt(size)} providers`);
      const start = Date.now();
      const progress = new Progress(start);
      await seedProviders(chain, size, {
        from: seeded,
        onBlock: (_mined, _transactions, batch) => {
          seeded += batch.length;
          progress.log(`seeded ${fmt(seeded)}/${fmt(size)}`);
        },
      });
      const seedSeconds = (Date.now() - start) / 1000;
      for (;;) {
        if (running.process.exitCode !== null) throw new Error(`ponder exited:\n${running.logTail(30)}`);
        const indexed = await indexedProviders(running);
        if (indexed >= size) break;
        progress.log(`indexed ${fmt(indexed)}/${fmt(size)}`);
        await sleep(250);
      }
      const indexedAfterSeconds = (Date.now() - start) / 1000 - seedSeconds;
      const first = performance.now();
      const response = await fetch(searchUrl(running, 0));
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`/search answered ${response.status}`);
      const firstSearchMs = performance.now() - first;
      const search = await measureSearch(running, options.requests);
      const result: SizeResult = {
        providers: size,
        seedSeconds,
        indexedAfterSeconds,
        firstSearchMs,
        latencies: summarize(search.latencies),
        meanResults: search.meanResults,
        rssMiB: rssBytes(running.process.pid as number) / 2 ** 20,
        load: load1(),
      };
      results.push(result);
      console.log(
        `  ${fmt(size)} providers: /search p50 ${fmt(result.latencies.p50, 1)} ms, p95 ${fmt(result.latencies.p95, 1)} ms, ` +
          `first ${fmt(firstSearchMs, 1)} ms, ${fmt(result.meanResults, 1)} results, indexer ${fmt(result.rssMiB)} MiB`,
      );
    }
    const table = report(results, options, db.label, command);
    console.log(`\n${table}\n`);
    writeReportDoc("search-benchmarks.md", table, "## Notes");
    if (options.json) writeJsonResult(options.json, "search", command, { database: db.label, sizes: results });
  } finally {
    await devnet.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
