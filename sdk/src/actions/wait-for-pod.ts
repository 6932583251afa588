import type { PodnetClient } from "../client.js";
import {
  type ErrorType,
  PodFailedError,
  type PodFailedErrorType,
  ProviderApiError,
  TimeoutError,
  type TimeoutErrorType,
} from "../errors.js";
import { type GetPodStatusErrorType, type GetPodStatusReturnType, getPodStatus } from "./get-pod-status.js";

export type WaitForPodParameters = {
  leaseId: bigint;
  /** Give up after this long (default 5 minutes: large images take a while to fetch, decrypt and load). */
  timeoutMs?: number;
  /** Polling period (default 1 s). */
  intervalMs?: number;
  signal?: AbortSignal;
};

export type WaitForPodReturnType = GetPodStatusReturnType;

/** A provider that answers 5xx or not at all is retried until the timeout; any other GetPodStatus error is final. */
export type WaitForPodErrorType = PodFailedErrorType | TimeoutErrorType | GetPodStatusErrorType | ErrorType;

/**
 * Polls `getPodStatus` until the pod runs the lease's current spec: phase `running`, the provider holds the
 * manifest of the lease's spec hash, and every container of that spec is running. After `updatePod` this waits for
 * the new containers, not the old ones. A `failed` phase is retried by the provider, so it is not final here: its
 * reason is reported if the wait times out.
 *
 * @throws {PodFailedError} when the lease ended; {@link TimeoutError} after `timeoutMs` (with the last phase).
 * @example
 * await client.deployPod({ leaseId, manifest });
 * const status = await client.waitForPod({ leaseId, timeoutMs: 120_000 });
 * console.log(status.http[0]?.url);
 */
export async function waitForPod(client: PodnetClient, params: WaitForPodParameters): Promise<WaitForPodReturnType> {
  const timeoutMs = params.timeoutMs ?? 300_000;
  const intervalMs = params.intervalMs ?? 1_000;
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  for (;;) {
    params.signal?.throwIfAborted();
    try {
      const status = await getPodStatus(client, { leaseId: params.leaseId });
      if (status.status === "closed") throw new PodFailedError(params.leaseId, "the lease has ended");
      const spec = status.specHash.toLowerCase();
      const current = status.containers.filter((c) => c.specHash.toLowerCase() === spec);
      // A scale-to-zero pod may fall asleep before the first look: stopped and kept, it is as ready as a running one.
      const asleep =
        status.pod.phase === "asleep" &&
        status.manifestSpecHash?.toLowerCase() === spec &&
        current.length > 0 &&
        current.length === status.containers.length;
      if (asleep) return status;
      if (
        status.pod.phase === "running" &&
        status.manifestSpecHash?.toLowerCase() === spec &&
        current.length > 0 &&
        current.every((c) => c.state === "running") &&
        current.length === status.containers.length
      ) {
        return status;
      }
      last = status.pod.phase === "failed" ? `failed: ${status.pod.reason}` : status.pod.phase;
    } catch (error) {
      // A provider that is restarting answers again shortly; anything else is final.
      if (!(error instanceof ProviderApiError) || (error.status !== 0 && error.status < 500)) throw error;
      last = error.message;
    }
    if (Date.now() >= deadline) throw new TimeoutError(`the pod of lease ${params.leaseId} to run`, timeoutMs, last);
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
}
