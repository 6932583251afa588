import { Agent } from "node:http";
import { routeTarget } from "../probe.js";
import { SharedRun } from "../shared-run.js";
import { type AppStatus, fetchAppStatus, type InstanceStatus, routableInstances } from "../status-wire.js";

/**
 * The instances podnet-lb sends requests to, read from one or more autoscalers' `GET /status` in the background. A
 * status URL that fails or answers junk keeps its last good set (an autoscaler restarting must not empty the app);
 * the union over the URLs is used, one backend per pod route.
 */

/** One instance as the balancer reaches it, with its own connection pool and its passive health. */
export interface Backend {
  /** The pod's route, `http://l5.pods.localhost:18080/`: the identity of the instance. */
  readonly hostUrl: string;
  /** Host header the provider's ingress routes by (the route's host, never the client's). */
  readonly hostHeader: string;
  /** Where the TCP connection goes: the provider's published ingress, else the route's own host. */
  readonly connectHost: string;
  readonly connectPort: number;
  /** Keep-alive connections to this instance only, so a dead instance's sockets die with it. */
  readonly agent: Agent;
  /** Requests in flight (least-outstanding picking). */
  outstanding: number;
  /** Epoch ms until which the instance gets no new request after a failure (0: not ejected). */
  ejectedUntil: number;
  /** Gone from every status: its pool is closed once its last request ends. */
  retired: boolean;
}

export interface InstanceSourceOptions {
  statusUrls: string[];
  pollIntervalMs: number;
  statusTimeoutMs: number;
  localhostAddress: string;
  maxSocketsPerInstance: number;
  idleTimeoutMs: number;
  onPollError(url: string, error: Error): void;
  onChange(backends: readonly Backend[]): void;
}

/** Where a status row is reached; null when the row has no HTTP route (yet) or one the balancer cannot speak. */
export function backendTarget(
  instance: InstanceStatus,
  localhostAddress: string,
): { hostUrl: string; hostHeader: string; connectHost: string; connectPort: number } | null {
  if (!instance.hostUrl) return null;
  if (new URL(instance.hostUrl).protocol !== "http:") return null;
  return { hostUrl: instance.hostUrl, ...routeTarget(instance.hostUrl, instance.ingress, localhostAddress) };
}

export class InstanceSource {
  private readonly lastGood = new Map<string, AppStatus>();
  private readonly byUrl = new Map<string, Backend>();
  private current: Backend[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Reads of the status URLs, one at a time: the timer joins one under way, refresh() gets one after its call. */
  private readonly reads = new SharedRun(() => this.pollOnce());

  constructor(private readonly options: InstanceSourceOptions) {}

  /** The backends now (a snapshot array; the objects are live). */
  get backends(): readonly Backend[] {
    return this.current;
  }

  /** Reads every status URL once, then keeps reading them every `pollIntervalMs` until {@link stop}. */
  async start(): Promise<void> {
    await this.refresh();
    this.schedule();
  }

  /**
   * One read of every status URL, started at or after this call (after a read already under way, not joining it: its
   * answers may predate what the caller just changed).
   */
  refresh(): Promise<void> {
    return this.reads.fresh();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const backend of this.byUrl.values()) backend.agent.destroy();
    this.byUrl.clear();
    this.current = [];
  }

  /** An instance's request ended: a retired instance's pool closes with its last request. */
  released(backend: Backend): void {
    if (backend.retired && backend.outstanding === 0) backend.agent.destroy();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.reads.any().finally(() => this.schedule());
    }, this.options.pollIntervalMs);
    this.timer.unref();
  }

  private async pollOnce(): Promise<void> {
    const results = await Promise.allSettled(
      this.options.statusUrls.map((url) => fetchAppStatus(url, this.options.statusTimeoutMs)),
    );
    if (this.stopped) return;
    results.forEach((result, i) => {
      const url = this.options.statusUrls[i] as string;
      if (result.status === "fulfilled") this.lastGood.set(url, result.value);
      else this.options.onPollError(url, result.reason as Error);
    });
    this.apply();
  }

  private apply(): void {
    const wanted = new Map<string, NonNullable<ReturnType<typeof backendTarget>>>();
    for (const status of this.lastGood.values()) {
      for (const instance of routableInstances(status)) {
        const target = backendTarget(instance, this.options.localhostAddress);
        if (target && !wanted.has(target.hostUrl)) wanted.set(target.hostUrl, target);
      }
    }
    let changed = false;
    for (const [hostUrl, backend] of this.byUrl) {
      const target = wanted.get(hostUrl);
      // Same route but the provider moved its ingress: a new pool to the new address.
      if (target && target.connectHost === backend.connectHost && target.connectPort === backend.connectPort) continue;
      backend.retired = true;
      this.byUrl.delete(hostUrl);
      this.released(backend);
      changed = true;
    }
    for (const [hostUrl, target] of wanted) {
      if (this.byUrl.has(hostUrl)) continue;
      this.byUrl.set(hostUrl, {
        ...target,
        agent: new Agent({
          keepAlive: true,
          // Most recently used first: idle sockets age out instead of all being kept warm (and going stale) at once.
          scheduling: "lifo",
          maxSockets: this.options.maxSocketsPerInstance,
          maxFreeSockets: Math.min(64, this.options.maxSocketsPerInstance),
          timeout: this.options.idleTimeoutMs,
        }),
        outstanding: 0,
        ejectedUntil: 0,
        retired: false,
      });
      changed = true;
    }
    if (changed) {
      this.current = [...this.byUrl.values()];
      this.options.onChange(this.current);
    }
  }
}
