import type { Address, SignTypedDataErrorType } from "viem";
import type { PodnetClient } from "../../client.js";
import { type ErrorType, ProviderApiError, type ProviderApiErrorType } from "../../errors.js";
import { type ManifestIssue, parseApiErrorBody, signRequest } from "../../protocol/index.js";
import { type RequireWalletErrorType, requestSigner } from "./wallet.js";

/**
 * Every refusal and network failure is a ProviderApiError; a signed request also needs the wallet (which may refuse to
 * sign); an aborted `signal` rejects with its reason (an AbortError).
 */
export type ProviderFetchErrorType =
  | ProviderApiErrorType
  | RequireWalletErrorType
  | SignTypedDataErrorType
  | ErrorType<"AbortError">;

export interface ProviderRequest {
  method: "GET" | "HEAD" | "POST" | "PUT";
  /** Path with its query, exactly as sent (the signature covers it). */
  path: string;
  /** A JSON body (signed when the request is signed). */
  json?: unknown;
  /** A body sent without being covered by the signature (blob uploads: the content id pins the bytes). */
  unsignedBody?: ReadableStream<Uint8Array> | Uint8Array;
  /** Sign with the wallet account (publisher routes). */
  signed?: boolean;
  signal?: AbortSignal;
}

/**
 * A provider that answers 429 (this caller asks too often) or 503 (busy) with a Retry-After is asked again after that
 * long, up to this many times: a burst of status polls or a quote during another publisher's burst should not fail a
 * deploy. A longer wait than {@link MAX_RETRY_WAIT_SECONDS}, or a body that cannot be sent twice (a streamed upload),
 * is the caller's to decide: the error carries `retryAfterSeconds`.
 */
export const PROVIDER_RETRIES = 3;
export const MAX_RETRY_WAIT_SECONDS = 10;

/** Retry-After as seconds (delay-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterSeconds(value: string | null, nowMs = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  // An HTTP date names its day and month ("Thu, 03 Dec 2026 07:00:03 GMT"); Date.parse would also take "-1".
  const at = /^[A-Za-z]{3}, /.test(value.trim()) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A provider endpoint from the registry, without a trailing slash. */
export function baseUrl(endpoint: string): string {
  return endpoint.replace(/\/+$/, "");
}

/**
 * Calls a provider API route. Publisher routes are signed with `signRequest` through the wallet client (a fresh
 * signature, so a fresh nonce, per attempt). 429 and 503 with a short Retry-After are retried (see
 * {@link PROVIDER_RETRIES}). Anything else but a 2xx becomes a {@link ProviderApiError} with the API's error body
 * (`ApiErrorBody`: `{error: {status, message, issues}}`).
 */
export async function providerFetch(
  client: PodnetClient,
  action: string,
  target: { provider: Address; endpoint: string },
  request: ProviderRequest,
): Promise<Response> {
  const replayable = !(request.unsignedBody instanceof ReadableStream);
  for (let attempt = 0; ; attempt++) {
    try {
      return await providerFetchOnce(client, action, target, request);
    } catch (error) {
      const wait = error instanceof ProviderApiError ? error.retryAfterSeconds : undefined;
      const busy = error instanceof ProviderApiError && (error.status === 429 || error.status === 503);
      if (!busy || wait === undefined || wait > MAX_RETRY_WAIT_SECONDS || attempt >= PROVIDER_RETRIES || !replayable) {
        throw error;
      }
      await sleep(wait * 1000, request.signal);
    }
  }
}

async function providerFetchOnce(
  client: PodnetClient,
  action: string,
  target: { provider: Address; endpoint: string },
  request: ProviderRequest,
): Promise<Response> {
  const url = `${baseUrl(target.endpoint)}${request.path}`;
  const body = request.json === undefined ? undefined : JSON.stringify(request.json);
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (request.unsignedBody !== undefined) headers["content-type"] = "application/octet-stream";
  if (request.signed) {
    Object.assign(
      headers,
      await signRequest(requestSigner(client, action), client.deployment.chainId, {
        provider: target.provider,
        method: request.method,
        path: request.path,
        body,
      }),
    );
  }
  // The provider has providerTimeoutMs to answer (status line and headers), except for streamed uploads, whose
  // duration is the upload's; the body that follows (a log follow, an event stream) is not bounded by it.
  const streamed = request.unsignedBody instanceof ReadableStream;
  const deadline = streamed ? undefined : new AbortController();
  const timer = deadline && setTimeout(() => deadline.abort(new Error("provider timeout")), client.providerTimeoutMs);
  const signals = [request.signal, deadline?.signal].filter((signal) => signal !== undefined);
  let response: Response;
  try {
    response = await client.fetch(url, {
      method: request.method,
      headers,
      body: body ?? (request.unsignedBody as RequestInit["body"]),
      signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
      ...(streamed ? { duplex: "half" } : {}),
    } as RequestInit);
  } catch (error) {
    if (request.signal?.aborted) throw error;
    const reason = deadline?.signal.aborted
      ? `no answer within ${client.providerTimeoutMs} ms`
      : `unreachable (${(error as Error).message})`;
    throw new ProviderApiError(0, reason, [], request.method, url, { cause: error });
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) throw await apiError(response, request.method, url);
  return response;
}

/** {@link providerFetch} and the JSON body. */
export async function providerJson<T>(
  client: PodnetClient,
  action: string,
  target: { provider: Address; endpoint: string },
  request: ProviderRequest,
): Promise<T> {
  const response = await providerFetch(client, action, target, request);
  try {
    return (await response.json()) as T;
  } catch (error) {
    throw new ProviderApiError(response.status, "answer is not JSON", [], request.method, response.url, {
      cause: error,
    });
  }
}

async function apiError(response: Response, method: string, url: string): Promise<ProviderApiError> {
  let message = response.statusText || "error";
  let issues: ManifestIssue[] = [];
  if (method !== "HEAD") {
    const text = await response.text().catch(() => "");
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      if (text) message = text.slice(0, 500);
    }
    const error = parseApiErrorBody(json);
    if (error) {
      message = error.message;
      issues = error.issues ?? [];
    }
  }
  const retryAfter = retryAfterSeconds(response.headers.get("retry-after"));
  return new ProviderApiError(response.status, message, issues, method, url, {
    ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
  });
}
