/**
 * Opt-in (PODNET_TEST_CPU_REPORT=<file>): appends one JSON line per test file with the CPU seconds it cost: the test
 * process's own and that of every process it started and reaped (anvil, workers, the indexer, CLI runs: their CPU is
 * added to the parent's when they exit). The Docker Engine's and the containers' CPU is not in it. Linux only.
 * `npm run test:cost` runs the tests with it and prints the table (script/toolchain/test-cost.ts).
 */
import { appendFileSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import { afterAll, expect } from "vitest";

const reportFile = process.env.PODNET_TEST_CPU_REPORT as string;
/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on every Linux Podnet runs on). */
const TICKS = 100;

/** This process's user + system CPU seconds, its own and its reaped children's. */
function cpuSeconds(): { own: number; children: number } {
  // The fields after the command name (which may hold spaces) start at field 3, state.
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
  const at = (field: number) => Number(fields[field - 3]);
  return { own: (at(14) + at(15)) / TICKS, children: (at(16) + at(17)) / TICKS };
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
