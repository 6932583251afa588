/**
 * Opt-in (PODNET_TEST_CPU_REPORT=<file>): appends one JSON line per test file with the CPU seconds it cost: the test
 * process's own and that of every process it started and reaped (anvil, workers, the indexer, CLI runs: their CPU is
 * added to the parent's when they exit). The Docker Engine's and the containers' CPU is not in it. Linux only.
 * `npm run test:cost` runs the tests with it and prints the table (script/toolchain/test-cost.ts).
 */
import { appendFileSync } from "node:fs";
import { relative } from "node:path";
import { procStat } from "@podnet/devnet";
import { afterAll, expect } from "vitest";

const reportFile = process.env.PODNET_TEST_CPU_REPORT as string;
/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on every Linux Podnet runs on). */
const TICKS = 100;

/** This process's user + system CPU seconds, its own and its reaped children's (utime, stime, cutime, cstime). */
function cpuSeconds(): { own: number; children: number } {
  const [utime, stime, cutime, cstime] = (procStat("self", [14, 15, 16, 17]) ?? []).map(Number);
  return { own: ((utime ?? 0) + (stime ?? 0)) / TICKS, children: ((cutime ?? 0) + (cstime ?? 0)) / TICKS };
}

// Taken as the setup file loads, before the test file is imported: its imports count too.
const start = { ...cpuSeconds(), wall: performance.now() };
afterAll(() => {
  const end = cpuSeconds();
  const file = relative(process.cwd(), expect.getState().testPath ?? "?");
  const line = {
    file,
    ownCpuS: Number((end.own - start.own).toFixed(2)),
    childrenCpuS: Number((end.children - start.children).toFixed(2)),
    wallS: Number(((performance.now() - start.wall) / 1000).toFixed(1)),
  };
  appendFileSync(reportFile, `${JSON.stringify(line)}\n`);
});
