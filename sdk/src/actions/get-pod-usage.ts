import type { PodnetClient } from "../client.js";
import type { ErrorType } from "../errors.js";
import { type ContainerUsage, type PodUsageResponse, providerApiPaths } from "../protocol/index.js";
import { type LeaseTargetErrorType, leaseTarget } from "./internal/lease.js";
import { type ProviderFetchErrorType, providerJson } from "./internal/provider-api.js";

export type GetPodUsageParameters = {
  leaseId: bigint;
};

export type GetPodUsageReturnType = {
  leaseId: bigint;
  /** Running containers only. */
  containers: ContainerUsage[];
};

export type GetPodUsageErrorType = LeaseTargetErrorType | ProviderFetchErrorType | ErrorType;

/**
 * CPU, memory, network and process counts of the pod's running containers, from Docker stats at the provider
 * (signed GET `/v1/leases/<id>/usage`).
 *
 * @example
 * const { containers } = await client.getPodUsage({ leaseId });
 * for (const c of containers) console.log(c.name, c.cpuPercent, c.memoryBytes / c.memoryLimitBytes);
 */
export async function getPodUsage(client: PodnetClient, params: GetPodUsageParameters): Promise<GetPodUsageReturnType> {
  const { target } = await leaseTarget(client, "getPodUsage", params.leaseId);
  const usage = await providerJson<PodUsageResponse>(client, "getPodUsage", target, {
    method: "GET",
    path: providerApiPaths.usage(params.leaseId),
    signed: true,
  });
  return {
    leaseId: BigInt(usage.leaseId),
    containers: usage.containers.map((c) => ({ ...c, cpuNanos: BigInt(c.cpuNanos) })),
  };
}
