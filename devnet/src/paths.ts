/** Where the repository and its pinned tools are: the harness runs them by path, from any working directory. */
import { join } from "node:path";

/** The repository's root (devnet/src/../..). */
export const repoRoot = join(import.meta.dirname, "..", "..");

/** A tool from the root node_modules/.bin (the pinned Foundry binaries come from npm). */
export const bin = (tool: "anvil" | "forge" | "cast" | "tsx" | "ponder") =>
  join(repoRoot, "node_modules", ".bin", tool);

/** The provider worker's command line, spawned with `node` so `kill -9` hits the worker itself. */
export const workerBin = join(repoRoot, "worker", "bin", "podnet-worker.mjs");

/** The publisher CLI's command line, run by tests the way a user runs it: `node sdk/bin/podnet.mjs ...`. */
export const podnetBin = join(repoRoot, "sdk", "bin", "podnet.mjs");
