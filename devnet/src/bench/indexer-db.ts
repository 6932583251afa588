/** The indexer benchmarks' database and logs (npm run bench:indexer, bench:search). */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/** Where a benchmark's indexer writes: `databaseUrl` unset is PGlite in the indexer's temp dir. */
export type BenchDatabase = { databaseUrl?: string; schema: string; label: string; drop?: () => void };

/**
 * PGlite in a fresh temp dir by default; --postgres uses a fresh database on the test server, dropped afterwards.
 * A database, not only a schema: Ponder keeps its raw chain data (`ponder_sync`) beside the schemas and inserts into
 * it with "on conflict do nothing", so an earlier run's rows for the same chain id and block numbers would stay and
 * change both what is read and what an insert costs.
 */
export function benchDatabase(postgres: boolean): BenchDatabase {
  if (!postgres) return { schema: "bench", label: "PGlite (embedded)" };
  const url = process.env.PODNET_TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      "--postgres needs PODNET_TEST_DATABASE_URL (start a server with bash script/toolchain/postgres.sh start)",
    );
  }
  const name = `podnet_bench_${process.pid}`;
  const psql = (sql: string) => execFileSync("psql", [url, "-qc", sql], { stdio: "ignore", timeout: 30_000 });
  psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  psql(`CREATE DATABASE "${name}"`);
  const databaseUrl = new URL(url);
  databaseUrl.pathname = `/${name}`;
  return {
    databaseUrl: databaseUrl.toString(),
    schema: "bench",
    label: `Postgres (${databaseUrl.host}, a fresh database)`,
    drop: () => psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

/** Copies anvil's and ponder's logs out of a Devnet's temp dir (`workDir`, the indexer in its indexer/) to `dir`. */
export function keepIndexerLogs(workDir: string, dir: string) {
  mkdirSync(dir, { recursive: true });
  for (const log of ["chain/anvil.log", "indexer/ponder.log"]) {
    const from = join(workDir, log);
    if (existsSync(from)) copyFileSync(from, join(dir, log.split("/").at(-1) as string));
  }
}
