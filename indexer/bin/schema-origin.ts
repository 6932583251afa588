/**
 * Which chain and deployment a Ponder schema was indexed from. A schema written from one local chain and read again
 * after `npm run deploy:local` on a new one is wrong twice over: Ponder refuses it when its build changed ("Schema
 * podnet was previously used by a different Ponder app"), and resumes it silently when the build is the same (same
 * addresses, same blocks on a fresh anvil), serving the old chain's rows. So `npm run indexer` records the origin
 * (chain id, deploy block and its hash) in the schema, and compares before Ponder starts.
 */

/** The part of a SQL client this needs: PGlite and node-postgres both have it. */
export interface Sql {
  query<T>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

/** `<chainId>:<deployBlock>:<hash of that block>`: different for every new chain, even with the same addresses. */
export function originOf(chainId: number, deployBlock: number, blockHash: string): string {
  return `${chainId}:${deployBlock}:${blockHash.toLowerCase()}`;
}

const quoted = (schema: string) => `"${schema.replaceAll('"', '""')}"`;
const ORIGIN_TABLE = "_podnet_origin";

/** The schema's state: absent, written by Ponder without an origin (an older indexer), or from `origin`. */
export async function readOrigin(sql: Sql, schema: string): Promise<{ exists: boolean; origin?: string }> {
  const tables = await sql.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
    [schema],
  );
  const names = new Set(tables.rows.map((r) => r.table_name));
  if (names.size === 0) return { exists: false };
  if (!names.has(ORIGIN_TABLE)) return { exists: true };
  const rows = await sql.query<{ origin: string }>(`SELECT origin FROM ${quoted(schema)}.${ORIGIN_TABLE}`);
  return { exists: true, ...(rows.rows[0] ? { origin: rows.rows[0].origin } : {}) };
}

/** Records `origin` in the schema (creating the schema when needed; Ponder adds its tables beside it). */
export async function writeOrigin(sql: Sql, schema: string, origin: string): Promise<void> {
  await sql.query(`CREATE SCHEMA IF NOT EXISTS ${quoted(schema)}`);
  await sql.query(`CREATE TABLE IF NOT EXISTS ${quoted(schema)}.${ORIGIN_TABLE} (origin text NOT NULL)`);
  await sql.query(`DELETE FROM ${quoted(schema)}.${ORIGIN_TABLE}`);
  await sql.query(`INSERT INTO ${quoted(schema)}.${ORIGIN_TABLE} (origin) VALUES ($1)`, [origin]);
}

export async function dropSchema(sql: Sql, schema: string): Promise<void> {
  await sql.query(`DROP SCHEMA IF EXISTS ${quoted(schema)} CASCADE`);
}

/**
 * Drops Ponder's RPC cache (`ponder_sync`, shared by every schema of the database, keyed by chain id and block number):
 * after a new anvil it holds the old chain's blocks and logs under the same numbers, and Ponder would index those.
 * Only for a local chain, whose cache is worth nothing; Ponder rebuilds it.
 */
export async function dropSyncCache(sql: Sql): Promise<void> {
  await sql.query("DROP SCHEMA IF EXISTS ponder_sync CASCADE");
}

/** What to do with the schema before Ponder starts. */
export type SchemaAction =
  | { action: "start" }
  | { action: "reset"; reason: string }
  | { action: "refuse"; message: string };

/**
 * Local chain (31337): anything indexed from another chain or deployment is thrown away (re-indexing a local chain
 * takes seconds). Any other chain: never dropped without being asked (`--fresh`); the message says what to run.
 */
export function schemaAction(opts: {
  local: boolean;
  fresh: boolean;
  schema: string;
  current: string;
  found: { exists: boolean; origin?: string };
}): SchemaAction {
  const { local, fresh, schema, current, found } = opts;
  if (fresh && found.exists) return { action: "reset", reason: "--fresh" };
  if (!found.exists || found.origin === current) return { action: "start" };
  const was = found.origin ? `chain/deployment ${found.origin}` : "an unknown chain (no origin recorded)";
  if (local) return { action: "reset", reason: `schema "${schema}" was indexed from ${was}, this is ${current}` };
  if (!found.origin) return { action: "start" };
  return { action: "refuse", message: refusal(schema, `it holds the index of ${was}, not of ${current}`) };
}

/** What to run when a schema cannot be used: drop it, or index into another one. */
export function refusal(schema: string, why: string): string {
  return [
    `indexer: schema "${schema}" cannot be used: ${why}.`,
    "Either re-index from the start into it (drops its tables):",
    "  npm run indexer -- --fresh",
    "or keep it and index into a new schema (then point readers at that one):",
    `  DATABASE_SCHEMA=${schema}_2 npm run indexer`,
  ].join("\n");
}

/** Ponder's words when the schema's build (code or config) differs from the one starting. */
export const PONDER_OTHER_APP = /was previously used by a different Ponder app/;
