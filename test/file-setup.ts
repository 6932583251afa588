/**
 * Before each end-to-end file (vitest.config.ts, project `parallel`): its files run one after another in a shared
 * worker process (`isolate: false`), so what one file's devnet left in the harness's process-wide state must not
 * reach the next. A devnet's stop sets `cleanupState.stopping` (the pollers of a process that is shutting down give
 * up); the next file starts with it cleared.
 */
import { cleanupState } from "@podnet/devnet";

cleanupState.stopping = false;
