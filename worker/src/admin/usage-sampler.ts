import type { WorkerContext } from "../context.js";
import { mapLimit } from "../runtime/docker-util.js";

/** Live use of one lease's pod: all its running containers together. */
export interface LeaseUsage {
  /** CPU time used per second of wall time between the last two readings, in millicores. */
  cpuMillis: number;
  /** Memory in use (without the page cache, as `docker stats` shows it), MiB to one decimal. */
  memoryMiB: number;
}

/** The newest sample of every running pod: what GET /admin/v1/capacity answers as `usage`. */
export interface UsageSample extends LeaseUsage {
  /** When the sample was taken (ms since the epoch); null before the first one. */
  sampledAt: number | null;
  leases: Record<string, LeaseUsage>;
}

/**
 * Stats calls in flight at once. Each call waits about a second inside Docker (even one-shot, on this engine: `npm run
 * bench:usage`), so the calls overlap: 40 pods sample in about 2 s, 500 in about 16 s (then samples follow one
 * another with `usageSampleSec` between them).
 */
export const USAGE_SAMPLE_CONCURRENCY = 32;
/** With nobody listening to the event stream, a sample at most this often (the capacity page still has a figure). */
export const IDLE_SAMPLE_MS = 60_000;

type Sources = Pick<WorkerContext, "runtime" | "adminEvents" | "log"> & { config: { usageSampleSec: number } };

/**
 * Samples the live CPU and memory use of the provider's running pod containers in the background and publishes the
 * admin event "usage" after each sample. One `listContainers` call, then a one-shot `docker stats` per running
 * container, {@link USAGE_SAMPLE_CONCURRENCY} at a time; the next sample is planned only once this one is done, so a
 * slow daemon never stacks samples up. Every `usageSampleSec` while someone listens to GET /admin/v1/events, every
 * {@link IDLE_SAMPLE_MS} otherwise. CPU is a rate between two readings of a container: its first reading counts 0.
 */
export class UsageSampler {
  latest: UsageSample = { sampledAt: null, cpuMillis: 0, memoryMiB: 0, leases: {} };
  /** Container id → its last cumulative CPU reading and when it was read. */
  private readonly readings = new Map<string, { cpuNanos: bigint; at: number }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastError: string | undefined;

  constructor(
    private readonly ctx: Sources,
    private readonly now: () => number = Date.now,
  ) {}

  start() {
    this.stopped = false;
    this.plan(0);
  }

  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private plan(delayMs: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick() {
    const due =
      this.ctx.adminEvents.listenerCount > 0 ||
      this.latest.sampledAt === null ||
      this.now() - this.latest.sampledAt >= IDLE_SAMPLE_MS;
    if (due) {
      await this.sample().then(
        () => {
          this.lastError = undefined;
        },
        (error) => {
          // Once per kind of failure (Docker down), not every few seconds.
          const message = (error as Error).message;
          if (message !== this.lastError) this.ctx.log.warn("usage sample failed", { error: message });
          this.lastError = message;
        },
      );
    }
    this.plan(this.ctx.config.usageSampleSec * 1000);
  }

  /** Takes a sample now, keeps it as {@link latest} and publishes "usage". */
  async sample(): Promise<UsageSample> {
    const running = (await this.ctx.runtime.listContainers()).filter((c) => c.state === "running");
    const leases: Record<string, LeaseUsage> = {};
    const seen = new Set<string>();
    await mapLimit(running, USAGE_SAMPLE_CONCURRENCY, async (container) => {
      let stats: Awaited<ReturnType<WorkerContext["runtime"]["sampleStats"]>>;
      try {
        stats = await this.ctx.runtime.sampleStats(container.id);
      } catch {
        // Gone between the list and the stats call (a pod stopping): it is simply not in this sample.
        return;
      }
      const at = this.now();
      seen.add(container.id);
      const before = this.readings.get(container.id);
      this.readings.set(container.id, { cpuNanos: stats.cpuNanos, at });
      const cpuMillis =
        before && at > before.at && stats.cpuNanos >= before.cpuNanos
          ? Number(stats.cpuNanos - before.cpuNanos) / ((at - before.at) * 1000)
          : 0;
      const leaseId = container.leaseId.toString();
      const lease = leases[leaseId] ?? { cpuMillis: 0, memoryMiB: 0 };
      leases[leaseId] = lease;
      lease.cpuMillis += cpuMillis;
      lease.memoryMiB += stats.memoryBytes / 2 ** 20;
    });
    // Readings of containers that are gone would only grow the map.
    for (const id of this.readings.keys()) if (!seen.has(id)) this.readings.delete(id);
    let cpuMillis = 0;
    let memoryMiB = 0;
    for (const usage of Object.values(leases)) {
      usage.cpuMillis = Math.round(usage.cpuMillis);
      usage.memoryMiB = Math.round(usage.memoryMiB * 10) / 10;
      cpuMillis += usage.cpuMillis;
      memoryMiB += usage.memoryMiB;
    }
    this.latest = { sampledAt: this.now(), cpuMillis, memoryMiB: Math.round(memoryMiB * 10) / 10, leases };
    this.ctx.adminEvents.publish("usage", {
      sampledAt: this.latest.sampledAt,
      cpuMillis,
      memoryMiB: this.latest.memoryMiB,
      pods: Object.keys(leases).length,
    });
    return this.latest;
  }
}
