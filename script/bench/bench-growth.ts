/**
 * `npm run bench:growth -- [--providers 1000,10000,100000] [--pods 20,100,200] [--leases N] [--only search|worker]
 * [--chart-only]`: how the costs grow with the marketplace and with a provider.
 *
 * 1. `npm run bench:search` once over the provider sizes (the indexer follows one chain as it grows): /search p50 and
 *    p95, the first search after growing, the indexer's memory, the time to seed and index.
 * 2. `npm run bench:worker` once per pod count, each on a fresh devnet: deploying N pods at once, the worker's memory
 *    with them, and the restart reconcile after kill -9 (a: all containers kept; b: 10 of them removed).
 * 3. The figures go to docs/bench-data/growth.json and are drawn as SVG charts (devnet/src/bench/growth-chart.ts, Vega-Lite) in
 *    docs/images/, linked with a table from the "Growth" section of docs/benchmarks.md.
 *
 * Each benchmark runs as its own process, as a user would run it, and writes its figures with `--json`. `--chart-only`
 * redraws the charts and the section from docs/bench-data/growth.json without running anything; `--only` runs one of
 * the two and keeps the other's figures from that file.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { repoRoot } from "@podnet/devnet";
import {
  type BenchResult,
  type GrowthData,
  growthSvg,
  searchChart,
  type WorkerRun,
  workerChart,
} from "@podnet/devnet/bench/growth-chart";
import { reportedCommand, writeDocSection } from "@podnet/devnet/bench/report";
import { fmt } from "@podnet/devnet/bench/stats";

const DATA_FILE = join(repoRoot, "docs", "bench-data", "growth.json");

function sizesOption(name: string, raw: string): number[] {
  const sizes = raw.split(",").map((s) => Number(s.trim()));
  if (
    sizes.length < 2 ||
    sizes.some((n, i) => !Number.isInteger(n) || n < 1 || (i > 0 && n <= (sizes[i - 1] as number)))
  ) {
    throw new Error(`--${name}: "${raw}" must list at least two growing whole numbers`);
  }
  return sizes;
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      providers: { type: "string", default: "1000,10000,100000" },
      pods: { type: "string", default: "20,100,200" },
      leases: { type: "string", default: "10" },
      only: { type: "string" },
      "chart-only": { type: "boolean", default: false },
    },
  });
  if (values.only !== undefined && values.only !== "search" && values.only !== "worker") {
    throw new Error(`--only: "${values.only}" must be search or worker`);
  }
  const leases = Number(values.leases);
  if (!Number.isInteger(leases) || leases < 1)
    throw new Error(`--leases: "${values.leases}" must be a whole number >= 1`);
  return {
    providers: sizesOption("providers", values.providers),
    pods: sizesOption("pods", values.pods),
    leases,
    only: values.only as "search" | "worker" | undefined,
    chartOnly: values["chart-only"],
  };
}

/** Runs one benchmark script to the end with its output on this terminal; rejects if it fails. */
function runBench(script: string, args: string[]): Promise<void> {
  console.log(`\n$ npx tsx script/bench/${script} ${args.join(" ")}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "script", "bench", script), ...args], {
      cwd: repoRoot,
      stdio: "inherit",
    });
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${script} ${args.join(" ")} exited with ${signal ?? code}`)),
    );
  });
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;

function section(data: GrowthData): string {
  const lines = [
    "## Growth",
    "",
    "How the costs grow with size, from `npm run bench:growth` (figures in docs/bench-data/growth.json; the charts are",
    "drawn from them by devnet/src/bench/growth-chart.ts; the dashed red line is the goal).",
  ];
  if (data.search) {
    const s = data.search;
    lines.push(
      "",
      `/search, ${s.at} (\`${s.command}\`, one \`npm run bench:search\` growing through the sizes; ${s.machine}):`,
      "",
      "![/search against the number of providers](images/growth-search.svg)",
      "",
      "| providers | /search p50 / p95 (ms) | first search after growing (ms) | indexer RSS (MiB) | seeded in / indexed after (s) |",
      "|---|---|---|---|---|",
      ...s.figures.sizes.map(
        (r) =>
          `| ${fmt(r.providers)} | ${fmt(r.latencies.p50, 1)} / ${fmt(r.latencies.p95, 1)} | ${fmt(r.firstSearchMs, 1)} | ` +
          `${fmt(r.rssMiB)} | ${fmt(r.seedSeconds)} / ${fmt(r.indexedAfterSeconds, 1)} |`,
      ),
    );
  }
  if (data.worker?.length) {
    const runs = [...data.worker].sort((a, b) => a.figures.pods - b.figures.pods);
    lines.push(
      "",
      `The worker, ${runs.map((r) => r.at).join(", ")} (\`${runs[0]?.command}\`, one \`npm run bench:worker\` per pod count; ${runs[0]?.machine}):`,
      "",
      "![the worker against the number of pods](images/growth-worker.svg)",
      "",
      "| pods | deploy all at once (s) | restart (a) /health / all serving (ms) | restart (b) all serving, one container per lease (ms) | worker RSS idle / with the pods (MiB) |",
      "|---|---|---|---|---|",
      ...runs.map(
        ({ figures: r }) =>
          `| ${fmt(r.pods)} | ${fmt(r.deploySeconds, 1)} | ${fmt(r.restartA.healthMs)} / ${fmt(r.restartA.allServingMs)} | ` +
          `${fmt(r.restartB.doneMs)} | ${fmt(r.rssIdleMiB, 1)} / ${fmt(r.rssMaxMiB, 1)} |`,
      ),
    );
  }
  return lines.join("\n");
}

async function draw(data: GrowthData): Promise<void> {
  const images = join(repoRoot, "docs", "images");
  mkdirSync(images, { recursive: true });
  if (data.search) writeFileSync(join(images, "growth-search.svg"), await growthSvg(searchChart(data.search)));
  if (data.worker?.length) writeFileSync(join(images, "growth-worker.svg"), await growthSvg(workerChart(data.worker)));
  writeDocSection("benchmarks.md", "growth", section(data));
}

async function main() {
  const options = parseOptions();
  const growthCommand = reportedCommand("npm run bench:growth", "--");
  const data: GrowthData = existsSync(DATA_FILE) ? readJson<GrowthData>(DATA_FILE) : {};
  if (!options.chartOnly) {
    const dir = mkdtempSync(join(tmpdir(), "podnet-bench-growth-"));
    try {
      if (options.only !== "worker") {
        const file = join(dir, "search.json");
        await runBench("bench-search.ts", ["--sizes", options.providers.join(","), "--json", file]);
        // The growth command stands for the run (the benchmark's own command names a temporary file).
        data.search = { ...readJson<NonNullable<GrowthData["search"]>>(file), command: growthCommand };
      }
      if (options.only !== "search") {
        const runs: BenchResult<WorkerRun>[] = [];
        for (const pods of options.pods) {
          const file = join(dir, `worker-${pods}.json`);
          await runBench("bench-worker.ts", [
            "--pods",
            String(pods),
            "--leases",
            String(options.leases),
            "--json",
            file,
          ]);
          runs.push({ ...readJson<BenchResult<WorkerRun>>(file), command: growthCommand });
        }
        data.worker = runs;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    mkdirSync(join(repoRoot, "docs", "bench-data"), { recursive: true });
    writeFileSync(DATA_FILE, `${JSON.stringify(data, null, 2)}\n`);
    console.log(`Wrote ${DATA_FILE}`);
  }
  if (!data.search && !data.worker?.length)
    throw new Error(`${DATA_FILE}: no figures to chart; run without --chart-only`);
  await draw(data);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
