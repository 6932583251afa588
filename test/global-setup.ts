/**
 * Once per `vitest run`, before any test file: the worker, CLI and autoscaler bins pre-compiled from the current
 * sources (devnet/src/bundled-bins.ts), so the hundreds of processes the tests start do not each compile their
 * sources as they load. PODNET_TEST_BINS=sources runs the repository's launchers (tsx) instead.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUNDLED_BINS_ENV, buildBundledBins } from "@podnet/devnet/bundled-bins";

export default async function setup(): Promise<(() => void) | undefined> {
  if (process.env.PODNET_TEST_BINS === "sources") {
    delete process.env[BUNDLED_BINS_ENV];
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), "podnet-bins-"));
  await buildBundledBins(dir);
  // Test files run in child processes started after this, with this environment.
  process.env[BUNDLED_BINS_ENV] = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
