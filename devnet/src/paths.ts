/** Where the repository and its pinned tools are: the harness runs them by path, from any working directory. */
import { existsSync } from "node:fs";
import { join } from "node:path";

/** The repository's root (devnet/src/../..). */
export const repoRoot = join(import.meta.dirname, "..", "..");

/**
 * A tool from the root node_modules/.bin; for the pinned Foundry tools (from npm), the native binary of this platform's
 * package when it is installed: the .bin entry is a Node wrapper that starts it, about 0.1 CPU second per call (every
 * devnet's anvil and `forge script`), then stays beside it for its whole life.
 */
export const bin = (tool: "anvil" | "forge" | "cast" | "tsx" | "ponder") => {
  if (tool === "anvil" || tool === "forge" || tool === "cast") {
    // The wrapper's own choice (@foundry-rs/<tool>/const.mjs): @foundry-rs/<tool>-<platform>-<amd64|arm64>/bin/<tool>.
    const arch = process.arch === "x64" ? "amd64" : process.arch;
    const name = process.platform === "win32" ? `${tool}.exe` : tool;
    const native = join(repoRoot, "node_modules", "@foundry-rs", `${tool}-${process.platform}-${arch}`, "bin", name);
    if (existsSync(native)) return native;
  }
  return join(repoRoot, "node_modules", ".bin", tool);
};

/** The environment variable naming a folder of pre-compiled bins (devnet/src/bundled-bins.ts; the tests set it). */
export const BUNDLED_BINS_ENV = "PODNET_BUNDLED_BINS";

/**
 * The environment variable naming the run's folder where the package tests keep each package packed, and each set of
 * packages installed, once (devnet/src/installed-package.ts): the test run sets it (test/global-setup.ts).
 */
export const PACK_CACHE_ENV = "PODNET_PACK_CACHE";

/**
 * The environment variable naming a PostgreSQL server on which a devnet indexer started without a `databaseUrl` runs,
 * each on a scratch database of its own, instead of embedded PGlite (devnet/src/indexer.ts). The test run sets it
 * from PODNET_TEST_DATABASE_URL (test/global-setup.ts): Ponder starts on PostgreSQL with half the CPU it needs on
 * PGlite. Unset (a user's demo, a benchmark): PGlite, the default a user gets.
 */
export const DEVNET_POSTGRES_ENV = "PODNET_DEVNET_POSTGRES_URL";

/** Each bin that can be pre-compiled: its file name, and the source its launcher in the repository imports. */
export const BUNDLED_BINS = {
  "podnet-worker.mjs": "worker/src/cli.ts",
  "podnet.mjs": "sdk/src/cli/bin.ts",
  "podnet-autoscaler.mjs": "autoscaler/src/bin.ts",
} as const;

/** The pre-compiled `name` when {@link BUNDLED_BINS_ENV} names a folder of them, else the launcher `launcher`. */
function launcherOrBundled(name: keyof typeof BUNDLED_BINS, ...launcher: string[]): string {
  const dir = process.env[BUNDLED_BINS_ENV];
  return dir ? join(dir, name) : join(repoRoot, ...launcher);
}

/**
 * Node's flags for the daemons a devnet runs (workers, autoscalers, the indexer): V8's memory reducer off. After a
 * start it keeps collecting garbage for a while to hand memory back to the system, CPU that a daemon living a test
 * file long pays for nothing: an idle indexer 27-30 -> 7-8 ms of CPU a second, an idle worker 19.5 -> 15.5 (a probe
 * script reading /proc/<pid>/stat over 20 s, 2026-12-07). The daemons as a provider runs them keep it.
 */
export const DAEMON_NODE_FLAGS = ["--no-memory-reducer"];

/** The provider worker's command line, spawned with `node` so `kill -9` hits the worker itself. */
export const workerBin = launcherOrBundled("podnet-worker.mjs", "worker", "bin", "podnet-worker.mjs");

/** The publisher CLI's command line, run by tests the way a user runs it: `node sdk/bin/podnet.mjs ...`. */
export const podnetBin = launcherOrBundled("podnet.mjs", "sdk", "bin", "podnet.mjs");

/** The autoscaler's command line, spawned with `node` so `kill -9` hits the daemon itself. */
export const autoscalerBin = launcherOrBundled("podnet-autoscaler.mjs", "autoscaler", "bin", "podnet-autoscaler.mjs");
