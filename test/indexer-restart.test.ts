/**
 * `npm run indexer` after a second `npm run deploy:local` on a new local chain: Ponder alone dies with "Schema podnet
 * was previously used by a different Ponder app" (the deployment moved: another start block) or, when everything
 * matches, resumes the old chain's rows. The indexer's start script notices the new chain and starts afresh.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clients, deployContracts, freePort, repoRoot, startAnvil, waitFor } from "@podnet/devnet";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "podnet-indexer-restart-"));
const rpcPort = await freePort();
const running: ChildProcess[] = [];

afterAll(() => {
  for (const child of running) {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) continue;
    try {
      // The indexers run in their own process group (npm, tsx, ponder); anvil alone.
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // anvil's npm launcher forwards SIGTERM to the binary; a SIGKILL would leave the binary running without it.
      child.kill("SIGTERM");
    }
  }
});

/** A fresh anvil on the same port (what a second `npm run deploy:local` after a restart meets), `mined` blocks in. */
async function newChain(name: string, mined: number) {
  const anvil = await startAnvil({ port: rpcPort, logFile: join(dir, name, "anvil.log") });
  running.push(anvil.process);
  if (mined > 0) await clients({ rpcUrl: anvil.rpcUrl }).testClient.mine({ blocks: mined });
  const { file } = await deployContracts({
    rpcUrl: anvil.rpcUrl,
    deploymentsDir: join(dir, name),
    broadcastDir: join(dir, name, "broadcast"),
    env: { ...process.env, TIMELOCK_DELAY: "60" },
  });
  const exited = new Promise<void>((resolve) => anvil.process.once("exit", () => resolve()));
  const stop = async () => {
    anvil.process.kill();
    await exited;
  };
  return { rpcUrl: anvil.rpcUrl, deploymentsFile: file, stop };
}

/** `npm run indexer` on `chain` with one PGlite directory for both runs; resolves when ready, or with its output. */
async function runIndexer(chain: { rpcUrl: string; deploymentsFile: string }) {
  const port = await freePort();
  const child = spawn("npm", ["run", "--silent", "indexer"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      CHAIN_ID: "31337",
      RPC_URL: chain.rpcUrl,
      DEPLOYMENTS_FILE: chain.deploymentsFile,
      PGLITE_DIRECTORY: join(dir, "pglite"),
      PORT: String(port),
      DATABASE_URL: "",
      DATABASE_SCHEMA: "",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  running.push(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const ready = await waitFor(
    "the indexer's /ready",
    async () => {
      if (child.exitCode !== null) return "exited";
      const response = await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined);
      return response?.status === 200 ? "ready" : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  ).catch(() => "timeout");
  const stop = async () => {
    if (child.exitCode === null && child.pid) process.kill(-child.pid, "SIGTERM");
    await exited;
  };
  return { ready, output: () => output, stop };
}

describe("npm run indexer after a new local chain", () => {
  it("drops what it indexed from the old chain and indexes the new one", async () => {
    const first = await newChain("a", 0);
    const a = await runIndexer(first);
    expect(a.ready, a.output()).toBe("ready");
    await a.stop();
    await first.stop();

    // The second deploy lands a few blocks later: another start block for Ponder.
    const second = await newChain("b", 3);
    const b = await runIndexer(second);
    try {
      expect(b.ready, b.output()).toBe("ready");
      expect(b.output()).not.toMatch(/previously used by a different Ponder app/);
      expect(b.output()).toMatch(
        /indexer: schema "podnet" was indexed from chain\/deployment 31337:\d+:0x[0-9a-f]+, this is 31337:\d+:0x[0-9a-f]+: dropped schema "podnet" and the local chain's RPC cache; indexing afresh/,
      );
      const deployBlock = JSON.parse(readFileSync(second.deploymentsFile, "utf8")).deployBlock;
      expect(deployBlock).toBeGreaterThan(JSON.parse(readFileSync(first.deploymentsFile, "utf8")).deployBlock);
    } finally {
      await b.stop();
      await second.stop();
    }
  }, 300_000);
});
