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

/** A provider endpoint from the registry, without a trailing slash. */
export function baseUrl(endpoint: string): string {
  return endpoint.replace(/\/+$/, "");
}

/**
 * Calls a provider API route. Publisher routes are signed with `signRequest` through the wallet client. Anything but
 * a 2xx becomes a {@link ProviderApiError} with the API's error body (`ApiErrorBody`: `{error: {status, message, issues}}`).
 */
export async function providerFetch(
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
  let response: Response;
  try {
    response = await client.fetch(url, {
      method: request.method,
      headers,
      body: body ?? (request.unsignedBody as RequestInit["body"]),
      signal: request.signal,
      ...(request.unsignedBody instanceof ReadableStream ? { duplex: "half" } : {}),
    } as RequestInit);
  } catch (error) {
    if (request.signal?.aborted) throw error;
    throw new ProviderApiError(0, `unreachable (${(error as Error).message})`, [], request.method, url, {
      cause: error,
    });
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
  return new ProviderApiError(response.status, message, issues, method, url);
}
