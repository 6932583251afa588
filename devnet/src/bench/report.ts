/** Where a benchmark's figures go: the machine they were measured on, and the docs/ page they are written to. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../paths.js";
import { docker } from "./pods.js";
import { machineText } from "./stats.js";

/** The machine line of a report, with the Docker Engine's version, cgroup version and storage driver. */
export async function machineWithDocker(): Promise<string> {
  const version = await docker.version();
  const info = (await docker.info()) as { CgroupVersion?: string; Driver?: string };
  return (
    `${machineText()}, Docker Engine ${version.Version} (API ${version.ApiVersion}, ` +
    `cgroup v${info.CgroupVersion ?? "?"}, ${info.Driver ?? "?"})`
  );
}

/**
 * Replaces the figures in docs/`page` with `table`: the figures run from the first line starting "Run " (every
 * report begins with its run's date and command) up to the heading `keep`. The hand-written text around them (the
 * title and what is measured before, notes or observations from `keep` on) stays as it is.
 */
export function writeReportDoc(page: string, table: string, keep: string): void {
  const file = join(repoRoot, "docs", page);
  const previous = readFileSync(file, "utf8");
  const start = previous.search(/^Run /m);
  const end = previous.indexOf(keep);
  if (start < 0 || end < start) throw new Error(`${file}: no "Run ..." figures before "${keep}" to replace`);
  writeFileSync(file, `${previous.slice(0, start)}${table}\n\n${previous.slice(end)}`);
  console.log(`Wrote ${file}`);
}

/**
 * Writes `content` into docs/`page` between `<!-- <name> -->` and `<!-- /<name> -->`, appending that section at the
 * end of the page the first time: one benchmark's figures, the page's other sections (and other benchmarks') as they
 * are.
 */
export function writeDocSection(page: string, name: string, content: string): void {
  const file = join(repoRoot, "docs", page);
  const previous = readFileSync(file, "utf8");
  const open = `<!-- ${name} -->`;
  const close = `<!-- /${name} -->`;
  const start = previous.indexOf(open);
  const end = previous.indexOf(close);
  const section = `${open}\n${content.trim()}\n${close}`;
  const next =
    start >= 0 && end > start
      ? `${previous.slice(0, start)}${section}${previous.slice(end + close.length)}`
      : `${previous.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
  console.log(`Wrote ${file}`);
}

/**
 * Writes a run's figures as JSON to `file` (`--json`), for `npm run bench:growth` to chart: which benchmark, the
 * command, when and where it ran, and the benchmark's own figures (numbers in ms, s or MiB as their names say).
 */
export function writeJsonResult(file: string, bench: string, command: string, figures: unknown): void {
  const result = { bench, command, at: new Date().toISOString(), machine: machineText(), figures };
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`Wrote ${file}`);
}

/**
 * The command line a report shows for this run: `base`, then `separator` (`--` after an npm script) and the
 * arguments if there are any, `--json <file>` left out (a file of the caller's, often temporary: `npm run
 * bench:growth` passes one).
 */
export function reportedCommand(base: string, separator = "", args = process.argv.slice(2)): string {
  const shown = args.filter((arg, i) => arg !== "--json" && args[i - 1] !== "--json" && !arg.startsWith("--json="));
  return shown.length > 0 ? [base, separator, ...shown].filter(Boolean).join(" ") : base;
}
