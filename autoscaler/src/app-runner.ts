import { join } from "node:path";
import { createPodnetClient } from "@podnet/sdk";
import type { Address } from "viem";
import type { ChainConnection } from "./chain-connection.js";
import type { Logger } from "./log.js";
import type { Metrics } from "./metrics.js";
import { type ProbeLoop, startProbeLoop } from "./probe-loop.js";
import { Reconciler } from "./reconciler.js";
import { StateStore } from "./state.js";
import type { AppStatus } from "./status-wire.js";

/** How a runner treats instances (the autoscaler's and the network node's settings of the same names). */
export interface AppRunnerSettings {
  indexerUrl: string;
  reconcileIntervalSec: number;
  startupGraceSec: number;
  avoidFailedProviderSec: number;
  localhostAddress: string;
}

/**
 * The reconciler of one app, acting with the connection's wallet (a controller's key, or a network node's): its
 * state in `<dataDir>/state.json`, its blob cache (the content keys wrapped to the wallet's own X25519 key) in
 * `<dataDir>/blobs`.
 */
export function appReconciler(o: {
  connection: ChainConnection;
  settings: AppRunnerSettings;
  vault: Address;
  appYaml: string;
  podYaml: string;
  dataDir: string;
  metrics: Metrics;
  log: Logger;
}): Reconciler {
  const { deployment, chainId, publicClient, walletClient } = o.connection;
  const client = createPodnetClient({
    publicClient,
    walletClient,
    deployment,
    indexerUrl: o.settings.indexerUrl,
    blobCacheDir: join(o.dataDir, "blobs"),
  });
  return new Reconciler({
    chainId,
    client,
    publicClient,
    walletClient,
    vault: o.vault,
    appYaml: o.appYaml,
    podYaml: o.podYaml,
    store: new StateStore(o.dataDir, o.vault),
    metrics: o.metrics,
    log: o.log,
    startupGraceSec: o.settings.startupGraceSec,
    avoidFailedProviderSec: o.settings.avoidFailedProviderSec,
    localhostAddress: o.settings.localhostAddress,
  });
}

/**
 * One app kept alive: its reconcile passes (one at a time, every `reconcileIntervalSec`, and at once when asked) and
 * its probe rounds on app.yaml's health interval. The standalone autoscaler runs one; a network node runs one per app
 * assigned to it. Stopping it waits for the pass in flight and cancels the app's open orders.
 */
export interface AppRunner {
  status(): AppStatus;
  /** Asks for a reconcile pass now (after the one running, if any). */
  trigger(): void;
  /** Stops the loops, waits for the pass in flight, and gives back the deposits of the orders it opened. */
  stop(): Promise<void>;
}

export function startAppRunner(o: { reconciler: Reconciler; reconcileIntervalSec: number; log: Logger }): AppRunner {
  const { reconciler, log } = o;
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let passTimer: NodeJS.Timeout | undefined;

  // One pass at a time: a trigger during a pass runs one more pass right after it, never two at once.
  const runPass = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    clearTimeout(passTimer);
    running = reconciler
      .pass()
      .catch((error) => log.error("reconcile pass failed", { error: (error as Error).message }))
      .finally(() => {
        running = undefined;
        if (stopped) return;
        if (again) {
          again = false;
          void runPass();
        } else passTimer = setTimeout(runPass, o.reconcileIntervalSec * 1000);
      });
    return running;
  };

  void runPass();
  const probes: ProbeLoop = startProbeLoop({
    intervalMs: () => (reconciler.config?.health.interval ?? 1) * 1000,
    // An instance that just crossed failuresBeforeReplace starts a pass at once, not at the next pass tick.
    round: async () => {
      if (await reconciler.probeAll()) runPass();
    },
    onError: (error) => log.error("probe round failed", { error: error.message }),
  });

  return {
    status: () => reconciler.currentStatus(),
    trigger: () => void runPass(),
    async stop() {
      stopped = true;
      clearTimeout(passTimer);
      probes.stop();
      await running;
      // An order nobody follows would hold its deposit until someone cancels it: a stopping runner gives it back
      // (a killed one finds it in state.json at its next start and follows it).
      await reconciler.cancelOrders().catch((error) => log.error("orders not cancelled", { error: `${error}` }));
    },
  };
}
