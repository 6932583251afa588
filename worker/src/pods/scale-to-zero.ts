import { connect } from "node:net";
import type { WorkerContext } from "../context.js";
import type { Reconciler } from "./reconciler.js";
import type { RouteTable } from "./routes.js";

/** How often idle pods are looked for: a pod sleeps at most this long after its idleSeconds. */
const IDLE_CHECK_INTERVAL_MS = 250;
/** Pause between connection attempts while a woken pod's port does not accept yet. */
const ACCEPT_POLL_MS = 5;

/** What the ingress asks of scale-to-zero (see {@link ScaleToZero}). */
export interface PodSleep {
  /** Whether the lease's pod sleeps now. */
  asleep(leaseId: string): boolean;
  /** A real request (not a probe) for the lease begins; call the result when it ends. Keeps the pod awake meanwhile. */
  begin(leaseId: string): () => void;
  /** Wakes the lease's pod: resolves once every route target accepts connections. One wake per pod at a time. */
  wake(leaseId: string): Promise<void>;
}

/**
 * Scale-to-zero on the provider (manifest `scaleToZero: {idleSeconds}`). The ingress reports each real request; a pod
 * with no request in flight and none for `idleSeconds` is put to sleep by the reconciler (containers stopped, kept).
 * The first request for a sleeping pod wakes it: its containers start, and the request is held until the pod's ports
 * accept connections. Concurrent requests share one wake. Health probes are not requests here (protocol/ingress.ts).
 */
export class ScaleToZero implements PodSleep {
  /** Lease id → ms of its last request's start or end. A pod not seen yet counts from when it was first looked at. */
  private readonly lastActivity = new Map<string, number>();
  private readonly inFlight = new Map<string, number>();
  private readonly wakes = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly reconciler: Reconciler,
    private readonly routes: RouteTable,
    private readonly wakeTimeoutMs: number,
  ) {}

  start() {
    this.timer = setInterval(() => void this.sleepIdlePods(), IDLE_CHECK_INTERVAL_MS);
  }

  stop() {
    clearInterval(this.timer);
  }

  asleep(leaseId: string): boolean {
    return this.reconciler.isAsleep(leaseId);
  }

  begin(leaseId: string): () => void {
    this.inFlight.set(leaseId, (this.inFlight.get(leaseId) ?? 0) + 1);
    this.lastActivity.set(leaseId, Date.now());
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (this.inFlight.get(leaseId) ?? 1) - 1;
      if (left > 0) this.inFlight.set(leaseId, left);
      else this.inFlight.delete(leaseId);
      this.lastActivity.set(leaseId, Date.now());
    };
  }

  wake(leaseId: string): Promise<void> {
    let wake = this.wakes.get(leaseId);
    if (!wake) {
      wake = this.wakeOnce(leaseId).finally(() => this.wakes.delete(leaseId));
      this.wakes.set(leaseId, wake);
    }
    return wake;
  }

  private async wakeOnce(leaseId: string): Promise<void> {
    const deadline = Date.now() + this.wakeTimeoutMs;
    await this.reconciler.wake(leaseId);
    // Idle time counts from the wake: a pod woken by a request that then failed still gets its idleSeconds.
    this.lastActivity.set(leaseId, Date.now());
    await Promise.all(this.routes.targetsOf(leaseId).map((target) => untilAccepting(target, deadline)));
  }

  /** Puts every pod to sleep that has scale-to-zero, runs, and had no request for its idleSeconds. */
  private async sleepIdlePods() {
    if (this.checking) return;
    this.checking = true;
    try {
      const now = Date.now();
      for (const lease of Object.values(this.ctx.state.data.leases)) {
        const id = lease.id;
        if (lease.status !== "active" || this.reconciler.phases.get(id)?.phase !== "running") {
          this.lastActivity.delete(id);
          continue;
        }
        const idleSeconds = this.reconciler.desired(lease)?.manifest.scaleToZero?.idleSeconds;
        if (idleSeconds === undefined) continue;
        if (!this.lastActivity.has(id)) {
          // First seen running (started, or found by a restarted worker): a full idle period from now.
          this.lastActivity.set(id, now);
          continue;
        }
        const stillIdle = () =>
          !this.inFlight.has(id) &&
          !this.wakes.has(id) &&
          Date.now() - (this.lastActivity.get(id) ?? Date.now()) >= idleSeconds * 1000;
        if (!stillIdle()) continue;
        await this.reconciler.sleep(id, stillIdle).catch((error: Error) => {
          this.ctx.log.warn("pod did not go to sleep", { leaseId: id, error: error.message });
        });
      }
    } finally {
      this.checking = false;
    }
  }
}

/** Resolves once `target` (`host:port`) accepts a TCP connection; rejects at `deadline` (ms). */
async function untilAccepting(target: string, deadline: number): Promise<void> {
  const [host, port] = target.split(":") as [string, string];
  for (;;) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port: Number(port) });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(Math.max(1, deadline - Date.now()), () => done(false));
      socket.once("connect", () => done(true));
      socket.once("error", () => done(false));
    });
    if (accepted) return;
    if (Date.now() >= deadline) throw new Error(`${target} did not accept connections in time`);
    await new Promise((resolve) => setTimeout(resolve, ACCEPT_POLL_MS));
  }
}
