/**
 * `npm run test:cost -- [vitest arguments]`: runs the vitest files (all, or those the arguments select) with each
 * file's CPU recorded (test/cpu-report.ts), then prints them costliest first: CPU seconds of the test process and of
 * the processes it started, and the file's wall time. With both cores busy, a run lasts its CPU time over the core
 * count, so this table says where a shorter `npm test` comes from. The Docker Engine's own CPU is not in it.
 * Needs the services `npm test` starts (Docker, PostgreSQL for the indexer's Postgres cases).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";

interface FileCost {
  file: string;
  ownCpuS: number;
  childrenCpuS: number;
  wallS: number;
}

const report = join(mkdtempSync(join(tmpdir(), "podnet-test-cost-")), "cost.jsonl");
const started = performance.now();
const run = spawnSync("npx", ["vitest", "run", ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, PODNET_TEST_CPU_REPORT: report },
});
const wallS = (performance.now() - started) / 1000;

let costs: FileCost[] = [];
try {
  costs = readFileSync(report, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as FileCost);
} catch {
  console.error(`no CPU report was written (${report}): did any test file run?`);
  process.exit(run.status ?? 1);
}
const total = (c: FileCost) => c.ownCpuS + c.childrenCpuS;
costs.sort((a, b) => total(b) - total(a));
const sum = costs.reduce((s, c) => s + total(c), 0);
const rows = costs.map(
  (c) =>
    `| ${c.file} | ${total(c).toFixed(1)} | ${c.ownCpuS.toFixed(1)} | ${c.childrenCpuS.toFixed(1)} | ${c.wallS.toFixed(0)} | ${((100 * total(c)) / sum).toFixed(1)} % |`,
);
console.log(
  [
    "",
    `| file | CPU s | test process | its children | wall s | share |`,
    "|---|---|---|---|---|---|",
    ...rows,
    "",
    `${costs.length} files, ${sum.toFixed(0)} CPU seconds in the test processes and their children; the run took ` +
      `${wallS.toFixed(0)} s on ${cpus().length} cores (vitest exit ${run.status}).`,
  ].join("\n"),
);
process.exit(run.status ?? 1);
