/**
 * The failure summary `npm test` prints last (test/failure-summary.ts): a real vitest run of fixtures that fail in
 * each way a file can (an assertion, a suite's hook, a file's hook, a file that fails to load, an error no test caught),
 * and one that passes.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot, runCommand } from "@podnet/devnet";
import { describe, expect, it } from "vitest";

const FIXTURES = "test/fixtures/failure-summary";

async function summaryOf(...args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "podnet-failure-summary-"));
  try {
    const file = join(dir, "failures.txt");
    const run = await runCommand(
      join(repoRoot, "node_modules", ".bin", "vitest"),
      ["run", "--config", `${FIXTURES}/vitest.config.ts`, "--root", ".", ...args],
      { cwd: repoRoot, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", FAILURES: file } },
    );
    return { code: run.code, output: run.stdout + run.stderr, summary: readFileSync(file, "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("the failure summary", () => {
  it("names every failed test, suite and file, and each uncaught error, with why and where, by file", async () => {
    const [failing, passing] = await Promise.all([
      summaryOf(),
      summaryOf("fails.fixture", "--testNamePattern", "^outer passes$"),
    ]);

    expect(failing.code, failing.output).toBe(1);
    const fails = `${FIXTURES}/fails.fixture.ts`;
    expect(failing.summary.split("\n")).toEqual([
      `FAIL ${FIXTURES}/after.fixture.ts (file)`,
      "    Error: cleanup broke",
      `    at ${FIXTURES}/after.fixture.ts:5:9`,
      `FAIL ${fails} > outer > fails an assertion`,
      "    AssertionError: expected { a: 1 } to deeply equal { a: 2 }",
      `    at ${fails}:6:51`,
      `FAIL ${fails} > hooked (suite)`,
      "    Error: hook broke",
      `    at ${fails}:11:11`,
      `FAIL ${FIXTURES}/load-error.fixture.ts (file)`,
      "    Error: the file failed to load",
      `    at ${FIXTURES}/load-error.fixture.ts:2:7`,
      "Errors no test caught:",
      "    Error: late throw",
      expect.stringMatching(new RegExp(`^    at .*${FIXTURES}/uncaught\\.fixture\\.ts:6:11\\)?$`)),
      "",
    ]);

    // A run with no failure leaves the file empty: `npm test` prints nothing more.
    expect(passing.code, passing.output).toBe(0);
    expect(passing.summary).toBe("");
  });
});
