import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { deriveEncryptionKeyPair } from "@podnet/sdk/protocol";
import Dockerode from "dockerode";
import { AddonSupervisor, configuredAddons } from "./admin/addon-supervisor.js";
import { AdminAlerts } from "./admin/alert-store.js";
import { ALERT_WATCH_MS, watchAlerts } from "./admin/alerts.js";
import { createAdminApi } from "./admin/app.js";
import { loopbackOrigins } from "./admin/deps.js";
import { AdminEventBus } from "./admin/event-bus.js";
import { writeAdminOrigin } from "./admin/origin-file.js";
import { AdminTokens } from "./admin/tokens.js";
import { UsageSampler } from "./admin/usage-sampler.js";
import { createApi } from "./api/app.js";
import { signatureRecoveryKind } from "./api/signature-recovery.js";
import { type ChainContext, connectChain } from "./chain/connect.js";
import { ChainFollower } from "./chain/follower.js";
import { subscribeUrlOf, watchNewHeads } from "./chain/new-heads.js";
import { TxQueue } from "./chain/tx-queue.js";
import type { WorkerConfig } from "./config.js";
import type { WorkerContext } from "./context.js";
import { createIngress } from "./ingress/http-ingress.js";
import { createLogger, type Logger } from "./log.js";
import { applyChainEvents } from "./market/events.js";
import { MoneyLoop } from "./market/money.js";
import { OpenOrders } from "./market/open-orders.js";
import { readMarketParams, readProfile } from "./market/provider-profile.js";
import { createMetrics } from "./metrics.js";
import { httpServerOptions, limitServer } from "./net/http-limits.js";
import { listenerLimits } from "./net/listeners.js";
import { HostProofs } from "./pods/host-proofs.js";
import { Reconciler } from "./pods/reconciler.js";
import { RouteTable } from "./pods/routes.js";
import { ScaleToZero } from "./pods/scale-to-zero.js";
import { assertSecretsDir } from "./pods/secrets.js";
import { DockerRuntime } from "./runtime/docker-runtime.js";
import { PodFirewall } from "./runtime/firewall.js";
import { type WorkerInstance, workerInstance } from "./runtime/names.js";
import {
  kernelMaxKeys,
  keyringWarning,
  rootfsQuotaDriver,
  type SandboxStatus,
  sandboxStatus,
} from "./runtime/sandbox.js";
import { volumeQuotasAvailable } from "./runtime/volume-quota.js";
import { BlobStore } from "./store/blob-store.js";
import { ManifestStore } from "./store/manifest-store.js";
import { WorkerState } from "./store/worker-state.js";

/** How long a stop waits for the warm pod network being made (worker.stop). */
const WARM_SETTLE_MS = 10_000;

export interface RunningWorker {
  ctx: WorkerContext;
  reconciler: Reconciler;
  money: MoneyLoop;
  apiUrl: string;
  ingressUrl: string;
  /** The admin API's loopback URL, when `adminEnabled`. */
  adminUrl?: string;
  /** The addons it runs (admin/addon-supervisor.ts). */
  addons: AddonSupervisor;
  stop(): Promise<void>;
}

/**
 * Starts a provider worker: follows the chain from its cursor, adopts and reconciles its pods, serves the provider
 * API and the pod ingress, and runs the money loop. Startup order matters: the state catches up with the chain
 * before the first reconcile pass, so a restarted worker never removes a pod of a lease it has not re-read yet.
 */
export async function startWorker(
  config: WorkerConfig,
  log: Logger = createLogger(config.logLevel),
): Promise<RunningWorker> {
  // First: the open-file limit is raised before the chain, Docker and the listeners take descriptors from it.
  const limits = listenerLimits(config, log);
  // Before the sandbox: a refused secrets directory must not leave the firewall chains installed behind it.
  assertSecretsDir(config.secretsDir);
  const chain = await connectChain(config);
  const docker = new Dockerode({ socketPath: config.dockerSocket });
  const instance = await instanceOf(chain);
  const { runtime, sandbox } = await sandboxedRuntime(config, docker, instance, log);
  const encryption = deriveEncryptionKeyPair(config.providerKey);
  const profile = await readProfile(chain);
  if (!profile.registered) {
    log.warn("this provider is not registered: run `podnet-worker register` to list it and stake");
  } else if (profile.encryptionKey.toLowerCase() !== encryption.publicKeyHex.toLowerCase()) {
    throw new Error(
      "encryption key: the key registered on chain is not derived from this provider key; run `podnet-worker register` to update it",
    );
  }
  const params = await readMarketParams(chain);
  const contracts = chain.deployment.contracts;
  const state = WorkerState.open(
    config.dataDir,
    { chainId: chain.chainId, provider: chain.account.address, market: contracts.podnetMarket.address },
    chain.deployment.deployBlock,
  );
  const metrics = createMetrics({ loopPrecisionMs: config.metricsLoopPrecisionMs });
  const hostProofs = new HostProofs({ state, chainId: chain.chainId, servers: config.dnsServers, log });
  const routes = new RouteTable(
    config.ingressDomain,
    (host, leaseId) => hostProofs.holds(host, leaseId),
    (host, leaseId) => hostProofs.proveNow(host, leaseId),
  );
  let reconciler: Reconciler | undefined;
  let follower: ChainFollower | undefined;
  const adminEvents = new AdminEventBus();
  const ctx: WorkerContext = {
    config,
    chain,
    state,
    manifests: new ManifestStore(config.dataDir),
    blobs: new BlobStore(config.dataDir, config.maxBlobBytes, config.privateSourceHosts),
    runtime,
    sandbox,
    hostProofs,
    txs: new TxQueue(chain, log),
    log,
    adminEvents,
    alerts: new AdminAlerts(adminEvents, undefined, {
      load: () => state.data.alerts ?? {},
      save: (alerts) => {
        state.data.alerts = alerts;
        state.save();
      },
    }),
    metrics,
    openOrders: new OpenOrders(),
    get follower() {
      return follower as ChainFollower;
    },
    profile,
    params,
    encryption,
    chainNow: () => follower?.now() ?? Math.floor(Date.now() / 1000),
    reconcileLease: (leaseId) => (reconciler ? reconciler.lease(leaseId) : Promise.resolve()),
    refreshProfile: async () => {
      ctx.profile = await readProfile(chain);
    },
  };
  follower = new ChainFollower(chain, state, log, (events) => applyChainEvents(ctx, events), {
    pollIntervalMs: config.pollIntervalMs,
    confirmations: config.confirmations,
    stallSec: config.chainStallSec,
    onReorg: () => metrics.chainReorgs.inc(),
  });
  follower.start();
  const newHeadsUrl = subscribeUrlOf(config);
  const unwatchHeads = newHeadsUrl ? watchNewHeads(newHeadsUrl, () => follower.poke(), log) : undefined;
  const head = await chain.publicClient.getBlockNumber();
  await follower.caughtUpTo(head - BigInt(config.confirmations));
  reconciler = new Reconciler(ctx, routes);
  const api = createApi(ctx, reconciler, routes);
  const apiServer = limitServer(
    await listen(
      (ready) =>
        serve(
          {
            fetch: api.fetch,
            hostname: config.apiHost,
            port: config.apiPort,
            serverOptions: httpServerOptions(limits.api),
          },
          ready,
        ) as Server,
    ),
    limits.api,
  );
  apiServer.on("drop", () => metrics.connectionsRefused.inc({ listener: "api", reason: "connections" }));
  // Addons talk to the worker only through the admin API: without it, none runs (the bidder neither).
  const adminTokens = new AdminTokens(config.dataDir);
  let adminServer: Server | undefined;
  const addons = new AddonSupervisor(
    adminTokens,
    () => addonAdminUrl(config, adminServer as Server),
    log,
    {
      restart: config.addons.restart,
      delayMs: config.addons.restartDelayMs,
      maxDelayMs: config.addons.maxRestartDelayMs,
    },
    () => adminEvents.publish("overview", { addons: true }),
  );
  const addonSpecs = config.adminEnabled ? configuredAddons(config) : [];
  // The pods' live use for the console's capacity page: sampled only with the admin API on.
  const usage = config.adminEnabled ? new UsageSampler(ctx) : undefined;
  if (usage) adminServer = await listenAdmin(ctx, reconciler, routes, limits.api, adminTokens, addons, usage);
  if (adminServer) writeAdminOrigin(config.dataDir, adminOrigins(config, adminServer)[0] as string);
  const scaleToZero = new ScaleToZero(ctx, reconciler, routes, config.ingressWakeTimeoutMs);
  const ingress = createIngress(routes, metrics, limits.ingress, scaleToZero);
  await new Promise<void>((resolve, reject) => {
    ingress.once("error", reject);
    ingress.listen(config.ingressPort, config.ingressHost, () => resolve());
  });
  // Listening first: pods that still run are routed as soon as the first pass sees them, and no container the pass
  // creates can take the API's or the ingress' port in the meantime.
  await reconciler.pass();
  reconciler.start();
  scaleToZero.start();
  usage?.start();
  const money = new MoneyLoop(ctx);
  await money.start();
  addons.start(addonSpecs);
  const alertWatch = setInterval(() => void watchAlerts(ctx, reconciler.phases), ALERT_WATCH_MS);
  void watchAlerts(ctx, reconciler.phases);
  const apiPort = (apiServer.address() as AddressInfo).port;
  const ingressPort = (ingress.address() as AddressInfo).port;
  log.info("worker started", {
    provider: chain.account.address,
    chainId: chain.chainId,
    market: contracts.podnetMarket.address,
    instance: instance.tag,
    api: `http://${config.apiHost}:${apiPort}`,
    ingress: `http://${config.ingressHost}:${ingressPort}`,
    ...(adminServer ? { admin: adminOrigins(config, adminServer)[0] } : {}),
    leases: Object.values(state.data.leases).filter((l) => l.status === "active").length,
    signatureRecovery: signatureRecoveryKind,
  });
  return {
    ctx,
    reconciler,
    money,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    ingressUrl: `http://127.0.0.1:${ingressPort}`,
    ...(adminServer ? { adminUrl: `http://127.0.0.1:${(adminServer.address() as AddressInfo).port}` } : {}),
    addons,
    async stop() {
      clearInterval(alertWatch);
      await addons.stop();
      unwatchHeads?.();
      follower?.stop();
      reconciler?.stop();
      scaleToZero.stop();
      money.stop();
      usage?.stop();
      // After stop() no new warm network is begun; the one being made is finished, so none appears after the exit.
      // At most 10 s: a Docker Engine that does not answer must not hold the stop.
      let settleTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        reconciler?.warm.settled(),
        new Promise((resolve) => {
          settleTimer = setTimeout(resolve, WARM_SETTLE_MS);
        }),
      ]);
      clearTimeout(settleTimer);
      await Promise.all([
        new Promise((resolve) => apiServer.close(resolve)),
        new Promise((resolve) => (adminServer ? adminServer.close(resolve) : resolve(undefined))),
        new Promise((resolve) => {
          ingress.close(resolve);
          ingress.closeAllConnections();
        }),
      ]);
      apiServer.closeAllConnections?.();
      adminServer?.closeAllConnections?.();
      // After any write still in flight, so the last one on disk is this.
      await state.flush();
    },
  };
}

/**
 * The admin API on its own listener (`adminHost`:`adminPort`), so the provider API's public port never serves it and a
 * firewall rule or a bind address keeps it private. Same slow-peer limits as the API.
 */
async function listenAdmin(
  ctx: WorkerContext,
  reconciler: Reconciler,
  routes: RouteTable,
  limits: ReturnType<typeof listenerLimits>["api"],
  tokens: AdminTokens,
  addons: AddonSupervisor,
  usage: UsageSampler,
): Promise<Server> {
  let server: Server | undefined;
  const admin = createAdminApi({
    ctx,
    reconciler,
    ingressRoutes: routes,
    tokens,
    addons,
    usage,
    origins: () => adminOrigins(ctx.config, server),
  });
  server = limitServer(
    await listen(
      (ready) =>
        serve(
          {
            fetch: admin.fetch,
            hostname: ctx.config.adminHost,
            port: ctx.config.adminPort,
            serverOptions: httpServerOptions(limits),
          },
          ready,
        ) as Server,
    ),
    limits,
  );
  return server;
}

/** Where an addon on this machine reaches the admin API: `adminUrl` when set (the only origin it accepts), else loopback. */
function addonAdminUrl(config: WorkerConfig, server: Server): string {
  if (config.adminUrl) return new URL(config.adminUrl).origin;
  const port = (server.address() as AddressInfo).port;
  return config.adminHost.includes(":") ? `http://[::1]:${port}` : `http://127.0.0.1:${port}`;
}

/** `adminUrl`'s origin, or the loopback origins on the port the admin listener got. */
function adminOrigins(config: WorkerConfig, server: Server | undefined): string[] {
  if (config.adminUrl) return [new URL(config.adminUrl).origin];
  const port = (server?.address() as AddressInfo | null)?.port ?? config.adminPort;
  return loopbackOrigins(port);
}

/**
 * This worker's instance: its key on this deployment of the market, told apart from a deployment at the same addresses
 * on another chain (a fresh anvil) by the deploy block's hash. It scopes every Docker object and firewall chain.
 */
async function instanceOf(chain: ChainContext): Promise<WorkerInstance> {
  const { deployment } = chain;
  const block = await chain.publicClient.getBlock({ blockNumber: BigInt(deployment.deployBlock) }).catch((error) => {
    const reason = (error as Error).message.split("\n")[0];
    throw new Error(`deploymentsFile: deploy block ${deployment.deployBlock} not readable on this chain (${reason})`);
  });
  return workerInstance({
    chainId: chain.chainId,
    market: deployment.contracts.podnetMarket.address,
    deployBlockHash: block.hash,
    provider: chain.account.address,
  });
}

/**
 * The Docker runtime with every part of the pod sandbox this machine can enforce: the egress firewall (installed and
 * restored for the pod networks that exist), root file system and volume quotas where the storage driver allows them;
 * and the status of each part. What is not enforced is logged, and with `requireSandbox` it stops the start.
 */
async function sandboxedRuntime(
  config: WorkerConfig,
  docker: Dockerode,
  instance: WorkerInstance,
  log: Logger,
): Promise<{ runtime: DockerRuntime; sandbox: SandboxStatus }> {
  const probe = new DockerRuntime({ docker, instance });
  try {
    await probe.ping();
  } catch (error) {
    throw new Error(`dockerSocket: no Docker Engine answers at ${config.dockerSocket} (${(error as Error).message})`);
  }
  const info = await probe.info();
  const firewall = new PodFirewall({
    instance,
    pool: config.podNetworkPool,
    egress: config.podEgress,
    allow: config.podEgressAllow,
  });
  let firewallOk = await firewall.available();
  if (firewallOk) {
    try {
      await firewall.install();
    } catch (error) {
      log.warn("egress firewall not installed", { error: (error as Error).message });
      firewallOk = false;
    }
  }
  const rootfs = rootfsQuotaDriver(info);
  const volumes = rootfs === "btrfs" && (await volumeQuotasAvailable(info.dockerRootDir));
  const sandbox = sandboxStatus(info, {
    firewall: firewallOk,
    volumeQuota: volumes,
    publicEgress: config.podEgress === "public",
  });
  for (const part of sandbox.notEnforced) log.warn("sandbox: not enforced", { part });
  const keyring = keyringWarning(sandbox.userns, kernelMaxKeys());
  if (keyring) log.warn("kernel key quota caps the pods", { reason: keyring });
  if (config.requireSandbox && sandbox.notEnforced.length > 0) {
    throw new Error(`requireSandbox: not enforced on this machine: ${sandbox.notEnforced.join("; ")}`);
  }
  const runtime = new DockerRuntime({
    docker,
    instance,
    tcpBindIp: config.tcpBindIp,
    ...(firewallOk ? { firewall } : {}),
    quotas: { ...(rootfs ? { rootfs } : {}), volumes },
    infra: config.infraContainers,
    onInfraError: (slot, error) =>
      log.warn("infra container not made: pods on this slot get their own endpoint", { slot, error: error.message }),
  });
  if (firewallOk) await runtime.restoreFirewall();
  return { runtime, sandbox };
}

function listen(start: (ready: () => void) => Server): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = start(() => resolve(server));
    server.once("error", reject);
  });
}
