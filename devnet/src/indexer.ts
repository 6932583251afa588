/** The Ponder indexer (indexer/) as a child process: `ponder start` on a local chain, its GraphQL and /status. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { anvilWsUrl, LOCAL_CHAIN_ID } from "./anvil.js";
import type { LocalChain } from "./chain.js";
import { freePort, waitFor } from "./net.js";
import { bin, DAEMON_NODE_FLAGS, DEVNET_POSTGRES_ENV, repoRoot } from "./paths.js";
import { createScratchDatabase, DEVNET_DATABASE_PREFIX } from "./postgres.js";

/** Options of {@link startIndexer}. */
export type IndexerOptions = {
  chain: Pick<LocalChain, "rpcUrl" | "deploymentsFile">;
  /**
   * Postgres connection string; unset: embedded PGlite in `dir`, or a scratch database (dropped when the indexer
   * stops) on the server {@link DEVNET_POSTGRES_ENV} names, when it is set.
   */
  databaseUrl?: string;
  /** Database schema Ponder writes to (must be unique per run on a shared Postgres). */
  schema: string;
  /** Where the log (ponder.log) and PGlite's files go; default: a fresh temporary directory. */
  dir?: string;
  /** Default: a free port. */
  port?: number;
  /** The address it listens on and its `url` names; default 127.0.0.1. */
  host?: string;
};

/** A started indexer. */
export type Indexer = {
  url: string;
  logFile: string;
  process: ChildProcess;
  /** The end of the indexer's log, for failure messages. */
  logTail: (lines?: number) => string;
  /** SIGTERM to ponder and everything it spawned, SIGKILL after 5 s; resolves when it exited. */
  stop: () => Promise<void>;
};

/** /status of Ponder 0.16: the latest indexed block per chain name. */
export type PonderStatus = Record<string, { id: number; block: { number: number; timestamp: number } }>;

/** Spawns `ponder start` without waiting for it (a benchmark times its catch-up); see {@link startIndexer}. */
export async function spawnIndexer({
  chain,
  databaseUrl,
  schema,
  dir,
  port,
  host = "127.0.0.1",
}: IndexerOptions): Promise<Indexer> {
  const workDir = dir ?? mkdtempSync(join(tmpdir(), "podnet-indexer-"));
  mkdirSync(workDir, { recursive: true });
  const listenPort = port ?? (await freePort());
  const logFile = join(workDir, "ponder.log");
  const scratch = databaseUrl === undefined ? await scratchDatabase() : undefined;
  const log = openSync(logFile, "a");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PONDER_TELEMETRY_DISABLED: "true",
    RPC_URL: chain.rpcUrl,
    // New blocks by subscription: an idle indexer then asks anvil nothing (polling: every 250 ms).
    RPC_WS_URL: anvilWsUrl(chain.rpcUrl),
    CHAIN_ID: String(LOCAL_CHAIN_ID),
    DEPLOYMENTS_FILE: chain.deploymentsFile,
    PGLITE_DIRECTORY: join(workDir, "pglite"),
  };
  delete env.DATABASE_URL;
  delete env.DATABASE_SCHEMA;
  const database = databaseUrl ?? scratch?.url;
  if (database) env.DATABASE_URL = database;
  // The ponder binary is hoisted to the root node_modules by the npm workspace; run by node with the daemons' flags.
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...DAEMON_NODE_FLAGS,
      bin("ponder"),
      "start",
      "--schema",
      schema,
      "--port",
      String(listenPort),
      "--hostname",
      host,
    ],
    // Its own process group, so that stop() also ends anything ponder spawns.
    { cwd: join(repoRoot, "indexer"), env, stdio: ["ignore", log, log], detached: true },
  );
  // Should this process exit without stopping the indexer (a crash), take the indexer down with it: no orphan.
  const killOnExit = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  process.once("exit", killOnExit);
  const exit = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const logTail = (lines = 40) => readFileSync(logFile, "utf8").split("\n").slice(-lines).join("\n");
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      process.off("exit", killOnExit);
      return;
    }
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-(child.pid as number), signal);
      } catch {
        // already gone
      }
    };
    signalGroup("SIGTERM");
    const timer = setTimeout(() => signalGroup("SIGKILL"), 5_000);
    await exit;
    clearTimeout(timer);
    process.off("exit", killOnExit);
    // What a crash leaves behind, the test run's teardown drops (dropOrphanDevnetDatabases).
    await scratch?.drop().catch(() => {});
  };
  return { url: `http://${host}:${listenPort}`, logFile, process: child, logTail, stop };
}

/** Scratch databases of this process are numbered: several indexers may run at once. */
let scratchCount = 0;

/** A scratch database on the {@link DEVNET_POSTGRES_ENV} server, when it names one. */
async function scratchDatabase() {
  const server = process.env[DEVNET_POSTGRES_ENV];
  if (!server) return undefined;
  return createScratchDatabase(
    server,
    `${DEVNET_DATABASE_PREFIX}${process.pid}_${Date.now().toString(36)}_${++scratchCount}`,
  );
}

/** Starts the indexer on a local chain and waits until it answers /ready (caught up with the chain's history). */
export async function startIndexer(opts: IndexerOptions): Promise<Indexer> {
  const indexer = await spawnIndexer(opts);
  const { process: child } = indexer;
  try {
    const outcome = await waitFor(
      "the indexer's /ready",
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) return "exited";
        const response = await fetch(`${indexer.url}/ready`, { signal: AbortSignal.timeout(2_000) });
        return response.status === 200 ? "ready" : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    if (outcome === "exited") {
      throw new Error(`ponder exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    }
  } catch (error) {
    await indexer.stop();
    throw new Error(`${error instanceof Error ? error.message : error}\n--- ponder log ---\n${indexer.logTail()}`);
  }
  return indexer;
}

/** Waits until the indexer's /status shows `chain` indexed up to `blockNumber`. */
export async function waitForIndexedBlock(indexer: Indexer, blockNumber: bigint, chain = "podnet") {
  try {
    return await waitFor(
      `the indexer to reach block ${blockNumber}`,
      async () => {
        const response = await fetch(`${indexer.url}/status`);
        if (!response.ok) return undefined;
        const status = (await response.json()) as PonderStatus;
        const indexed = status[chain]?.block.number;
        return indexed !== undefined && BigInt(indexed) >= blockNumber ? status : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : error}\n--- ponder log ---\n${indexer.logTail()}`);
  }
}

/** Waits until the indexer's provider search (`/search`) lists `provider`: registered, staked and heartbeating. */
export async function waitForSearchable(indexer: Pick<Indexer, "url">, provider: string) {
  await waitFor(
    "the indexer to list the provider",
    async () => {
      const response = await fetch(`${indexer.url}/search?cpu=1&memory=4`);
      const { providers } = (await response.json()) as { providers: { address: string }[] };
      return providers.some((p) => p.address.toLowerCase() === provider.toLowerCase()) ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

/** Posts a GraphQL query; throws on transport or GraphQL errors. */
export async function graphql<T>(indexer: Pick<Indexer, "url">, query: string): Promise<T> {
  const response = await fetch(`${indexer.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
  if (!response.ok || body.errors?.length || !body.data) {
    throw new Error(`GraphQL ${response.status}: ${JSON.stringify(body.errors ?? body)}`);
  }
  return body.data;
}
