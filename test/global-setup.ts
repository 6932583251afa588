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
  // One folder for the run's shared build products, removed when it ends.
  const dir = mkdtempSync(join(tmpdir(), "podnet-test-run-"));
  // Each package compiled and packed once for the whole run (script/packaging/staged-package.ts `packOnce`).
  process.env[PACK_CACHE_ENV] = join(dir, "packs");
  if (process.env.PODNET_TEST_BINS === "sources") {
    delete process.env[BUNDLED_BINS_ENV];
  } else {
    const bins = join(dir, "bins");
    await buildBundledBins(bins);
    // Test files run in child processes started after this, with this environment.
    process.env[BUNDLED_BINS_ENV] = bins;
  }
  return () => rmSync(dir, { recursive: true, force: true });
}
