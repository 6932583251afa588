/**
 * `npm run indexer`: `ponder start` on the schema `DATABASE_SCHEMA` (default podnet), port `PORT` (default 42069),
 * after checking that the schema was indexed from this chain and deployment (schema-origin.ts). On a local chain
 * (31337) a schema from another chain, or one Ponder refuses because the indexer's code changed, is dropped and
 * indexed afresh; on any other chain the indexer stops and says what to run. `--fresh` drops the schema first.
 *
 * Environment: as ponder.config.ts (CHAIN_ID, RPC_URL, DEPLOYMENTS_FILE, DATABASE_URL, PGLITE_DIRECTORY), plus
 * DATABASE_SCHEMA and PORT.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { parseDeployment } from "@podnet/sdk/protocol";
import { createPublicClient, http } from "viem";
import {
  dropSchema,
  dropSyncCache,
  originOf,
  PONDER_OTHER_APP,
  readOrigin,
  refusal,
  type Sql,
  schemaAction,
  writeOrigin,
} from "./schema-origin.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const chainId = Number(process.env.CHAIN_ID ?? 31337);
const local = chainId === 31337;
const schema = process.env.DATABASE_SCHEMA || "podnet";
const port = process.env.PORT || "42069";
const rpcUrl = process.env.RPC_URL ?? "http://127.0.0.1:8545";
const deploymentsFile = process.env.DEPLOYMENTS_FILE ?? join(root, "..", "deployments", `${chainId}.json`);
// Ponder's own default for PGlite, relative to the app's root.
const pgliteDir = resolve(root, process.env.PGLITE_DIRECTORY ?? ".ponder/pglite");
const say = (line: string) => process.stderr.write(`indexer: ${line}\n`);

type PgModule = {
  default: {
    Client: new (config: { connectionString: string }) => Sql & { connect(): Promise<void>; end(): Promise<void> };
  };
};

/** A SQL session on the indexer's database (Postgres from DATABASE_URL, else the PGlite directory). */
async function openDatabase(): Promise<Sql & { close(): Promise<void> }> {
  if (process.env.DATABASE_URL) {
    // Ponder's own Postgres driver, by name at run time: the type check does not need its declarations.
    const moduleName = "pg";
    const { default: pg } = (await import(moduleName)) as PgModule;
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    return { query: (text, params) => client.query(text, params), close: () => client.end() };
  }
  const db = new PGlite(pgliteDir);
  return { query: (text, params) => db.query(text, params), close: () => db.close() };
}

/** This chain's identity: its id, the deploy block and that block's hash. */
async function currentOrigin(): Promise<string> {
  const deployment = parseDeployment(JSON.parse(readFileSync(deploymentsFile, "utf8")));
  const client = createPublicClient({ transport: http(rpcUrl) });
  const block = await client.getBlock({ blockNumber: BigInt(deployment.deployBlock) }).catch((error: Error) => {
    throw new Error(
      `RPC_URL ${rpcUrl}: no block ${deployment.deployBlock} (the deployment's) on this chain: ${error.message.split("\n")[0]}`,
    );
  });
  return originOf(deployment.chainId, deployment.deployBlock, block.hash);
}

/** Brings the schema in line with this chain; false when it must not be used (the message was printed). */
async function prepareSchema(origin: string, fresh: boolean): Promise<boolean> {
  const db = await openDatabase();
  try {
    const decision = schemaAction({ local, fresh, schema, current: origin, found: await readOrigin(db, schema) });
    if (decision.action === "refuse") {
      process.stderr.write(`${decision.message}\n`);
      return false;
    }
    if (decision.action === "reset") {
      await dropSchema(db, schema);
      if (local) await dropSyncCache(db);
      say(
        `${decision.reason}: dropped schema "${schema}"${local ? " and the local chain's RPC cache" : ""}; indexing afresh`,
      );
    }
    await writeOrigin(db, schema, origin);
    return true;
  } finally {
    await db.close();
  }
}

/** Ponder's CLI script: in the nearest node_modules that has it (npm hoists it to the repository's root). */
function ponderBin(): string {
  for (let dir = root; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", "ponder", "dist", "esm", "bin", "ponder.js");
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error("ponder is not installed: run npm install");
  }
}

/** Runs `ponder start`, passing its output through; resolves with its exit code and whether it refused the schema. */
function runPonder(): Promise<{ code: number; otherApp: boolean }> {
  const ponder = ponderBin();
  const child = spawn(process.execPath, [ponder, "start", "--schema", schema, "--port", port], {
    cwd: root,
    env: { PONDER_TELEMETRY_DISABLED: "true", ...process.env },
    stdio: ["inherit", "pipe", "pipe"],
  });
  let otherApp = false;
  for (const [from, to] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    from.on("data", (chunk: Buffer) => {
      if (PONDER_OTHER_APP.test(chunk.toString())) otherApp = true;
      to.write(chunk);
    });
  }
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
  return new Promise((done) => child.on("exit", (code) => done({ code: code ?? 1, otherApp })));
}

async function main() {
  const origin = await currentOrigin();
  if (!(await prepareSchema(origin, process.argv.includes("--fresh")))) process.exit(1);
  let run = await runPonder();
  if (run.code !== 0 && run.otherApp) {
    if (!local) {
      process.stderr.write(`${refusal(schema, "the indexer's code or configuration changed since it was written")}\n`);
      process.exit(1);
    }
    say(`Ponder refused schema "${schema}" (the indexer's code changed): dropping it and indexing afresh`);
    await prepareSchema(origin, true);
    run = await runPonder();
  }
  process.exit(run.code);
}

main().catch((error: unknown) => {
  process.stderr.write(`indexer: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
