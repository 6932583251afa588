/** Runs the Ponder indexer (indexer/) as a child process for end-to-end tests. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../../script/lib/chain.js";
import { freePort, waitFor } from "./net.js";

export type IndexerOptions = {
  rpcUrl: string;
  deploymentsFile: string;
  /** Postgres connection string; unset: embedded PGlite in a fresh temporary directory. */
  databaseUrl?: string;
  /** Database schema Ponder writes to (must be unique per run on a shared Postgres). */
  schema: string;
};

export type Indexer = {
  url: string;
  logFile: string;
  /** The end of the indexer's log, for failure messages. */
  logTail: (lines?: number) => string;
  stop: () => Promise<void>;
};

/** /status of Ponder 0.16: the latest indexed block per chain name. */
export type PonderStatus = Record<string, { id: number; block: { number: number; timestamp: number } }>;

export async function startIndexer({ rpcUrl, deploymentsFile, databaseUrl, schema }: IndexerOptions): Promise<Indexer> {
  const dir = mkdtempSync(join(tmpdir(), "podnet-indexer-"));
  const port = await freePort();
  const logFile = join(dir, "ponder.log");
  const log = openSync(logFile, "a");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PONDER_TELEMETRY_DISABLED: "true",
    RPC_URL: rpcUrl,
    CHAIN_ID: "31337",
    DEPLOYMENTS_FILE: deploymentsFile,
    PGLITE_DIRECTORY: join(dir, "pglite"),
  };
  delete env.DATABASE_URL;
  delete env.DATABASE_SCHEMA;
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  // The ponder binary is hoisted to the root node_modules by the npm workspace.
  const child: ChildProcess = spawn(
    join(repoRoot, "node_modules", ".bin", "ponder"),
    ["start", "--schema", schema, "--port", String(port)],
    // Its own process group, so that stop() also ends anything ponder spawns.
    { cwd: join(repoRoot, "indexer"), env, stdio: ["ignore", log, log], detached: true },
  );
  // Should the test runner exit without afterAll (a crash), take the indexer down with it: no orphan process.
  const killOnExit = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  process.once("exit", killOnExit);
  let exited: number | string | null | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = code ?? signal;
      resolve();
    });
  });

  const logTail = (lines = 40) => readFileSync(logFile, "utf8").split("\n").slice(-lines).join("\n");
  const stop = async () => {
    if (exited !== undefined || child.pid === undefined) {
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
  };

  const url = `http://127.0.0.1:${port}`;
  try {
    const outcome = await waitFor(
      "the indexer's /ready",
      async () => {
        if (exited !== undefined) return "exited";
        const response = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) });
        return response.status === 200 ? "ready" : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    if (outcome === "exited") throw new Error(`ponder exited (${exited}) before it was ready`);
  } catch (error) {
    await stop();
    throw new Error(`${error instanceof Error ? error.message : error}\n--- ponder log ---\n${logTail()}`);
  }
  return { url, logFile, logTail, stop };
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
