import type { PodnetClient } from "../client.js";
import type { ErrorType } from "../errors.js";
import { type PodStatusResponse, providerApiPaths } from "../protocol/index.js";
import { type LeaseTargetErrorType, leaseTarget } from "./internal/lease.js";
import { type ProviderFetchErrorType, providerJson } from "./internal/provider-api.js";

export type GetPodStatusParameters = {
  leaseId: bigint;
};

export type { PodPhase } from "../protocol/index.js";

export type GetPodStatusReturnType = Omit<PodStatusResponse, "leaseId"> & { leaseId: bigint };

export type GetPodStatusErrorType = LeaseTargetErrorType | ProviderFetchErrorType | ErrorType;

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
  const status = await providerJson<PodStatusResponse>(client, "getPodStatus", target, {
    method: "GET",
    path: providerApiPaths.status(params.leaseId),
    signed: true,
  });
  return { ...status, leaseId: BigInt(status.leaseId) };
}
