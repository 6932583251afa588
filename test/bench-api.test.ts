/**
 * `npm run bench:api` on a small scale (3 pods, 30 idle connections, 1 s runs): it must finish, print every row of its
 * table with measured figures, keep its idle connections open through the runs, and leave none of its containers or
 * networks behind. How fast anything is comes from the full run (docs/benchmarks.md), not from here.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { bin, devAccount, localDocker, providerObjects, repoRoot } from "@podnet/devnet";
import { describe, expect, it } from "vitest";

const docker = localDocker();
/** The bench's provider: anvil dev account 45 (script/bench/bench-api.ts). */
const provider = devAccount(45).account.address;

function row(table: string, measure: string): string {
  const line = table.split("\n").find((l) => l.startsWith(`| ${measure}`));
  if (!line) throw new Error(`no row "${measure}" in:\n${table}`);
  return line.split("|")[2]?.trim() ?? "";
}

describe("npm run bench:api", () => {
  it("prints the whole table from one small run and cleans up", async () => {
    const { stdout } = await promisify(execFile)(
      bin("tsx"),
      ["script/bench/bench-api.ts", "--pods", "3", "--idle", "30", "--duration", "1", "--signed", "100", "--no-doc"],
      { cwd: repoRoot, encoding: "utf8", timeout: 240_000, maxBuffer: 16 * 2 ** 20 },
    );
    const load = /^[\d,]+ req\/s, p50 [\d.,]+ ms, p99 [\d.,]+ ms \([\d,]+ requests/;
    expect(row(stdout, "POST /v1/quote")).toMatch(load);
    expect(row(stdout, "GET /v1/leases/:id (signed")).toMatch(load);
    // Every signed request was accepted: one nonce each, none replayed.
    expect(row(stdout, "GET /v1/leases/:id (signed")).not.toMatch(/not 2xx/);
    expect(row(stdout, "GET through the ingress")).toMatch(load);
    expect(row(stdout, "the same page straight from the pod's port")).toMatch(load);
    expect(row(stdout, "worker resident memory")).toMatch(/^[\d.,]+ MiB; [\d,]+ open descriptors$/);
    expect(stdout).toContain(
      "30 idle upgraded connections through the ingress held open during every run (30 still open",
    );
    const { containers, networks } = await providerObjects(docker, provider);
    expect([...containers, ...networks]).toEqual([]);
  }, 300_000);
});
