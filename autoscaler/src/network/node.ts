import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { createPodnetClient, deriveSelfEncryptionKey, getAutoscalerNode, type PodnetClient } from "@podnet/sdk";
import { servingNode } from "@podnet/sdk/protocol";
import type { Address, PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { type AppRunner, appReconciler, startAppRunner } from "../app-runner.js";
import { type ChainConnection, connectChain } from "../chain-connection.js";
import type { NodeConfig } from "../config.js";
import { loadDnsConfig } from "../dns/config.js";
import { type DirectoryNode, networkDirectory } from "../dns/network-directory.js";
import { type DnsServer, startDnsServer } from "../dns/server.js";
import { createLogger, type Logger } from "../log.js";
import { createMetrics, type Metrics } from "../metrics.js";
import { appBundle, bundleComplete } from "./bundle.js";
import { type NetworkSnapshot, NetworkView } from "./chain-view.js";
import { handoverRoutes } from "./handover/routes.js";
import { type HeartbeatLoop, startHeartbeatLoop } from "./heartbeat-loop.js";
import { type NodeAppView, type NodeOverview, nodeApi } from "./node-api.js";
import { createNodeMetrics, nodeMetricsText } from "./node-metrics.js";

export interface RunningNode {
  /** The node's address (its key's account). */
  node: Address;
  /** The HTTP API's base URL. */
  apiUrl: string;
  /** The app zone's nameserver, when `dnsConfig` is set. */
  dns?: DnsServer;
  overview(): NodeOverview;
  /** Stops heartbeats and the manager, stops every app runner (cancelling their open orders), closes the API. */
  stop(): Promise<void>;
}

type Running = { runner: AppRunner; metrics: Metrics };

/**
 * Starts a network node: refuses to start unless the key is an active node of the deployment's AutoscalerNetwork,
 * sends a heartbeat and keeps sending them, and every tick (min(2 s, heartbeatPeriod / 2)) reads the live nodes and the
 * network-mode apps, computes each app's serving node (rendezvous hashing, `servingNode`) and runs one app runner (the
 * standalone autoscaler's reconcile and probe loops) per app assigned to this node whose bundle is complete. An app
 * that leaves this node (another node now serves it, or it left network mode) has its runner stopped.
 */
export async function startNode(config: NodeConfig): Promise<RunningNode> {
  const log = createLogger(config.logLevel);
  const connection = await connectChain({
    rpcUrl: config.rpcUrl,
    deploymentsFile: config.deploymentsFile,
    key: config.nodeKey,
  });
  const self = connection.walletClient.account?.address as Address;
  const client: PodnetClient = createPodnetClient({
    publicClient: connection.publicClient,
    walletClient: connection.walletClient,
    deployment: connection.deployment,
    indexerUrl: config.indexerUrl,
    blobCacheDir: join(config.dataDir, "node-blobs"),
  });
  const network = connection.deployment.contracts.autoscalerNetwork.address;
  const record = await getAutoscalerNode(client, { node: self });
  if (record.status !== "active") {
    throw new Error(
      `node ${self} is ${record.status === "none" ? "not registered" : "exiting"} in the AutoscalerNetwork ${network}: ` +
        "run `podnet-autoscaler node register --endpoint <url> --stake <base units>` first",
    );
  }

  const metrics = createNodeMetrics();
  const view = new NetworkView(client, network, log);
  const runners = new Map<Address, Running>();
  /** Runners being stopped: an app is not started again here until its previous runner has let go. */
  const stopping = new Map<Address, Promise<void>>();
  let overview: NodeOverview = { node: self, chainId: connection.chainId, live: [], apps: [], lastTick: null };
  let stopped = false;
  let tickTimer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  let tickMs = 2000;

  // The network's app zone, when configured: every node computes the same directory from the same chain state.
  const dns: DnsServer | undefined =
    config.dnsConfig === undefined ? undefined : await startDnsServer({ config: loadDnsConfig(config.dnsConfig), log });
  let directorySignature = "";
  const refreshDnsDirectory = async ({ live, profiles, apps }: NetworkSnapshot) => {
    if (!dns) return;
    const nodes: DirectoryNode[] = live.flatMap((address) => {
      const profile = profiles.get(address);
      return profile
        ? [{ address, endpoint: profile.endpoint, dnsIpv4: profile.dnsIpv4, dnsIpv6: profile.dnsIpv6 }]
        : [];
    });
    const directory = networkDirectory({
      zone: dns.config.zone,
      live: nodes,
      apps,
      servedBy: (vault) => servingNode(vault, live),
    });
    const signature = JSON.stringify(directory);
    if (!directory || signature === directorySignature) return;
    await dns.setDirectory(directory);
    directorySignature = signature;
    log.info("app zone directory updated", { nameservers: directory.nameservers.length, apps: directory.apps.length });
  };

  const heartbeats: HeartbeatLoop = startHeartbeatLoop({
    client,
    log,
    onBeat: (ok) => metrics.heartbeats.inc({ result: ok ? "ok" : "failed" }),
  });

  const stopRunner = (vault: Address, why: string) => {
    const running = runners.get(vault);
    if (!running) return;
    runners.delete(vault);
    log.info("app runner stopping", { vault, why });
    metrics.takeovers.inc({ event: "stopped" });
    stopping.set(
      vault,
      running.runner
        .stop()
        .catch((error) => log.error("app runner did not stop cleanly", { vault, error: `${error}` }))
        .finally(() => stopping.delete(vault)),
    );
  };

  const startRunner = (vault: Address) => {
    const bundle = appBundle(config.dataDir, vault);
    const appMetrics = createMetrics();
    appMetrics.registry.setDefaultLabels({ vault });
    const appLog = withFields(log, { vault });
    const reconciler = appReconciler({
      connection: connection as ChainConnection,
      settings: config,
      vault,
      appYaml: bundle.appYaml,
      podYaml: bundle.podYaml,
      dataDir: bundle.dir,
      metrics: appMetrics,
      log: appLog,
    });
    runners.set(vault, {
      runner: startAppRunner({ reconciler, reconcileIntervalSec: config.reconcileIntervalSec, log: appLog }),
      metrics: appMetrics,
    });
    metrics.takeovers.inc({ event: "started" });
    log.info("app runner started", { vault });
  };

  const tick = async () => {
    const snapshot = await view.snapshot();
    tickMs = Math.max(250, Math.min(2000, (snapshot.heartbeatPeriod * 1000) / 2));
    const apps: NodeAppView[] = [];
    const inNetworkMode = new Set(snapshot.apps);
    for (const vault of snapshot.apps) {
      const servedBy = servingNode(vault, snapshot.live) ?? null;
      const problems: string[] = [];
      if (servedBy === self) {
        const bundle = appBundle(config.dataDir, vault);
        if (!bundleComplete(bundle)) {
          problems.push(`no bundle: ${bundle.marker} is missing (the app's handover to this node has not finished)`);
        } else if (!runners.has(vault) && !stopping.has(vault)) {
          startRunner(vault);
        }
      } else stopRunner(vault, servedBy ? `served by ${servedBy}` : "no live node");
      const running = runners.get(vault);
      if (running) problems.push(...running.runner.status().problems);
      apps.push({ vault, servedBy, runningHere: running !== undefined, problems });
    }
    for (const vault of [...runners.keys()]) if (!inNetworkMode.has(vault)) stopRunner(vault, "left network mode");
    await refreshDnsDirectory(snapshot).catch((error) =>
      log.warn("app zone directory not updated", { error: (error as Error).message }),
    );
    metrics.liveNodes.set(snapshot.live.length);
    metrics.apps.set({ state: "network" }, snapshot.apps.length);
    metrics.apps.set({ state: "assigned" }, apps.filter((a) => a.servedBy === self).length);
    metrics.apps.set({ state: "running" }, runners.size);
    metrics.apps.set(
      { state: "missing_bundle" },
      apps.filter((a) => a.servedBy === self && !a.runningHere && a.problems.length > 0).length,
    );
    overview = {
      node: self,
      chainId: connection.chainId,
      live: snapshot.live,
      apps,
      lastTick: new Date().toISOString(),
    };
  };

  const loop = () => {
    if (stopped) return;
    ticking = tick()
      .catch((error) => log.error("tick failed", { error: (error as Error).message }))
      .finally(() => {
        ticking = undefined;
        if (!stopped) tickTimer = setTimeout(loop, tickMs);
      });
  };

  const api = nodeApi({
    overview: () => overview,
    appStatus: (vault) => runners.get(vault)?.runner.status(),
    metrics: () =>
      nodeMetricsText(
        metrics,
        [...runners.values()].map((r) => r.metrics),
      ),
  });
  // Owners hand their apps to this node here: the bundle's content keys are wrapped to the X25519 key registered as
  // the node's encryptionKey, derived from a signature of the node key (as `node register` derives it).
  const account = privateKeyToAccount(config.nodeKey);
  const encryptionKey = await deriveSelfEncryptionKey((message) => account.signMessage({ message }));
  api.route(
    "/",
    handoverRoutes({
      node: self,
      encryptionKey,
      publicClient: connection.publicClient as PublicClient,
      dataDir: config.dataDir,
      deployment: connection.deployment,
    }),
  );
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: api.fetch, hostname: config.apiHost, port: config.apiPort }, () =>
      resolve(s as Server),
    ) as Server;
  });
  const apiUrl = `http://${config.apiHost}:${(server.address() as AddressInfo).port}`;
  log.info("network node started", { node: self, network, api: apiUrl, dns: dns?.address });
  loop();

  return {
    node: self,
    apiUrl,
    ...(dns ? { dns } : {}),
    overview: () => overview,
    async stop() {
      stopped = true;
      clearTimeout(tickTimer);
      heartbeats.stop();
      await ticking;
      for (const vault of [...runners.keys()]) stopRunner(vault, "node stopping");
      await Promise.all(stopping.values());
      await dns?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A logger adding `fields` to every record (each app runner's lines name its vault). */
function withFields(log: Logger, fields: Record<string, unknown>): Logger {
  return {
    debug: (message, more) => log.debug(message, { ...fields, ...more }),
    info: (message, more) => log.info(message, { ...fields, ...more }),
    warn: (message, more) => log.warn(message, { ...fields, ...more }),
    error: (message, more) => log.error(message, { ...fields, ...more }),
  };
}
