import type { PodnetClient } from "../client.js";
import type { ErrorType } from "../errors.js";
import type { PodEvent, PodEventsResponse } from "../protocol/index.js";
import { providerApiPaths } from "../protocol/index.js";
import { type LeaseTargetErrorType, leaseTarget } from "./internal/lease.js";
import { type ProviderFetchErrorType, providerJson } from "./internal/provider-api.js";

export type GetPodEventsParameters = {
  leaseId: bigint;
};

/** One entry of a pod's event log (`lease-created`, `manifest`, `running`, `updated`, `failed`, `removed`, ...). */
export type { PodEvent };

export type GetPodEventsReturnType = PodEvent[];

export type GetPodEventsErrorType = LeaseTargetErrorType | ProviderFetchErrorType | ErrorType;

/**
 * The pod's event log at its provider (signed GET `/v1/leases/<id>/events`), oldest first.
 *
 * @example
 * for (const e of await client.getPodEvents({ leaseId })) console.log(new Date(e.at * 1000), e.type, e.message);
 */
export async function getPodEvents(
  client: PodnetClient,
  params: GetPodEventsParameters,
): Promise<GetPodEventsReturnType> {
  const { target } = await leaseTarget(client, "getPodEvents", params.leaseId);
  const { events } = await providerJson<PodEventsResponse>(client, "getPodEvents", target, {
    method: "GET",
    path: providerApiPaths.events(params.leaseId),
    signed: true,
  });
  return events;
}
