/**
 * `npm run bench:network -- [--kills N] [--no-doc] [--keep-logs]`: the autoscaler network (issue 19's goal: a killed
 * node's apps are taken over within 2 heartbeat periods). `npm run bench` runs the same measurement.
 *
 * One world: anvil with the real contracts (the AutoscalerNetwork on the bench clock, BENCH_NETWORK_CLOCK), the
 * Ponder indexer, 3 provider workers, 3 `podnet-autoscaler node run` processes and 3 apps in network mode handed over
 * with the SDK (devnet/src/bench/network.ts). Each of the --kills (default 5) SIGKILLs the node serving an app and
 * times until another node runs its apps; the node is restarted before the next kill. Then the failover under network
 * mode: the provider hosting an app's instance is killed, timed until the node's replacement serves. Prints a markdown
 * table and writes it into its own section of docs/benchmarks.md (unless --no-doc).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cleanupOnSignal, Devnet } from "@podnet/devnet";
import { BENCH_NETWORK_CLOCK, measureNetwork, networkRows, networkSetup } from "@podnet/devnet/bench/network";
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
  const command = `npm run bench:network${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const loadAtStart = load1();
  const started = now();
  const dir = mkdtempSync(join(tmpdir(), "podnet-bench-network-"));
  const devnet = await Devnet.start({ dir, removeDir: !options.keepLogs, networkClock: BENCH_NETWORK_CLOCK });
  const cleanup = async () => {
    await devnet.stop();
    if (options.keepLogs) console.log(`Logs kept in ${dir} (network/node-*/node.log, provider-*/*.log)`);
  };
  cleanupOnSignal(cleanup);
  try {
    await devnet.startIndexer({ schema: "bench_network" });
    console.log(`Autoscaler network, ${options.kills} node kills`);
    const result = await measureNetwork(devnet, { kills: options.kills, progress: progressLog() });
    const table = [
      `Run ${new Date().toISOString()} with \`${command}\`.`,
      "",
      `- Machine: ${await machineWithDocker()}`,
      `- Load average (1 min) at the start / the end: ${loadAtStart} / ${load1()}`,
      "- Chain: anvil with automine; workers polling the chain every 100 ms, reconciling every 1 s; the indexer on PGlite",
      networkSetup(result),
      "",
      "| measure | value | goal | |",
      "|---|---|---|---|",
      ...networkRows(result),
    ].join("\n");
    console.log(`\n${table}\n`);
    console.log(`Total ${fmt((now() - started) / 1000)} s`);
    if (options.doc) {
      writeDocSection("benchmarks.md", "network", `## Autoscaler network (\`npm run bench:network\`)\n\n${table}`);
    }
  } finally {
    await cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
