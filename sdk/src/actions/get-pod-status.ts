import type { Address, Hex } from "viem";
import type { PodnetClient } from "../client.js";
import { providerApiPaths } from "../protocol/index.js";
import type { PodEvent } from "./get-pod-events.js";
import { leaseTarget } from "./internal/lease.js";
import { providerJson } from "./internal/provider-api.js";

export type GetPodStatusParameters = {
  leaseId: bigint;
};

/** Where the provider is with the pod. */
export type PodPhase =
  | { phase: "waiting-manifest" }
  | { phase: "provisioning"; since: number }
  | { phase: "running"; since: number }
  | { phase: "failed"; reason: string; at: number }
  | { phase: "stopped"; reason?: string };

export type GetPodStatusReturnType = {
  leaseId: bigint;
  publisher: Address;
  /** The lease's spec on chain. */
  specHash: Hex;
  status: "active" | "closed";
  /** Unix seconds when the escrow runs dry, as the provider last computed it. */
  runsOutAt: number | null;
  pod: PodPhase;
  /** Spec of the manifest the provider holds (null before one arrived). */
  manifestSpecHash: Hex | null;
  containers: { name: string; replica: number; specHash: Hex; state: string; image: string }[];
  /** HTTP routes through the provider's ingress. */
  http: { host: string; url: string }[];
  /** Host ports of TCP exposes. */
  tcp: { container: string; port: number; replica: number; hostPort: number }[];
  /** The most recent events. */
  events: PodEvent[];
};

/**
 * The pod's phase, containers, HTTP URLs, TCP host ports and recent events, from the provider API (signed GET
 * `/v1/leases/<id>`).
 *
 * @example
 * const status = await client.getPodStatus({ leaseId });
 * if (status.pod.phase === "running") console.log(status.http[0]?.url);
 */
export async function getPodStatus(
  client: PodnetClient,
  params: GetPodStatusParameters,
): Promise<GetPodStatusReturnType> {
  const { target } = await leaseTarget(client, "getPodStatus", params.leaseId);
  const status = await providerJson<Omit<GetPodStatusReturnType, "leaseId"> & { leaseId: string }>(
    client,
    "getPodStatus",
    target,
    { method: "GET", path: providerApiPaths.status(params.leaseId), signed: true },
  );
  return { ...status, leaseId: BigInt(status.leaseId) };
}
