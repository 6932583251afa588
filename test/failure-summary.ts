/**
 * Opt-in (PODNET_TEST_FAILURES=<file>): writes, when the run ends, which tests failed and why, in a few lines each: the
 * project, the file and the test's full name, the error's first lines and where in the repository it was thrown; then
 * the suites and files that failed outside any test (a hook, an import) and the errors no test caught. An empty file:
 * no failure.
 *
 * Why: `npm test` prints the contracts' checks (some 200 lines) after the end-to-end tests, so a CI log that keeps only
 * its tail showed "end-to-end tests failed (above)" and not which test (stop 42's run). script/toolchain/test.sh prints
 * this file last.
 */
import { writeFileSync } from "node:fs";
import { relative } from "node:path";
import type { Reporter, SerializedError, TestModule } from "vitest/node";

/** Lines of an error's message kept, and characters of each: enough for an assertion's diff head. */
const MESSAGE_LINES = 8;
const LINE_CHARS = 300;

export default class FailureSummary implements Reporter {
  constructor(private readonly file: string) {}

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>) {
    const out: string[] = [];
    // By file, whatever order they ran in: two runs of the same failures read the same.
    for (const module of [...modules].sort((a, b) => a.moduleId.localeCompare(b.moduleId))) {
      const where = [module.project.name, relative(process.cwd(), module.moduleId)].filter(Boolean).join(" ");
      for (const test of module.children.allTests("failed")) {
        out.push(`FAIL ${where} > ${test.fullName}`, ...(test.result().errors ?? []).flatMap(describeError));
      }
      const suiteErrors = [...module.children.allSuites()].flatMap((suite) =>
        suite.errors().map((error) => ({ name: suite.fullName, error })),
      );
      for (const { name, error } of suiteErrors) out.push(`FAIL ${where} > ${name} (suite)`, ...describeError(error));
      if (module.errors().length > 0) out.push(`FAIL ${where} (file)`, ...module.errors().flatMap(describeError));
    }
    if (unhandled.length > 0) out.push("Errors no test caught:", ...unhandled.flatMap(describeError));
    writeFileSync(this.file, out.length > 0 ? `${out.join("\n")}\n` : "");
  }
}

function describeError(error: SerializedError): string[] {
  const message = `${error.name && !error.message.startsWith(error.name) ? `${error.name}: ` : ""}${error.message}`;
  const lines = message
    .split("\n")
    .filter((line) => line.trim() !== "")
    .slice(0, MESSAGE_LINES)
    .map((line) => `    ${line.length > LINE_CHARS ? `${line.slice(0, LINE_CHARS)}…` : line}`);
  const frame = error.stacks?.find((stack) => !stack.file.includes("node_modules"));
  if (frame) lines.push(`    at ${relative(process.cwd(), frame.file)}:${frame.line}:${frame.column}`);
  else {
    // An error no test caught comes with its stack as text only.
    const at = error.stack?.split("\n").find((line) => /^\s+at /.test(line) && !line.includes("node_modules"));
    if (at) lines.push(`    ${at.trim()}`);
  }
  return lines;
}
