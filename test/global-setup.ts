/**
 * Once per `vitest run`, before any test file: the worker, CLI and autoscaler bins pre-compiled from the current
 * sources (devnet/src/bundled-bins.ts), so the hundreds of processes the tests start do not each compile their
 * sources as they load. PODNET_TEST_BINS=sources runs the repository's launchers (tsx) instead. And a pack cache for
 * the run: the package tests install the same tarballs, packed once, and share each install.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUNDLED_BINS_ENV, buildBundledBins } from "@podnet/devnet/bundled-bins";
import { DEVNET_POSTGRES_ENV, PACK_CACHE_ENV } from "@podnet/devnet/paths";
import { dropOrphanDevnetDatabases } from "@podnet/devnet/postgres";

export default async function setup(): Promise<() => Promise<void>> {
  // One folder for the run's shared build products, removed when it ends.
  const dir = mkdtempSync(join(tmpdir(), "podnet-test-run-"));
  // Each package compiled and packed, and each set installed, once for the whole run (devnet/src/installed-package.ts).
  process.env[PACK_CACHE_ENV] = join(dir, "packs");
  if (process.env.PODNET_TEST_BINS === "sources") {
    delete process.env[BUNDLED_BINS_ENV];
  } else {
    const bins = join(dir, "bins");
    await buildBundledBins(bins);
    // Test files run in child processes started after this, with this environment.
    process.env[BUNDLED_BINS_ENV] = bins;
  }
  // The devnets' indexers on the run's PostgreSQL (a scratch database each), not on PGlite: Ponder starts with half
  // the CPU (docs/testing.md). PODNET_SKIP_POSTGRES=1, or no server: PGlite.
  const postgres = process.env.PODNET_TEST_DATABASE_URL;
  if (postgres) process.env[DEVNET_POSTGRES_ENV] = postgres;
  return async () => {
    rmSync(dir, { recursive: true, force: true });
    // Those of indexers a crash left behind (their process is gone); a file's indexer drops its own when it stops.
    if (postgres) await dropOrphanDevnetDatabases(postgres);
  };
}
