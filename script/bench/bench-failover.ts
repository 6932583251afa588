/**
 * `npm run bench:failover -- [--kills N] [--no-doc] [--keep-logs]`: the autoscaler's failover on its own (issue 16's
 * goal: kill -> the replacement serving through the ingress, p95 <= 10 s with a 1 s probe interval and 3 failures,
 * detection included). `npm run bench` runs the same measurement as its last step.
 *
 * One world: anvil with the real contracts, the Ponder indexer, 4 provider workers on the Docker Engine of
 * script/toolchain/docker.sh, an AppVault app with target 1 and the `podnet-autoscaler` daemon as a child process
 * (devnet/src/bench/failover.ts). Each of the --kills (default 5) SIGKILLs the worker hosting the instance and stops
 * its pods; the clock stops at the replacement's first 200 through its provider's ingress; the killed worker is then
 * restarted. Prints a markdown table and writes it into its own section of docs/benchmarks.md (unless --no-doc).
 *
 * Everything it starts is stopped on exit, error or Ctrl-C: the autoscaler, workers, pods and networks, the indexer,
 * anvil and the temp dir (kept with --keep-logs).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cleanupOnSignal, Devnet } from "@podnet/devnet";
import { failoverRows, failoverSetup, measureFailover } from "@podnet/devnet/bench/failover";
import { machineWithDocker, writeDocSection } from "@podnet/devnet/bench/report";
import { fmt, load1, now, progressLog } from "@podnet/devnet/bench/stats";

function parseOptions() {
  const { values } = parseArgs({
    options: {
      kills: { type: "string", default: "5" },
      "no-doc": { type: "boolean", default: false },
      "keep-logs": { type: "boolean", default: false },
    },
  });
  const kills = Number(values.kills);
  if (!Number.isInteger(kills) || kills < 1 || kills > 1_000) {
    throw new Error(`--kills must be a whole number from 1 to 1000, got "${values.kills}"`);
  }
  return { kills, doc: !values["no-doc"], keepLogs: values["keep-logs"] };
}

async function main() {
  const options = parseOptions();
  const command = `npm run bench:failover${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const loadAtStart = load1();
  const started = now();
  const dir = mkdtempSync(join(tmpdir(), "podnet-bench-failover-"));
  const devnet = await Devnet.start({ dir, removeDir: !options.keepLogs });
  const cleanup = async () => {
    await devnet.stop();
    if (options.keepLogs) console.log(`Logs kept in ${dir} (failover/autoscaler/autoscaler.log, provider-*/*.log)`);
  };
  cleanupOnSignal(cleanup);
  try {
    await devnet.startIndexer({ schema: "bench_failover" });
    console.log(`Failover, ${options.kills} kills`);
    const result = await measureFailover(devnet, { kills: options.kills, progress: progressLog() });
    const table = [
      `Run ${new Date().toISOString()} with \`${command}\`.`,
      "",
      `- Machine: ${await machineWithDocker()}`,
      `- Load average (1 min) at the start / the end: ${loadAtStart} / ${load1()}`,
      "- Chain: anvil with automine; workers polling the chain every 100 ms, reconciling every 1 s; the indexer on PGlite",
      failoverSetup(result),
      "",
      "| measure | value | goal | |",
      "|---|---|---|---|",
      ...failoverRows(result),
    ].join("\n");
    console.log(`\n${table}\n`);
    console.log(`Total ${fmt((now() - started) / 1000)} s`);
    if (options.doc) {
      writeDocSection("benchmarks.md", "failover", `## Autoscaler failover (\`npm run bench:failover\`)\n\n${table}`);
    }
  } finally {
    await cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
