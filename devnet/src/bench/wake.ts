/**
 * Scale-to-zero under benchmark (npm run bench:wake, a step of npm run bench): one pod with `scaleToZero:
 * {idleSeconds: 1}` put to sleep and woken by a request, `wakes` times. Each cold start is timed from the moment the
 * request is sent (the pod's container stopped, the pod idle) to the first 200 with the page; every answer that is not
 * a 200 with the page is a failed request.
 */
import type { PodManifestInput } from "@podnet/sdk/protocol";
import { ingress } from "../net.js";
import type { Publisher } from "../publisher.js";
import { podHost } from "../worker.js";
import {
  agent,
  type BenchProvider,
  createLease,
  docker,
  leaseObjects,
  podManifest,
  sendManifest,
  waitServing,
} from "./pods.js";
import { atMost, fmt, goalCells, met, now, sleep, summarize, until } from "./stats.js";

/** Goals of issue 17: cold start p50 and p95, ms. */
export const WAKE_GOALS = { p50Ms: 500, p95Ms: 1_000 };

/** The shortest idle time the manifest accepts: 100 wakes fit in a few minutes. */
export const WAKE_IDLE_SECONDS = 1;
/** A bound on one wait for the pod to fall asleep: idleSeconds, the idle check, the stop timeout, and slack. */
const ASLEEP_TIMEOUT_MS = 30_000;

export function sleepyManifest(cid: string, idleSeconds = WAKE_IDLE_SECONDS): PodManifestInput {
  return { ...podManifest(cid, 250, 64), scaleToZero: { idleSeconds } };
}

export interface WakeResult {
  leaseId: bigint;
  /** Cold starts, ms: request sent to a sleeping pod → its 200. */
  samples: number[];
  /** Requests that did not get a 200 with the page (each wake's request). */
  failed: number;
  /** What the failed requests got, e.g. `503` or `0` (no answer). */
  failures: string[];
}

/** Whether every container of the lease is stopped (exited) and at least one exists. */
export async function leaseStopped(b: BenchProvider, leaseId: bigint): Promise<boolean> {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [b.label, `podnet.lease=${leaseId}`] },
  });
  return containers.length > 0 && containers.every((c) => c.State === "exited");
}

/** Waits until the lease's pod sleeps: its containers stopped. */
export async function waitAsleep(b: BenchProvider, leaseId: bigint): Promise<void> {
  await until(
    `lease ${leaseId}'s pod to fall asleep`,
    async () => ((await leaseStopped(b, leaseId)) ? true : undefined),
    {
      timeoutMs: ASLEEP_TIMEOUT_MS,
      intervalMs: 20,
    },
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}; objects: ${(await leaseObjects(b, leaseId)).join(", ")}`);
  });
}

/** Leases one scale-to-zero pod, then `wakes` times: wait for it to sleep, one GET, time to its 200. */
export async function measureWakes(
  b: BenchProvider,
  publisher: Publisher,
  wakes: number,
  onWake: (i: number, ms: number, ok: boolean) => void = () => undefined,
): Promise<WakeResult> {
  const manifest = sleepyManifest(b.image.cid);
  const { leaseId } = await createLease(b, publisher, manifest);
  await sendManifest(b, publisher, leaseId, manifest);
  await waitServing(b, leaseId);
  const samples: number[] = [];
  const failures: string[] = [];
  for (let i = 0; i < wakes; i++) {
    await waitAsleep(b, leaseId);
    const t0 = now();
    // Longer than the worker's wake timeout (30 s): a slow wake is a late 503 or a late 200, not a client timeout.
    const { status, body } = await ingress(b.worker.ingressPort, podHost(leaseId), "/", {
      agent,
      timeoutMs: 35_000,
    }).catch(() => ({ status: 0, body: "" }));
    const ms = now() - t0;
    const ok = status === 200 && body.includes(b.page);
    if (ok) samples.push(ms);
    else failures.push(String(status));
    onWake(i, ms, ok);
    // Past the idle time with no request: the pod goes back to sleep.
    await sleep(10);
  }
  return { leaseId, samples, failed: failures.length, failures };
}

/** The report rows of a wake run (npm run bench's table: measure | value | goal | met). */
export function wakeRows(r: WakeResult, floorRuns: number): string[] {
  const cold = summarize(r.samples);
  const wakes = r.samples.length + r.failed;
  return [
    `| scale-to-zero: failed requests in ${wakes} wakes (idleSeconds 1) | ${r.failed}${r.failed > 0 ? ` (${r.failures.join(", ")})` : ""} | 0 | ${met(r.failed === 0)} |`,
    `| scale-to-zero cold start: request to the stopped pod -> 200, p50 / p95 / max (next to the docker run floor, ${floorRuns} runs) | ${fmt(cold.p50)} / ${fmt(cold.p95)} / ${fmt(cold.max)} ms | ${goalCells(atMost(cold, { p50: WAKE_GOALS.p50Ms, p95: WAKE_GOALS.p95Ms }, " ms"))} |`,
  ];
}
