/**
 * Cleanup that always completes: the demo, the benchmarks and a devnet's stop run their steps here, and a Ctrl-C
 * runs them once before the process exits.
 */

/** Set once a cleanup starts: polling loops still running give up instead of keeping the process alive. */
export const cleanupState = { stopping: false };

/** One step of a cleanup: what it does (for the error line) and the step. */
export type CleanupStep = [what: string, step: () => Promise<unknown> | unknown];

/**
 * Stops the pollers, then runs every step in order; a step that fails is reported and the others still run, so one
 * stuck part never leaves the rest (containers, chain, temp dir) behind.
 */
export async function runCleanup(steps: CleanupStep[]): Promise<void> {
  cleanupState.stopping = true;
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (error) {
      console.error(`cleanup: could not ${what}: ${(error as Error).message}`);
    }
  }
}

/**
 * On the first SIGINT or SIGTERM, runs `cleanup` and exits with `exitCode` (default 130; the demo, whose normal end
 * is a Ctrl-C, exits 0). Later signals are ignored rather than left to Node's default (exit at once): a Ctrl-C can
 * reach this process twice under tsx (from the terminal and relayed by tsx's parent), and a second one must not cut
 * the cleanup short and orphan anvil or the indexer.
 */
export function cleanupOnSignal(cleanup: () => Promise<void>, { exitCode = 130 }: { exitCode?: number } = {}): void {
  let interrupted = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      console.error(`\n${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(exitCode));
    });
  }
}
