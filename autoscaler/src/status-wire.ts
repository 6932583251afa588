import { isIP } from "node:net";
import type { IngressAddress } from "@podnet/sdk/protocol";
import { type Address, getAddress, isAddress } from "viem";
import { z } from "zod";

/**
 * The JSON of the autoscaler's `GET /status`: what it serves (reconciler.ts builds it) and what `podnet-dns` and
 * `podnet-lb` read from one or more autoscalers. One declaration for both ends; a reader validates every answer,
 * because a status URL is configuration that may point at anything.
 */

export type InstanceHealth = "healthy" | "starting" | "failing" | "replacing";

/** One row of `GET /status`. */
export interface InstanceStatus {
  slot: number;
  leaseId: string;
  provider: Address;
  /** The pod's HTTP route through the provider's ingress, when known. */
  hostUrl: string | null;
  tcp: { host: string; port: number } | null;
  /** Where the provider's ingress listens, as it published in the registry; null when it published none. */
  ingress: IngressAddress | null;
  health: InstanceHealth;
  lastProbe: { at: string; ok: boolean; detail: string } | null;
}

export interface AppStatus {
  vault: Address;
  /** The chain the leases live on (a host proof names `lease=<chainId>:<leaseId>`). */
  chainId: number;
  desired: number;
  instances: InstanceStatus[];
  /** Why the app is not where app.yaml wants it (cannot place, spec mismatch, ...); empty when it is. */
  problems: string[];
  /** ISO time of the last finished pass. */
  lastPass: string | null;
}

const address = z
  .string()
  .refine((value) => isAddress(value, { strict: false }), "not an address")
  .transform((value) => getAddress(value));
const port = z.number().int().min(1).max(65535);
const ingressSchema = z.object({
  addresses: z.array(z.string().refine((value) => isIP(value) !== 0, "not an IP address")).max(16),
  port,
});
const instanceSchema = z.object({
  slot: z.number().int().min(0),
  leaseId: z.string().regex(/^[0-9]{1,78}$/, "not a decimal lease id"),
  provider: address,
  hostUrl: z.string().url().nullable(),
  tcp: z.object({ host: z.string().min(1).max(253), port }).nullable(),
  ingress: ingressSchema.nullable(),
  health: z.enum(["healthy", "starting", "failing", "replacing"]),
  lastProbe: z.object({ at: z.string(), ok: z.boolean(), detail: z.string() }).nullable(),
});
const appStatusSchema = z.object({
  vault: address,
  chainId: z.number().int().positive(),
  desired: z.number().int().min(0),
  instances: z.array(instanceSchema).max(1024),
  problems: z.array(z.string()),
  lastPass: z.string().nullable(),
});

/** Parses a `/status` body; throws an Error naming the first bad field (`instances.0.ingress.port: ...`). */
export function parseAppStatus(json: unknown): AppStatus {
  const result = appStatusSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`status ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
  }
  return result.data;
}

/** Largest `/status` body read (a status URL may point at anything). */
const MAX_STATUS_BYTES = 4 * 1024 * 1024;

/** Fetches and validates an autoscaler's `/status`; throws with the URL and the reason on any failure. */
export async function fetchAppStatus(url: string, timeoutMs = 2000): Promise<AppStatus> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
  } catch (error) {
    throw new Error(`${url}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const length = Number(response.headers.get("content-length") ?? 0);
  if (length > MAX_STATUS_BYTES) throw new Error(`${url}: body of ${length} bytes is over ${MAX_STATUS_BYTES}`);
  // Read with a running count: `response.text()` would buffer an endless body (no content-length) without limit, and
  // the timeout does not stop a body that keeps coming.
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  try {
    for (;;) {
      const next = await reader?.read();
      if (!next || next.done) break;
      size += next.value.byteLength;
      if (size > MAX_STATUS_BYTES) {
        await reader?.cancel();
        throw new Error(`${url}: body is over ${MAX_STATUS_BYTES} bytes`);
      }
      chunks.push(next.value);
    }
  } catch (error) {
    throw new Error(
      (error as Error).message.startsWith(url) ? (error as Error).message : `${url}: ${(error as Error).message}`,
    );
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return parseAppStatus(JSON.parse(text));
  } catch (error) {
    throw new Error(`${url}: ${(error as Error).message}`);
  }
}

/**
 * The instances an app's name should route to: the healthy ones; when none is healthy, every instance (fail open: a
 * wrong "all down" from a probe path must not take the app off the net, and a dead address costs a client a retry).
 */
export function routableInstances(status: AppStatus): InstanceStatus[] {
  const healthy = status.instances.filter((instance) => instance.health === "healthy");
  return healthy.length > 0 ? healthy : status.instances;
}
