import type { PodManifest, PodPhase } from "@podnet/sdk/protocol";
import type { WorkerContext } from "../context.js";
import type { RuntimeContainer } from "../runtime/docker-runtime.js";
import type { StoredManifest } from "../store/manifest-store.js";
import type { LeaseRecord } from "../store/worker-state.js";
import { collectBlobs } from "./blob-collection.js";
import { collectUnusedImages, ensureImage } from "./images.js";
import type { RouteTable } from "./routes.js";
import { removeSecrets, writeSecrets } from "./secrets.js";
import { leaseSubnet, parsePool, poolStart, releaseSubnet, type SubnetPool, skipSubnet } from "./subnets.js";

const RETRY_AFTER_FAILURE_MS = 5000;
const IMAGE_COLLECTION_INTERVAL_MS = 60_000;

/**
 * Drives Docker (actual state: containers labelled with this provider, lease and spec) towards the desired state
 * (active leases and the manifests stored for them). Every step is idempotent and container names are deterministic,
 * so a restarted worker adopts what runs, creates what is missing, removes what nobody pays for, and a second pass
 * (or a concurrent one) never duplicates a container. Work on one lease is serialised; leases proceed in parallel.
 */
export class Reconciler {
  readonly phases = new Map<string, PodPhase>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly failedAt = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private lastImageCollection = Date.now();
  private readonly pool: SubnetPool;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly routes: RouteTable,
  ) {
    this.pool = parsePool(ctx.config.podNetworkPool, ctx.config.podNetworkPrefix);
  }

  start() {
    this.running = true;
    const tick = async () => {
      if (!this.running) return;
      await this.pass().catch((error) =>
        this.ctx.log.warn("reconcile pass failed", { error: (error as Error).message }),
      );
      if (this.running) this.timer = setTimeout(tick, this.ctx.config.reconcileIntervalMs);
    };
    void tick();
  }

  stop() {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
  }

  /** One full pass over every lease the state or Docker knows; resolves when all are done. */
  async pass(): Promise<void> {
    const started = performance.now();
    const actual = await this.ctx.runtime.listContainers();
    const byLease = new Map<string, RuntimeContainer[]>();
    for (const c of actual) {
      const id = c.leaseId.toString();
      byLease.set(id, [...(byLease.get(id) ?? []), c]);
    }
    const ids = new Set([...byLease.keys(), ...this.activeLeaseIds()]);
    await Promise.all([...ids].map((id) => this.lease(id, byLease.get(id) ?? [], true)));
    this.ctx.metrics.containersRunning.set(actual.filter((c) => c.state === "running").length);
    this.ctx.metrics.leasesActive.set(this.activeLeaseIds().length);
    this.ctx.metrics.reconcileSeconds.observe((performance.now() - started) / 1000);
    if (Date.now() - this.lastImageCollection > IMAGE_COLLECTION_INTERVAL_MS) {
      this.lastImageCollection = Date.now();
      await collectUnusedImages(this.ctx).catch((error) =>
        this.ctx.log.warn("image collection failed", { error: (error as Error).message }),
      );
      try {
        collectBlobs(this.ctx);
      } catch (error) {
        this.ctx.log.warn("blob collection failed", { error: (error as Error).message });
      }
    }
  }

  /** Reconciles one lease now (after the ones already queued for it). */
  lease(leaseId: string, actual?: RuntimeContainer[], periodic = false): Promise<void> {
    const previous = this.queues.get(leaseId) ?? Promise.resolve();
    const next = previous.then(async () => {
      const containers =
        actual ?? (await this.ctx.runtime.listContainers()).filter((c) => c.leaseId.toString() === leaseId);
      await this.reconcileLease(leaseId, containers, periodic);
    });
    const settled = next.catch((error) => {
      this.ctx.metrics.reconcileErrors.inc();
      this.failedAt.set(leaseId, Date.now());
      const reason = (error as Error).message;
      const before = this.phases.get(leaseId);
      this.phases.set(leaseId, { phase: "failed", reason, at: Math.floor(Date.now() / 1000) });
      if (before?.phase !== "failed" || before.reason !== reason) {
        this.ctx.state.recordEvent(leaseId, "failed", reason);
        this.ctx.log.warn("pod reconcile failed", { leaseId, error: reason });
      }
    });
    this.queues.set(leaseId, settled);
    void settled.then(() => {
      if (this.queues.get(leaseId) === settled) this.queues.delete(leaseId);
    });
    return next;
  }

  private activeLeaseIds() {
    return Object.values(this.ctx.state.data.leases)
      .filter((l) => l.status === "active")
      .map((l) => l.id);
  }

  /** The manifest the pod should run: the one for the lease's spec, else the newest (keeps serving during an update). */
  desired(lease: LeaseRecord | undefined): StoredManifest | undefined {
    if (lease?.status !== "active" || lease.ending) return undefined;
    return this.ctx.manifests.get(lease.id, lease.specHash) ?? this.ctx.manifests.list(lease.id)[0];
  }

  private async reconcileLease(leaseId: string, actual: RuntimeContainer[], periodic: boolean) {
    const { ctx } = this;
    const lease = ctx.state.data.leases[leaseId];
    const desired = this.desired(lease);
    if (!desired) {
      if (lease?.status === "active" && !lease.ending) {
        if (!this.phases.has(leaseId)) {
          this.phases.set(leaseId, { phase: "waiting-manifest" });
          // The network is the slowest Docker object to create: make it while the publisher sends the manifest.
          await this.withSubnet(leaseId, (subnet) => ctx.runtime.ensureNetwork(BigInt(leaseId), subnet));
        }
        return;
      }
      // Nobody pays for this pod (closed, ending, or unknown to this provider): remove everything it had.
      if (actual.length > 0 || this.phases.get(leaseId)?.phase !== "stopped") {
        this.routes.remove(leaseId);
        await ctx.runtime.removePod(BigInt(leaseId));
        removeSecrets(ctx, leaseId);
        if (lease?.status !== "active") {
          ctx.manifests.remove(leaseId);
          this.releasePorts(leaseId);
          releaseSubnet(ctx.state, leaseId);
          ctx.hostProofs.release(leaseId);
          collectBlobs(ctx);
        }
        if (actual.length > 0) {
          ctx.state.recordEvent(
            leaseId,
            "removed",
            `pod removed (${lease ? (lease.ending ?? "lease closed") : "no lease"})`,
          );
          ctx.log.info("pod removed", { leaseId });
        }
        this.phases.set(leaseId, { phase: "stopped", reason: lease?.ending ?? "lease closed" });
      }
      return;
    }
    const { manifest, specHash } = desired;
    const current = actual.filter((c) => c.specHash.toLowerCase() === specHash.toLowerCase());
    const stale = actual.filter((c) => c.specHash.toLowerCase() !== specHash.toLowerCase());
    const expected = manifest.containers.length * manifest.replicas;
    const healthy = current.length === expected && current.every((c) => c.state === "running");
    if (healthy && stale.length === 0) {
      await this.setRoutes(leaseId, manifest, current);
      this.markRunning(leaseId, desired);
      return;
    }
    if (periodic && (this.failedAt.get(leaseId) ?? 0) > Date.now() - RETRY_AFTER_FAILURE_MS) return;
    if (this.phases.get(leaseId)?.phase !== "running" || stale.length > 0) {
      if (this.phases.get(leaseId)?.phase !== "provisioning") {
        this.phases.set(leaseId, { phase: "provisioning", since: Date.now() });
      }
    }
    // Fixed host ports cannot be held by the old and the new pod at once: TCP pods are replaced old-first.
    if (stale.length > 0 && manifest.expose.tcp.length > 0) {
      await ctx.runtime.removeStaleSpecs(BigInt(leaseId), specHash);
    }
    const images: Record<string, string> = {};
    for (const c of manifest.containers) images[c.name] = await ensureImage(ctx, desired, c.image);
    const secretDirs = await writeSecrets(ctx, desired);
    const tcpHostPorts = this.tcpPorts(leaseId, manifest);
    const containers = await this.withSubnet(leaseId, (networkSubnet) =>
      ctx.runtime.ensurePod({
        leaseId: BigInt(leaseId),
        specHash,
        manifest,
        images,
        secretDirs,
        tcpHostPorts,
        networkSubnet,
      }),
    );
    await this.setRoutes(leaseId, manifest, containers);
    // Docker restarts a crashing process by itself (restart policy); the publisher must see it as failing, not running.
    const down = containers.filter((c) => c.state !== "running");
    if (down.length > 0) {
      throw new Error(
        `${down.map((c) => `container ${c.container} (replica ${c.replica}) is ${c.state}`).join(", ")}: its process keeps exiting, see the logs`,
      );
    }
    if (stale.length > 0) {
      await ctx.runtime.removeStaleSpecs(BigInt(leaseId), specHash);
      for (const old of new Set(stale.map((c) => c.specHash))) removeSecrets(ctx, leaseId, old);
      ctx.manifests.prune(leaseId, specHash);
      ctx.state.recordEvent(leaseId, "updated", `pod replaced by spec ${specHash}`);
    }
    this.failedAt.delete(leaseId);
    this.markRunning(leaseId, desired);
  }

  private markRunning(leaseId: string, desired: StoredManifest) {
    const phase = this.phases.get(leaseId);
    if (phase?.phase === "running") return;
    if (phase?.phase === "provisioning") {
      this.ctx.metrics.provisionSeconds.observe((Date.now() - phase.since) / 1000);
    }
    this.phases.set(leaseId, { phase: "running", since: Math.floor(Date.now() / 1000) });
    this.ctx.state.recordEvent(leaseId, "running", `pod running spec ${desired.specHash}`);
  }

  private async setRoutes(leaseId: string, manifest: PodManifest, containers: RuntimeContainer[]) {
    await this.ctx.hostProofs.refresh(leaseId, manifest);
    this.routes.set(leaseId, manifest, (container, port) =>
      containers
        .filter((c) => c.container === container && c.httpPorts[port] !== undefined)
        .sort((a, b) => a.replica - b.replica)
        .map((c) => `127.0.0.1:${c.httpPorts[port]}`),
    );
  }

  /** Host ports for the pod's TCP exposes, allocated once per lease and kept across updates and restarts. */
  tcpPorts(leaseId: string, manifest: PodManifest): Record<string, number> {
    const { state, config } = this.ctx;
    const ports: Record<string, number> = {};
    const taken = new Set(Object.values(state.data.tcpPorts));
    for (const e of manifest.expose.tcp) {
      for (let replica = 0; replica < manifest.replicas; replica++) {
        const key = `${e.container}:${e.port}:${replica}`;
        const stateKey = `${leaseId}:${key}`;
        let hostPort = state.data.tcpPorts[stateKey];
        if (hostPort === undefined) {
          const [first, last] = config.tcpPortRange;
          for (let p = first; p <= last; p++) {
            if (!taken.has(p)) {
              hostPort = p;
              break;
            }
          }
          if (hostPort === undefined) throw new Error("no free TCP host port left in tcpPortRange");
          taken.add(hostPort);
          state.data.tcpPorts[stateKey] = hostPort;
          state.save();
        }
        ports[key] = hostPort;
      }
    }
    return ports;
  }

  /**
   * Runs `use` with the lease's subnet. A subnet Docker finds overlapping a network this worker does not own (another
   * provider's, the host's) is marked blocked and the next one tried, a bounded number of times.
   */
  private async withSubnet<T>(leaseId: string, use: (subnet: string) => Promise<T>): Promise<T> {
    const start = poolStart(this.pool, this.ctx.chain.account.address);
    for (let attempt = 0; ; attempt++) {
      try {
        return await use(leaseSubnet(this.ctx.state, this.pool, leaseId, start));
      } catch (error) {
        if (!/overlap/i.test((error as Error).message) || attempt >= 16) throw error;
        skipSubnet(this.ctx.state, leaseId);
      }
    }
  }

  /** Frees a closed lease's host ports. */
  releasePorts(leaseId: string) {
    for (const key of Object.keys(this.ctx.state.data.tcpPorts)) {
      if (key.startsWith(`${leaseId}:`)) delete this.ctx.state.data.tcpPorts[key];
    }
  }
}
