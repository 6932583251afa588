import type { PodManifest, PodPhase } from "@podnet/sdk/protocol";
import type { Hex } from "viem";
import type { WorkerContext } from "../context.js";
import type { RuntimeContainer } from "../runtime/docker-runtime.js";
import type { StoredManifest } from "../store/manifest-store.js";
import type { LeaseRecord } from "../store/worker-state.js";
import { collectBlobs } from "./blob-collection.js";
import { collectUnusedImages, ensureImage, imageIsLocal } from "./images.js";
import { PhaseMap } from "./phase-map.js";
import type { RouteTable } from "./routes.js";
import { removeSecrets, writeSecrets } from "./secrets.js";
import {
  leaseSlot,
  parsePool,
  poolStart,
  releaseSubnet,
  type SubnetPool,
  type SubnetSlot,
  skipSubnet,
} from "./subnets.js";
import { type StopVerdict, TeardownGuard } from "./teardown-guard.js";
import { WarmNetworks } from "./warm-networks.js";

const RETRY_AFTER_FAILURE_MS = 5000;
/**
 * Scale-to-zero: the seconds a sleeping pod's processes get after SIGTERM before SIGKILL. Short: the pod has been idle
 * for its idleSeconds, and a request arriving meanwhile waits for the stop before the wake.
 */
const SLEEP_STOP_TIMEOUT_SEC = 1;
const IMAGE_COLLECTION_INTERVAL_MS = 60_000;
/**
 * A pass waits this long for one lease, then goes on without it: the lease's work continues, and later passes skip the
 * lease until it is done. One hung Docker call or slow lease must not hold every other lease's restart.
 */
export const LEASE_WAIT_MS = 30_000;
/** How long a reconcile waits for its images before it lets them come in the background. */
const INLINE_IMAGE_WAIT_MS = 1000;
/** Image fetches, decryptions, loads and pulls at once (they are the slow, bandwidth-bound part). */
const IMAGE_JOBS_AT_ONCE = 2;
/** Longest pause between passes while Docker does not answer (the interval doubles up to it). */
const MAX_BACKOFF_MS = 10_000;

/** The images of one lease's spec being made ready in the background, and their outcome once settled. */
interface ImageJob {
  specHash: string;
  controller: AbortController;
  outcome?: { images: Record<string, string> } | { error: Error };
  settled: Promise<void>;
}

/** How a reconcile was asked for: by a pass (with the pass's decision on stopping the pod) or by an event. */
interface LeaseRun {
  actual?: RuntimeContainer[];
  periodic?: boolean;
  /** The pass's stop decision for this lease (the guard weighed it against the other stops of the pass). */
  stop?: { allowed: boolean; verdict: StopVerdict };
}

/**
 * Drives Docker (actual state: containers labelled with this provider, lease and spec) towards the desired state
 * (active leases and the manifests stored for them). Every step is idempotent and container names are deterministic,
 * so a restarted worker adopts what runs, creates what is missing, removes what nobody pays for, and a second pass
 * (or a concurrent one) never duplicates a container. Work on one lease is serialised; leases proceed in parallel,
 * `reconcileConcurrency` at a time, and a pass never waits on one lease for more than {@link LEASE_WAIT_MS}. Images
 * are made ready in the background ({@link IMAGE_JOBS_AT_ONCE} at a time, each within `imageFetchTimeoutSec`), so a
 * slow registry or a trickling blob source holds only its own lease. A pod is removed only for a reason the chain
 * confirms ({@link TeardownGuard}).
 */
export class Reconciler {
  readonly phases: Map<string, PodPhase>;
  readonly guard: TeardownGuard;
  private readonly queues = new Map<string, Promise<void>>();
  private readonly failedAt = new Map<string, number>();
  private readonly imageJobs = new Map<string, ImageJob>();
  private readonly imageSlots: Slots;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private lastImageCollection = Date.now();
  private readonly pool: SubnetPool;
  /** Where this provider starts allocating in the pool: fixed by its address (subnets.ts `poolStart`). */
  private readonly poolStart: number;
  /** Pod networks made ahead of their leases (warm-networks.ts). */
  readonly warm: WarmNetworks;
  /** Passes that failed in a row (Docker unreachable): the interval backs off meanwhile. */
  failedPasses = 0;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly routes: RouteTable,
  ) {
    this.pool = parsePool(ctx.config.podNetworkPool, ctx.config.podNetworkPrefix);
    this.poolStart = poolStart(this.pool, ctx.chain.account.address);
    this.warm = new WarmNetworks(ctx, this.pool, this.poolStart);
    this.guard = new TeardownGuard(ctx);
    this.phases = new PhaseMap((leaseId, phase) => ctx.adminEvents.publish("leases", { leaseId, phase: phase.phase }));
    this.imageSlots = new Slots(IMAGE_JOBS_AT_ONCE);
  }

  start() {
    this.running = true;
    void this.warm
      .tidy()
      .catch((error: Error) => this.ctx.log.warn("warm pod networks not tidied", { error: error.message }));
    const tick = async () => {
      if (!this.running) return;
      try {
        await this.pass();
        if (this.failedPasses > 0) this.ctx.log.info("reconcile passes work again", { failed: this.failedPasses });
        this.failedPasses = 0;
      } catch (error) {
        this.failedPasses++;
        if (this.failedPasses === 1 || this.failedPasses % 10 === 0) {
          this.ctx.log.warn("reconcile pass failed, backing off; pods are left as they are", {
            error: (error as Error).message,
            failures: this.failedPasses,
          });
        }
      }
      this.ctx.metrics.reconcileFailedPasses.set(this.failedPasses);
      const interval = this.ctx.config.reconcileIntervalMs;
      const delay =
        this.failedPasses === 0 ? interval : Math.min(MAX_BACKOFF_MS, interval * 2 ** (this.failedPasses - 1));
      if (this.running) this.timer = setTimeout(tick, Math.max(interval, delay));
    };
    void tick();
  }

  stop() {
    this.running = false;
    this.warm.stop();
    if (this.timer) clearTimeout(this.timer);
    for (const job of this.imageJobs.values()) job.controller.abort();
  }

  /**
   * One full pass over every lease the state or Docker knows. Leases already busy (a reconcile from an event, a slow
   * one from an earlier pass) are skipped; the others run `reconcileConcurrency` at a time, each waited for at most
   * {@link LEASE_WAIT_MS}. The pass's duration is recorded whatever happens.
   */
  async pass(): Promise<void> {
    const started = performance.now();
    try {
      await this.passOnce();
    } finally {
      this.ctx.metrics.reconcileSeconds.observe((performance.now() - started) / 1000);
    }
  }

  private async passOnce(): Promise<void> {
    const actual = await this.ctx.runtime.listContainers();
    // Tops the warm networks up when a lease took one or an outage cut a fill short (reads the state only when full).
    this.warm.refill();
    const byLease = new Map<string, RuntimeContainer[]>();
    for (const c of actual) {
      const id = c.leaseId.toString();
      byLease.set(id, [...(byLease.get(id) ?? []), c]);
    }
    const ids = [...new Set([...byLease.keys(), ...this.activeLeaseIds()])].filter((id) => !this.queues.has(id));
    const stops = await this.stopDecisions(byLease);
    await eachAtMost(ids, this.ctx.config.reconcileConcurrency, (id) =>
      this.waitAtMost(id, this.lease(id, { actual: byLease.get(id) ?? [], periodic: true, stop: stops.get(id) })),
    );
    this.ctx.metrics.containersRunning.set(actual.filter((c) => c.state === "running").length);
    this.ctx.metrics.leasesActive.set(this.activeLeaseIds().length);
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

  /**
   * The pass's decision on every pod that nobody wants any more (its lease closed, ending or unknown): each verdict
   * read from the chain, then the guard's limit on stops the chain does not confirm.
   */
  private async stopDecisions(byLease: Map<string, RuntimeContainer[]>) {
    const candidates = [...byLease.keys()].filter((id) => !this.queues.has(id) && this.unwanted(id));
    const verdicts = new Map<string, StopVerdict>();
    await eachAtMost(candidates, this.ctx.config.reconcileConcurrency, async (id) => {
      verdicts.set(id, await this.guard.verdictWithin(id, this.ctx.state.data.leases[id]));
    });
    const allowed = this.guard.allowedStops(verdicts, byLease.size);
    const decisions = new Map<string, { allowed: boolean; verdict: StopVerdict }>();
    for (const [id, verdict] of verdicts) decisions.set(id, { allowed: allowed.has(id), verdict });
    return decisions;
  }

  /** Waits for a lease's reconcile for at most {@link LEASE_WAIT_MS}; past that the pass goes on without it. */
  private async waitAtMost(leaseId: string, work: Promise<void>) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), LEASE_WAIT_MS);
    });
    // The lease's own failure is recorded by lease(); here only its duration matters.
    const done = work.catch(() => undefined).then(() => "done" as const);
    const outcome = await Promise.race([done, late]);
    clearTimeout(timer);
    if (outcome === "late") {
      this.ctx.metrics.reconcileLeaseTimeouts.inc();
      this.ctx.log.warn("lease reconcile is slow: the pass goes on without it", { leaseId, waitedMs: LEASE_WAIT_MS });
    }
  }

  /** Whether lease `leaseId`'s pod should stop: its lease is closed, ending, or unknown to this worker. */
  private unwanted(leaseId: string) {
    const lease = this.ctx.state.data.leases[leaseId];
    return !(lease?.status === "active" && !lease.ending);
  }

  /** Reconciles one lease now (after the ones already queued for it). */
  lease(leaseId: string, run: LeaseRun = {}): Promise<void> {
    const next = this.queued(leaseId, async () => {
      const containers =
        run.actual ?? (await this.ctx.runtime.listContainers()).filter((c) => c.leaseId.toString() === leaseId);
      await this.reconcileLease(leaseId, containers, run);
    });
    next.catch((error) => {
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
    return next;
  }

  /** Runs `work` after everything already queued for the lease (reconciles, sleeps, wakes: one at a time per lease). */
  private queued<T>(leaseId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(leaseId) ?? Promise.resolve();
    const next = previous.then(work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(leaseId, settled);
    void settled.then(() => {
      if (this.queues.get(leaseId) === settled) this.queues.delete(leaseId);
    });
    return next;
  }

  /**
   * Scale-to-zero: puts the lease's running pod to sleep, if `stillIdle()` says so once the lease's earlier work is
   * done (a request may have come meanwhile). "Asleep" is recorded before the containers stop, so a request arriving
   * during the stop waits for a wake instead of reaching a dying container, and a restarted worker keeps it asleep.
   *
   * @returns whether the pod went to sleep.
   */
  sleep(leaseId: string, stillIdle: () => boolean): Promise<boolean> {
    return this.queued(leaseId, async () => {
      const { ctx } = this;
      const desired = this.desired(ctx.state.data.leases[leaseId]);
      if (!desired?.manifest.scaleToZero || this.phases.get(leaseId)?.phase !== "running" || !stillIdle()) return false;
      const since = Date.now();
      ctx.state.data.asleep[leaseId] = { specHash: desired.specHash, since };
      ctx.state.save();
      this.phases.set(leaseId, { phase: "asleep", since: Math.floor(since / 1000) });
      await ctx.runtime.stopPod(BigInt(leaseId), desired.specHash, SLEEP_STOP_TIMEOUT_SEC);
      const idle = desired.manifest.scaleToZero.idleSeconds;
      ctx.state.recordEvent(leaseId, "slept", `pod stopped after ${idle} s without requests (scale-to-zero)`);
      ctx.log.info("pod asleep", { leaseId, idleSeconds: idle });
      return true;
    });
  }

  /**
   * Scale-to-zero: starts a sleeping pod's containers and routes the ingress to where they run now. Nothing to do when
   * the pod is awake. On failure the pod stays marked asleep (the reconcile loop leaves it alone) so the next request
   * tries again.
   *
   * @throws when a container does not start.
   */
  wake(leaseId: string): Promise<void> {
    return this.queued(leaseId, async () => {
      const { ctx } = this;
      const asleep = ctx.state.data.asleep[leaseId];
      const desired = this.desired(ctx.state.data.leases[leaseId]);
      if (!asleep || !desired) return;
      const started = performance.now();
      let containers: RuntimeContainer[];
      try {
        containers = await ctx.runtime.startPod(BigInt(leaseId), asleep.specHash);
        const down = containers.filter((c) => c.state !== "running");
        if (containers.length === 0) throw new Error("its containers are gone");
        if (down.length > 0) throw new Error(`${down.map((c) => `container ${c.container} is ${c.state}`).join(", ")}`);
      } catch (error) {
        const reason = (error as Error).message;
        ctx.state.recordEvent(leaseId, "wake-failed", `pod did not start on a request: ${reason}`);
        ctx.log.warn("pod did not wake", { leaseId, error: reason });
        throw error;
      }
      await this.setRoutes(leaseId, desired.manifest, containers);
      delete ctx.state.data.asleep[leaseId];
      const ms = Math.round(performance.now() - started);
      ctx.state.recordEvent(leaseId, "woke", `pod started on a request in ${ms} ms (scale-to-zero)`);
      this.phases.set(leaseId, { phase: "running", since: Math.floor(Date.now() / 1000) });
    });
  }

  /** Whether the lease's pod sleeps (scale-to-zero). */
  isAsleep(leaseId: string): boolean {
    return this.ctx.state.data.asleep[leaseId] !== undefined;
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

  private async reconcileLease(leaseId: string, actual: RuntimeContainer[], run: LeaseRun) {
    const { ctx } = this;
    const periodic = run.periodic ?? false;
    const lease = ctx.state.data.leases[leaseId];
    const desired = this.desired(lease);
    if (!desired) {
      if (lease?.status === "active" && !lease.ending) {
        if (!this.phases.has(leaseId)) {
          this.phases.set(leaseId, { phase: "waiting-manifest" });
          // The network is the slowest Docker object to create: make it while the publisher sends the manifest.
          await this.withSlot(leaseId, (slot) => ctx.runtime.ensureSlotNetwork(slot, { infra: true }));
        }
        return;
      }
      // Nobody pays for this pod (closed, ending, or unknown to this provider): remove everything it had, once the
      // chain confirms it (volumes hold the publisher's data; a pod is never stopped on a guess).
      if (actual.length > 0 || this.phases.get(leaseId)?.phase !== "stopped") {
        if (!(await this.mayStop(leaseId, lease, run))) return;
        this.cancelImages(leaseId);
        this.routes.remove(leaseId);
        // A sleeping pod's stopped containers go like running ones.
        if (ctx.state.data.asleep[leaseId]) {
          delete ctx.state.data.asleep[leaseId];
          ctx.state.save();
        }
        await ctx.runtime.removePod(BigInt(leaseId), ctx.state.data.subnets[leaseId]);
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
    if (await this.keptAsleep(leaseId, specHash, manifest, current, stale, expected)) return;
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
    const images = await this.images(leaseId, desired);
    // Still fetching: the image job queues this lease again when it is done; the running pod (if any) is untouched.
    if (!images) return;
    // Fixed host ports cannot be held by the old and the new pod at once: TCP pods are replaced old-first.
    if (stale.length > 0 && manifest.expose.tcp.length > 0) {
      await ctx.runtime.removeStaleSpecs(BigInt(leaseId), specHash);
    }
    const secretDirs = await writeSecrets(ctx, desired);
    const tcpHostPorts = this.tcpPorts(leaseId, manifest);
    const containers = await this.withSlot(leaseId, (network) =>
      ctx.runtime.ensurePod({
        leaseId: BigInt(leaseId),
        specHash,
        manifest,
        images,
        secretDirs,
        tcpHostPorts,
        network,
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

  /**
   * Scale-to-zero: whether the lease's pod sleeps and stays so. Its stopped containers are not a crash: they are left
   * stopped (any a dockerd restart brought up are stopped again) and routed, so the ingress knows the host and wakes
   * the pod on a request. A pod asleep on an older spec, or missing containers, is woken for good (rebuilt as usual).
   */
  private async keptAsleep(
    leaseId: string,
    specHash: Hex,
    manifest: PodManifest,
    current: RuntimeContainer[],
    stale: RuntimeContainer[],
    expected: number,
  ): Promise<boolean> {
    const { ctx } = this;
    const asleep = ctx.state.data.asleep[leaseId];
    if (!asleep) return false;
    if (
      !manifest.scaleToZero ||
      asleep.specHash.toLowerCase() !== specHash.toLowerCase() ||
      stale.length > 0 ||
      current.length !== expected
    ) {
      delete ctx.state.data.asleep[leaseId];
      ctx.state.save();
      return false;
    }
    if (current.some((c) => c.state === "running" || c.state === "restarting")) {
      await ctx.runtime.stopPod(BigInt(leaseId), specHash, SLEEP_STOP_TIMEOUT_SEC);
    }
    await this.setRoutes(leaseId, manifest, current);
    if (this.phases.get(leaseId)?.phase !== "asleep") {
      this.phases.set(leaseId, { phase: "asleep", since: Math.floor(asleep.since / 1000) });
    }
    return true;
  }

  /**
   * Whether the pod of `leaseId` may be stopped now. A pass brings its decision (weighed by the guard against the
   * pass's other stops); an event or the money loop asks the chain here, and leaves a stop the chain does not confirm
   * to the next pass, where the guard sees it with the others.
   */
  private async mayStop(leaseId: string, lease: LeaseRecord | undefined, run: LeaseRun): Promise<boolean> {
    const decision = run.stop ?? { allowed: false, verdict: await this.guard.verdictWithin(leaseId, lease) };
    const { verdict } = decision;
    if (verdict.action === "stop" && (decision.allowed || verdict.confirmed)) return true;
    if (verdict.action === "defer") this.guard.countDeferred();
    return false;
  }

  /**
   * The local image of each container of `desired`, or undefined while they are still being made ready. The work runs
   * as a background job (a slot of {@link IMAGE_JOBS_AT_ONCE}, `imageFetchTimeoutSec` at most) that queues the lease
   * again when it settles; a reconcile waits for it only {@link INLINE_IMAGE_WAIT_MS}, so images already present cost
   * no extra round.
   * @throws the job's error (the reconcile fails and is retried like any other failure).
   */
  private async images(leaseId: string, desired: StoredManifest): Promise<Record<string, string> | undefined> {
    let job = this.imageJobs.get(leaseId);
    if (job && job.specHash !== desired.specHash) {
      this.cancelImages(leaseId);
      job = undefined;
    }
    if (!job) {
      // A fresh job is waited for a moment (images already present are ready at once); one that is still running
      // from an earlier reconcile is not: it queues the lease itself when it settles.
      job = this.startImageJob(leaseId, desired);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([job.settled, new Promise((resolve) => (timer = setTimeout(resolve, INLINE_IMAGE_WAIT_MS)))]);
      clearTimeout(timer);
    }
    const { outcome } = job;
    if (!outcome) return undefined;
    this.imageJobs.delete(leaseId);
    if ("error" in outcome) throw outcome.error;
    return outcome.images;
  }

  private startImageJob(leaseId: string, desired: StoredManifest): ImageJob {
    const { ctx } = this;
    const controller = new AbortController();
    const timeoutSec = ctx.config.imageFetchTimeoutSec;
    const job: ImageJob = { specHash: desired.specHash, controller, settled: Promise.resolve() };
    const prepare = async () => {
      const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(timeoutSec * 1000)]);
      const images: Record<string, string> = {};
      for (const c of desired.manifest.containers) {
        images[c.name] = await untilAborted(
          ensureImage(ctx, desired, c.image, signal),
          signal,
          () =>
            new Error(
              controller.signal.aborted
                ? `image ${c.image}: no longer needed`
                : `image ${c.image}: not ready within imageFetchTimeoutSec (${timeoutSec} s): a slow source or registry`,
            ),
        );
      }
      return images;
    };
    const local = async () => {
      for (const c of desired.manifest.containers) if (!(await imageIsLocal(ctx, c.image))) return false;
      return true;
    };
    // Images already here need no slot: the slots are for downloads, which may take long.
    job.settled = local()
      .then((ready) => (ready ? prepare() : this.imageSlots.run(prepare)))
      .then(
        (images) => {
          job.outcome = { images };
        },
        (error: Error) => {
          job.outcome = { error };
        },
      )
      .then(() => {
        // Not picked up by a waiting reconcile: queue the lease so its pod is created (or its failure recorded) now.
        if (this.running && this.imageJobs.get(leaseId) === job && !controller.signal.aborted) {
          void this.lease(leaseId).catch(() => undefined);
        }
      });
    this.imageJobs.set(leaseId, job);
    return job;
  }

  /** Stops the lease's image job, if any (its pod is going, or its spec changed). */
  private cancelImages(leaseId: string) {
    this.imageJobs.get(leaseId)?.controller.abort();
    this.imageJobs.delete(leaseId);
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
        .filter(
          (c) =>
            c.container === container &&
            (c.address !== undefined ? c.httpContainerPorts.includes(port) : c.httpPorts[port] !== undefined),
        )
        .sort((a, b) => a.replica - b.replica)
        // Straight to the container on its lease network; its published port (through Docker's proxy) otherwise.
        .map((c) => (c.address ? `${c.address}:${port}` : `127.0.0.1:${c.httpPorts[port]}`)),
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
   * Runs `use` with the lease's pod-network slot (a warm one when ready, see warm-networks.ts). A subnet Docker finds
   * overlapping a network this worker does not own (another provider's, the host's) is marked blocked and the lease
   * moved to another slot, a bounded number of times. Taking a slot starts making the next warm one once `use` is done.
   */
  private async withSlot<T>(leaseId: string, use: (slot: SubnetSlot) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const fresh = this.ctx.state.data.subnets[leaseId] === undefined;
      const slot = leaseSlot(this.ctx.state, this.pool, leaseId, this.poolStart, this.warm.ready);
      try {
        return await use(slot);
      } catch (error) {
        if (!/overlap/i.test((error as Error).message) || attempt >= 16) throw error;
        skipSubnet(this.ctx.state, leaseId);
      } finally {
        // After the pod's own Docker calls, not beside them: making the next warm network would slow its start.
        if (fresh) this.warm.refill();
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

/** Runs `work` on every item, at most `limit` at a time. */
async function eachAtMost<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** A counting semaphore: `run` waits for one of `size` slots. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const wake = this.waiting.shift();
      if (wake) wake();
      else this.free++;
    }
  }
}

/** `work`, or the error of `reason()` as soon as `signal` aborts (work that ignores the signal is left behind). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, reason: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(reason());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason());
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
