import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { appReconciler, startAppRunner } from "./app-runner.js";
import { seedBlobCache } from "./blob-seed.js";
import { connectChain } from "./chain-connection.js";
import type { AutoscalerConfig } from "./config.js";
import { createLogger } from "./log.js";
import { createMetrics } from "./metrics.js";
import { statusApi } from "./status-api.js";
import type { AppStatus } from "./status-wire.js";

export interface RunningAutoscaler {
  /** The status endpoint's base URL. */
  statusUrl: string;
  status(): AppStatus;
  /** Asks for a reconcile pass now (after the one running, if any). */
  trigger(): void;
  stop(): Promise<void>;
}

/**
 * Starts the autoscaler: the SDK client as the app's controller (blob cache in `<dataDir>/blobs`, content keys
 * wrapped to the controller's own key), the app's runner (reconcile loop and prober on app.yaml's health interval),
 * and the status endpoint.
 */
export async function startAutoscaler(config: AutoscalerConfig): Promise<RunningAutoscaler> {
  const log = createLogger(config.logLevel);
  if (config.blobSeedDir !== undefined) {
    const seeded = await seedBlobCache({ from: config.blobSeedDir, to: join(config.dataDir, "blobs") });
    log.info("blob cache seeded", { from: config.blobSeedDir, ...seeded });
    for (const [cid, reason] of Object.entries(seeded.missing)) {
      log.error("blob has no ciphertext: deploying it will fail", { cid, reason });
    }
  }
  const connection = await connectChain({
    rpcUrl: config.rpcUrl,
    deploymentsFile: config.deploymentsFile,
    key: config.controllerKey,
  });
  const metrics = createMetrics();
  const reconciler = appReconciler({
    connection,
    settings: config,
    vault: config.vault,
    appYaml: config.appYaml,
    podYaml: config.podYaml,
    dataDir: config.dataDir,
    metrics,
    log,
  });

  const api = statusApi(() => reconciler.currentStatus(), metrics);
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: api.fetch, hostname: config.statusHost, port: config.statusPort }, () =>
      resolve(s as Server),
    ) as Server;
  });
  const port = (server.address() as AddressInfo).port;
  log.info("autoscaler started", {
    vault: config.vault,
    controller: connection.walletClient.account?.address,
    status: `http://${config.statusHost}:${port}`,
  });
  const runner = startAppRunner({ reconciler, reconcileIntervalSec: config.reconcileIntervalSec, log });

  return {
    statusUrl: `http://${config.statusHost}:${port}`,
    status: () => runner.status(),
    trigger: () => runner.trigger(),
    async stop() {
      await runner.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
