import type { PodnetClient } from "../client.js";
import { type ErrorType, InvalidParameterError, type InvalidParameterErrorType, ProviderApiError } from "../errors.js";
import type { PodLogLine } from "../protocol/index.js";
import { providerApiPaths } from "../protocol/index.js";
import { type LeaseTargetErrorType, leaseTarget } from "./internal/lease.js";
import { type ProviderFetchErrorType, providerFetch } from "./internal/provider-api.js";

export type GetPodLogsParameters = {
  leaseId: bigint;
  /** Container name; default: the pod's first container. */
  container?: string;
  /** Replica index (default 0). */
  replica?: number;
  /** Lines from the end of the log to start with (default 100 at the provider; 0 = only new lines). */
  tail?: number;
  /** Keep streaming new lines until the loop breaks or `signal` aborts (default false). */
  follow?: boolean;
  signal?: AbortSignal;
};

/** One log record as the container wrote it (normally a line with its trailing newline). */
export type { PodLogLine };

export type GetPodLogsReturnType = AsyncIterable<PodLogLine>;

/** What the returned promise rejects with; `ErrorType<"AbortError">` when `signal` was aborted before the answer. */
export type GetPodLogsErrorType = InvalidParameterErrorType | LeaseTargetErrorType | ProviderFetchErrorType | ErrorType;

/**
 * A container's logs from its provider (signed GET `/v1/leases/<id>/logs`, NDJSON). Resolves once the provider
 * answered (so refusals throw here), then yields records as they arrive. With `follow` the stream lasts until the
 * caller breaks out of the loop or aborts `signal`; both close the connection. Iterate the result (or abort): an
 * unread follow stream keeps its connection open.
 *
 * @example
 * for await (const line of await client.getPodLogs({ leaseId, tail: 50 })) process.stdout.write(line.text);
 *
 * const controller = new AbortController();
 * setTimeout(() => controller.abort(), 60_000);
 * for await (const line of await client.getPodLogs({ leaseId, tail: 0, follow: true, signal: controller.signal })) {
 *   if (line.text.includes("ready")) break;
 * }
 */
export async function getPodLogs(client: PodnetClient, params: GetPodLogsParameters): Promise<GetPodLogsReturnType> {
  const query = new URLSearchParams();
  if (params.container !== undefined) query.set("container", params.container);
  if (params.replica !== undefined) {
    if (!Number.isSafeInteger(params.replica) || params.replica < 0) {
      throw new InvalidParameterError("replica", `must be a non-negative whole number, got ${params.replica}`);
    }
    query.set("replica", String(params.replica));
  }
  if (params.tail !== undefined) {
    if (!Number.isSafeInteger(params.tail) || params.tail < 0) {
      throw new InvalidParameterError("tail", `must be a non-negative whole number, got ${params.tail}`);
    }
    query.set("tail", String(params.tail));
  }
  if (params.follow) query.set("follow", "true");
  const qs = query.toString();
  const path = `${providerApiPaths.logs(params.leaseId)}${qs ? `?${qs}` : ""}`;
  const { target } = await leaseTarget(client, "getPodLogs", params.leaseId);
  params.signal?.throwIfAborted();
  const controller = new AbortController();
  const abort = () => controller.abort();
  params.signal?.addEventListener("abort", abort, { once: true });
  let response: Response;
  try {
    response = await providerFetch(client, "getPodLogs", target, {
      method: "GET",
      path,
      signed: true,
      signal: controller.signal,
    });
  } catch (error) {
    params.signal?.removeEventListener("abort", abort);
    throw error;
  }
  const body = response.body;
  if (!body) {
    params.signal?.removeEventListener("abort", abort);
    throw new ProviderApiError(response.status, "log stream without a body", [], "GET", response.url);
  }
  return records(body, controller, () => params.signal?.removeEventListener("abort", abort));
}

async function* records(
  body: ReadableStream<Uint8Array>,
  controller: AbortController,
  cleanup: () => void,
): AsyncGenerator<PodLogLine> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  const parse = (line: string): PodLogLine | undefined => {
    if (line.trim() === "") return undefined;
    const record = JSON.parse(line) as PodLogLine;
    return { stream: record.stream, text: record.text };
  };
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        // Aborted by the caller: the stream simply ends.
        if (controller.signal.aborted) return;
        throw error;
      }
      if (chunk.done) break;
      buffered += decoder.decode(chunk.value, { stream: true });
      for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
        const record = parse(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        if (record) yield record;
      }
    }
    const last = parse(buffered + decoder.decode());
    if (last) yield last;
  } finally {
    controller.abort();
    await reader.cancel().catch(() => undefined);
    cleanup();
  }
}
