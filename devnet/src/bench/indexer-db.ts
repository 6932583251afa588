/** The indexer benchmarks' database and logs (npm run bench:indexer, bench:search). */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/** Where a benchmark's indexer writes: `databaseUrl` unset is PGlite in the indexer's temp dir. */
export type BenchDatabase = { databaseUrl?: string; schema: string; label: string; drop?: () => void };

/** PGlite in a fresh temp dir by default; --postgres uses a fresh schema on the test server, dropped afterwards. */
export function benchDatabase(postgres: boolean): BenchDatabase {
  if (!postgres) return { schema: "bench", label: "PGlite (embedded)" };
  const url = process.env.PODNET_TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      "--postgres needs PODNET_TEST_DATABASE_URL (start a server with bash script/toolchain/postgres.sh start)",
    );
  }
  // A schema of its own: a shared database may hold a previous run's "bench" schema from another build.
  const schema = `bench_${process.pid}`;
  const drop = () =>
    execFileSync("psql", [url, "-qc", `DROP SCHEMA IF EXISTS "${schema}" CASCADE`], {
      stdio: "ignore",
      timeout: 10_000,
    });
  return { databaseUrl: url, schema, label: `Postgres (${new URL(url).host})`, drop };
}

/** Copies anvil's and ponder's logs out of a Devnet's temp dir (`workDir`, the indexer in its indexer/) to `dir`. */
export function keepIndexerLogs(workDir: string, dir: string) {
  mkdirSync(dir, { recursive: true });
  for (const log of ["chain/anvil.log", "indexer/ponder.log"]) {
    const from = join(workDir, log);
    if (existsSync(from)) copyFileSync(from, join(dir, log.split("/").at(-1) as string));
  }
}
