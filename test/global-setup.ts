/**
 * Once per `vitest run`, before any test file: the worker, CLI and autoscaler bins pre-compiled from the current
 * sources (devnet/src/bundled-bins.ts), so the hundreds of processes the tests start do not each compile their
 * sources as they load. PODNET_TEST_BINS=sources runs the repository's launchers (tsx) instead. And a pack cache for
 * the run: the package tests install the same tarballs, packed once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUNDLED_BINS_ENV, buildBundledBins } from "@podnet/devnet/bundled-bins";
import { PACK_CACHE_ENV } from "@podnet/devnet/paths";

export default async function setup(): Promise<() => void> {
  // Each package compiled and packed once for the whole run (script/packaging/staged-package.ts `packOnce`).
  const packCache = mkdtempSync(join(tmpdir(), "podnet-pack-cache-"));
  process.env[PACK_CACHE_ENV] = packCache;
  const cleanups = [() => rmSync(packCache, { recursive: true, force: true })];
  if (process.env.PODNET_TEST_BINS === "sources") {
    delete process.env[BUNDLED_BINS_ENV];
  } else {
    const dir = mkdtempSync(join(tmpdir(), "podnet-bins-"));
    await buildBundledBins(dir);
    // Test files run in child processes started after this, with this environment.
    process.env[BUNDLED_BINS_ENV] = dir;
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  }
  return () => {
    for (const cleanup of cleanups) cleanup();
  };
}
