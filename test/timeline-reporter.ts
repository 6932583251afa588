/**
 * Opt-in (PODNET_TEST_TIMELINE=<file>): writes when each test file started and ended, in seconds from the start of the
 * run, one line per file: `<start> <end> <project> <file>`, sorted by start. With the machine's busy cores over the same
 * run it shows where a run leaves the cores idle (a group's tail, a file waiting on a daemon): docs/testing.md.
 * `npm test` runs vitest twice, the package tests and then the end-to-end files (script/toolchain/test.sh): the second
 * run appends to the file, its times counted from the origin the first wrote on the file's first line
 * (`# origin <Unix ms>`); a new file starts a new origin.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import type { Reporter, TestModule } from "vitest/node";

export default class TimelineReporter implements Reporter {
  private readonly started = new Map<string, number>();
  private readonly lines: { start: number; end: number; text: string }[] = [];
  private readonly origin: number;

  constructor(private readonly file: string) {
    // A file from an earlier run of the same `npm test` starts with its origin; a new file gets this run's.
    const earlier = existsSync(file) ? /^# origin (\d+)/.exec(readFileSync(file, "utf8"))?.[1] : undefined;
    this.origin = earlier ? Number(earlier) : Date.now();
    if (!earlier) writeFileSync(file, `# origin ${this.origin}\n`);
  }

  private now() {
    return (Date.now() - this.origin) / 1000;
  }

  onTestModuleStart(module: TestModule) {
    this.started.set(module.moduleId, this.now());
  }

  onTestModuleEnd(module: TestModule) {
    const start = this.started.get(module.moduleId) ?? 0;
    const end = this.now();
    const name = relative(process.cwd(), module.moduleId);
    this.lines.push({ start, end, text: `${module.project.name} ${name}` });
  }

  onTestRunEnd() {
    const rows = this.lines
      .sort((a, b) => a.start - b.start)
      .map((l) => `${l.start.toFixed(1).padStart(7)} ${l.end.toFixed(1).padStart(7)} ${l.text}`);
    appendFileSync(this.file, `${rows.join("\n")}\n`);
  }
}
