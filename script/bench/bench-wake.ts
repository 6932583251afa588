/**
 * `npm run bench:wake -- [--wakes N] [--keep-logs]`: scale-to-zero cold starts on real parts: its own anvil with the
 * real contracts, the worker as a child process, the Docker Engine of script/toolchain/docker.sh.
 *
 * 1. The "docker run floor": createContainer + start of the same image with a published 127.0.0.1 port -> first 200.
 * 2. One pod with `scaleToZero: {idleSeconds: 1}`; --wakes times (default 100): wait until its container is stopped
 *    (the pod asleep), send one GET through the ingress and time it to the 200 with the page. A request that gets
 *    anything else is a failed request. Goals (issue 17): zero failed, p50 <= 500 ms, p95 <= 1 s.
 *
 * Everything it starts is stopped on exit, error or Ctrl-C (the devnet's cleanup).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cleanupOnSignal, Devnet, fundedPublisher, sealTestImage } from "@podnet/devnet";
import {
  agent,
  docker,
  measureFloor,
  podManifest,
  removeFloorContainers,
  startBenchProvider,
  warmUp,
} from "@podnet/devnet/bench/pods";
import { fmt, load1, met, progressLog, summarize } from "@podnet/devnet/bench/stats";
import { measureWakes } from "@podnet/devnet/bench/wake";

const FLOOR_RUNS = 10;
/** An account no test file and no other bench uses: Docker objects are labelled with the provider's address. */
const PROVIDER_ACCOUNT = 18;
const IMAGE_TAG = "podnet-bench/web:1";
const PAGE = "hello from the podnet worker benchmark";

async function main() {
  const { values } = parseArgs({
    options: { wakes: { type: "string", default: "100" }, "keep-logs": { type: "boolean", default: false } },
  });
  const wakes = Number(values.wakes);
  if (!Number.isSafeInteger(wakes) || wakes < 1 || wakes > 10_000) throw new Error("--wakes: an integer 1..10000");
  const keepLogs = values["keep-logs"] ?? false;
  const command = `npm run bench:wake -- --wakes ${wakes}`;
  const loadAtStart = load1();
  const progress = progressLog(Date.now());
  const dir = mkdtempSync(join(tmpdir(), "podnet-bench-wake-"));
  const runLabel = `floor-wake-${process.pid}-${Date.now()}`;
  let devnet: Devnet | undefined;
  const cleanup = async () => {
    if (devnet) await devnet.stop();
    else if (!keepLogs) rmSync(dir, { recursive: true, force: true });
    agent.destroy();
    if (keepLogs) console.log(`Logs kept in ${dir}`);
  };
  cleanupOnSignal(cleanup);
  try {
    console.log("Setup: anvil, contracts, test image, provider, worker");
    devnet = await Devnet.start({ dir, removeDir: !keepLogs });
    devnet.onStop("remove the floor containers", () => removeFloorContainers(runLabel));
    const image = await sealTestImage(docker, IMAGE_TAG, { page: PAGE });
    devnet.untagBlobOnStop(image.cid);
    const publisher = await fundedPublisher(devnet.chain, 2);
    const b = await startBenchProvider(devnet, { index: PROVIDER_ACCOUNT, image, publishers: [publisher], page: PAGE });
    // Not timed: the image blob reaches the worker and is loaded, as for every bench.
    await warmUp(b, podManifest(image.cid, 250, 64));

    console.log(`1. docker run floor, ${FLOOR_RUNS} runs`);
    const floor = summarize(await measureFloor(IMAGE_TAG, PAGE, runLabel, FLOOR_RUNS));
    progress(`floor p50 ${fmt(floor.p50)} ms`);

    console.log(`2. ${wakes} wakes of a scale-to-zero pod (idleSeconds 1)`);
    const result = await measureWakes(b, publisher, wakes, (i, ms, ok) => {
      if ((i + 1) % 10 === 0 || !ok) progress(`wake ${i + 1}: ${fmt(ms)} ms${ok ? "" : " FAILED"}`);
    });
    const cold = summarize(result.samples);
    const loadAtEnd = load1();
    const table = [
      "| figure | value | goal |",
      "|---|---|---|",
      `| wakes | ${wakes} | 100 |`,
      `| failed requests | ${result.failed}${result.failed > 0 ? ` (${result.failures.join(", ")})` : ""} | 0, ${met(result.failed === 0)} |`,
      `| cold start p50 (stopped + idle -> first 200) | ${fmt(cold.p50)} ms | <= 500 ms, ${met(cold.p50 <= 500)} |`,
      `| cold start p95 | ${fmt(cold.p95)} ms | <= 1,000 ms, ${met(cold.p95 <= 1000)} |`,
      `| cold start max | ${fmt(cold.max)} ms | |`,
      `| docker-run floor p50 / p95 / max (create + start -> first 200, ${FLOOR_RUNS} runs) | ${fmt(floor.p50)} / ${fmt(floor.p95)} / ${fmt(floor.max)} ms | |`,
      "",
      `Command: \`${command}\`; load average (1 min) ${loadAtStart} at the start, ${loadAtEnd} at the end.`,
    ].join("\n");
    console.log(`\n${table}\n`);
    if (result.failed > 0) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
