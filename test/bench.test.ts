/**
 * `npm run bench` on a small scale (two samples of each path, a few pods and providers, one failover kill, one node
 * kill under one app in network mode, two seconds of DNS load): the run must finish, print every row of its table with
 * a measured value, and leave none of its containers or networks behind. It asserts that the benchmark works, not how
 * fast anything is: the figures come from `npm run bench` at full size (docs/benchmarks.md).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { bin, devAccount, localDocker, providerObjects, repoRoot } from "@podnet/devnet";
import { FAILOVER_ACCOUNTS } from "@podnet/devnet/bench/failover";
import { GAS_ORDER } from "@podnet/devnet/bench/gas";
import { NETWORK_ACCOUNTS } from "@podnet/devnet/bench/network";
import { describe, expect, it } from "vitest";

const docker = localDocker();
/** The bench's providers A and B: anvil dev accounts 20 and 21 (script/bench/bench.ts), the failover's, the network's. */
const benchProviders = [20, 21, ...FAILOVER_ACCOUNTS.providers, ...NETWORK_ACCOUNTS.providers].map(
  (i) => devAccount(i).account.address,
);
/** Rows of the gas table a short run may not reach: no losing bid released yet, no one-lease withdrawal. */
const notEveryRun = new Set(["releaseBid", "withdraw (1 lease)"]);

async function leftovers() {
  const found: string[] = [];
  for (const address of benchProviders) {
    const { containers, networks } = await providerObjects(docker, address);
    found.push(...containers.map((c) => `container ${c.Id}`), ...networks.map((n) => `network ${n.Name}`));
  }
  const floor = await docker.listContainers({ all: true, filters: { label: ["podnet.bench"] } });
  found.push(...floor.map((c) => `floor container ${c.Id}`));
  return found;
}

/** The value cell of the table row whose first cell starts with `measure`. */
function row(table: string, measure: string): string {
  const line = table.split("\n").find((l) => l.startsWith(`| ${measure}`));
  if (!line) throw new Error(`no row "${measure}" in:\n${table}`);
  return line.split("|")[2]?.trim() ?? "";
}

describe("npm run bench", () => {
  it("prints the whole table from one run and cleans up", async () => {
    const { stdout } = await promisify(execFile)(
      bin("tsx"),
      [
        "script/bench/bench.ts",
        "--samples",
        "2",
        "--providers",
        "40",
        "--pods",
        "3",
        "--lag",
        "3",
        "--search",
        "10",
        "--kills",
        "1",
        "--wakes",
        "3",
        "--network-apps",
        "1",
        "--dns-seconds",
        "2",
        "--no-doc",
      ],
      { cwd: repoRoot, encoding: "utf8", timeout: 450_000, maxBuffer: 16 * 2 ** 20 },
    );
    const latency = /^[\d,]+ \/ [\d,]+ \/ [\d,]+ ms$/;
    expect(row(stdout, "docker run floor")).toMatch(latency);
    expect(row(stdout, "order -> serving, direct")).toMatch(latency);
    expect(row(stdout, "of which lease tx -> serving")).toMatch(latency);
    expect(row(stdout, "of which lease tx -> serving against the floor")).toMatch(/^\d+\.\d\dx \/ \d+\.\d\dx$/);
    expect(row(stdout, "order -> serving, market")).toMatch(latency);
    expect(row(stdout, "market, medians")).toMatch(/^[\d,]+ \/ [\d,]+ \/ [\d,]+ \/ [\d,]+ \/ [\d,]+ ms$/);
    expect(row(stdout, "reconcile: kill -9")).toMatch(/^[\d,]+ ms$/);
    // Exactly one container per pod after the restart.
    expect(row(stdout, "reconcile: restart")).toMatch(/^[\d,]+ ms; 3$/);
    expect(row(stdout, "indexer lag")).toMatch(latency);
    expect(row(stdout, "/search at 42 providers")).toMatch(/^[\d.,]+ \/ [\d.,]+ \/ [\d.,]+ ms$/);
    // Every step of the lifecycle sent its transactions, and the gas of each came from a receipt.
    for (const operation of GAS_ORDER.filter((name) => !notEveryRun.has(name))) {
      expect(row(stdout, `gas: ${operation},`)).toMatch(/^\d{2,3},\d{3}$/);
    }
    // The app's instance was replaced on another provider and served there; the split comes from the autoscaler.
    expect(row(stdout, "failover: kill -9")).toMatch(latency);
    expect(row(stdout, "failover, medians")).toMatch(/^[\d,]+ \/ [\d,]+ \/ [\d,]+ \/ [\d,]+ \/ [\d,]+ \/ [\d,]+ ms$/);
    // A node of the autoscaler network was killed and another ran its apps; a provider under a node-served app was
    // killed and the node's replacement served.
    expect(row(stdout, "network takeover")).toMatch(latency);
    expect(row(stdout, "failover under network mode")).toMatch(/^[\d,]+ \/ [\d,]+ ms$/);
    // The scale-to-zero pod slept and woke three times, every request answered.
    expect(row(stdout, "scale-to-zero: failed requests in 3 wakes")).toBe("0");
    expect(row(stdout, "scale-to-zero cold start")).toMatch(latency);
    expect(stdout).not.toMatch(/reverted/);
    expect(await leftovers()).toEqual([]);
  }, 510_000);
});
