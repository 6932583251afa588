/**
 * A throwaway Postgres database per test run. Ponder keeps its raw RPC data (blocks, logs) in the `ponder_sync`
 * schema shared by every schema of a database, keyed by chain id and block number, and inserts with ON CONFLICT DO
 * NOTHING even with `disableCache`: a second run against a fresh anvil (which reuses block numbers) would index the
 * first run's blocks. A unique DATABASE_SCHEMA is not enough; a unique database is.
 */

import { procStat } from "./proc-stat.js";

/** The names of the scratch databases devnet indexers make (devnet/src/indexer.ts) start with this. */
export const DEVNET_DATABASE_PREFIX = "podnet_devnet_";

type PgClient = {
  connect(): Promise<void>;
  query(sql: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
};
type PgModule = { default: { Client: new (config: { connectionString: string }) => PgClient } };

async function withClient<T>(connectionString: string, use: (client: PgClient) => Promise<T>): Promise<T> {
  // `pg` is Ponder's own Postgres driver (installed with the indexer); imported by name at run time so the type
  // check does not need its type declarations.
  const moduleName = "pg";
  const { default: pg } = (await import(moduleName)) as PgModule;
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Creates database `name` next to the one `baseUrl` points at; returns its URL and a drop function. */
export async function createScratchDatabase(baseUrl: string, name: string) {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`database name ${name}: use a-z, 0-9 and _`);
  try {
    await withClient(baseUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  } catch (error) {
    throw new Error(
      `cannot create a scratch database on PODNET_TEST_DATABASE_URL (the role needs CREATEDB): ${
        error instanceof Error ? error.message : error
      }`,
    );
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withClient(baseUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
  };
}

/**
 * Drops the scratch databases of devnet indexers (named `<DEVNET_DATABASE_PREFIX><pid>_...` by devnet/src/indexer.ts)
 * whose process is gone: a crash's leftovers, never a database another run's live process still uses. Returns the
 * names dropped.
 */
export async function dropOrphanDevnetDatabases(baseUrl: string): Promise<string[]> {
  return withClient(baseUrl, async (client) => {
    const { rows } = await client.query("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", [
      DEVNET_DATABASE_PREFIX,
    ]);
    const orphans = rows
      .map((row) => String(row.datname))
      .filter((name) => procStat(Number(name.slice(DEVNET_DATABASE_PREFIX.length).split("_")[0]), [3]) === undefined);
    for (const name of orphans) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    return orphans;
  });
}
