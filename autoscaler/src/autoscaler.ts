import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { createPodnetClient, type PodnetClientWithActions } from "@podnet/sdk";
import { parseDeployment } from "@podnet/sdk/protocol";
import { createPublicClient, createWalletClient, defineChain, http, type PublicClient, type WalletClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { seedBlobCache } from "./blob-seed.js";
import type { AutoscalerConfig } from "./config.js";
import { createLogger } from "./log.js";
import { createMetrics } from "./metrics.js";
import { type ProbeLoop, startProbeLoop } from "./probe-loop.js";
import { Reconciler } from "./reconciler.js";
import { StateStore } from "./state.js";
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
 * wrapped to the controller's own key), the reconcile loop, the prober on app.yaml's health interval, and the status
 * endpoint.
 */
export async function startAutoscaler(config: AutoscalerConfig): Promise<RunningAutoscaler> {
  const log = createLogger(config.logLevel);
  const deployment = parseDeployment(JSON.parse(readFileSync(config.deploymentsFile, "utf8")));
  const chain = defineChain({
    id: deployment.chainId,
    name: `chain-${deployment.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
  const publicClient = createPublicClient({ chain, transport: http(config.rpcUrl), pollingInterval: 250 });
  if (config.blobSeedDir !== undefined) {
    const seeded = await seedBlobCache({ from: config.blobSeedDir, to: join(config.dataDir, "blobs") });
    log.info("blob cache seeded", { from: config.blobSeedDir, ...seeded });
    for (const [cid, reason] of Object.entries(seeded.missing)) {
      log.error("blob has no ciphertext: deploying it will fail", { cid, reason });
    }
  }
  const chainId = await publicClient.getChainId();
  if (chainId !== deployment.chainId) {
    throw new Error(`deploymentsFile is for chain ${deployment.chainId}, but ${config.rpcUrl} serves chain ${chainId}`);
  }
  const walletClient = createWalletClient({
    account: privateKeyToAccount(config.controllerKey),
    chain,
    transport: http(config.rpcUrl),
  }) as WalletClient;
  const client: PodnetClientWithActions = createPodnetClient({
    publicClient: publicClient as PublicClient,
    walletClient,
    deployment,
    indexerUrl: config.indexerUrl,
    blobCacheDir: join(config.dataDir, "blobs"),
  });
  const store = new StateStore(config.dataDir, config.vault);
  const metrics = createMetrics();
  const reconciler = new Reconciler({
    chainId,
    client,
    publicClient: publicClient as PublicClient,
    walletClient,
    vault: config.vault,
    appYaml: config.appYaml,
    podYaml: config.podYaml,
    store,
    metrics,
    log,
    startupGraceSec: config.startupGraceSec,
    avoidFailedProviderSec: config.avoidFailedProviderSec,
    localhostAddress: config.localhostAddress,
  });

  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let passTimer: NodeJS.Timeout | undefined;

  // One pass at a time: a trigger during a pass runs one more pass right after it, never two at once.
  const runPass = (): Promise<void> => {
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
        } else passTimer = setTimeout(runPass, config.reconcileIntervalSec * 1000);
      });
    return running;
  };

  const api = statusApi(() => reconciler.currentStatus(), metrics);
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: api.fetch, hostname: config.statusHost, port: config.statusPort }, () =>
      resolve(s as Server),
    ) as Server;
  });
  const port = (server.address() as AddressInfo).port;
  log.info("autoscaler started", {
    vault: config.vault,
    controller: walletClient.account?.address,
    status: `http://${config.statusHost}:${port}`,
  });
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
    statusUrl: `http://${config.statusHost}:${port}`,
    status: () => reconciler.currentStatus(),
    trigger: () => void runPass(),
    async stop() {
      stopped = true;
      clearTimeout(passTimer);
      probes.stop();
      await running;
      // An order nobody follows would hold its deposit until someone cancels it: a stopping autoscaler gives it back
      // (a killed one finds it in state.json at its next start and follows it).
      await reconciler.cancelOrders().catch((error) => log.error("orders not cancelled", { error: `${error}` }));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
