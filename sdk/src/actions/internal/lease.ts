import { type Address, isAddressEqual } from "viem";
import type { PodnetClient } from "../../client.js";
import { NotPublisherError, type NotPublisherErrorType, PodnetError, type PodnetErrorType } from "../../errors.js";
import { type GetLeaseErrorType, type GetLeaseReturnType, getLease } from "../get-lease.js";
import { type GetProviderErrorType, type GetProviderReturnType, getProvider } from "../get-provider.js";
import { type RequireWalletErrorType, requireWallet } from "./wallet.js";

export type LeaseTargetErrorType =
  | RequireWalletErrorType
  | NotPublisherErrorType
  | GetLeaseErrorType
  | GetProviderErrorType;

/** With `active`, also a PodnetError (code NOT_FOUND) when the lease has ended. */
export type ActiveLeaseTargetErrorType = LeaseTargetErrorType | PodnetErrorType;

export interface LeaseTarget {
  lease: GetLeaseReturnType;
  provider: GetProviderReturnType;
  /** For providerFetch. */
  target: { provider: Address; endpoint: string };
}

/**
 * A lease of the wallet account and its provider's listing: what every publisher call to a provider API needs.
 * Refuses early (nothing sent) when the wallet is not the lease's publisher and the publisher has no code, or when
 * `active` is asked and the lease has ended. A publisher with code (an app's AppVault) acts through the keys it vouches
 * for (the app's owner and controllers): the wallet signs as usual and the provider asks the contract (ERC-1271).
 */
export async function leaseTarget(
  client: PodnetClient,
  action: string,
  leaseId: bigint,
  { active = false, endpoint }: { active?: boolean; endpoint?: string } = {},
): Promise<LeaseTarget> {
  const { address } = requireWallet(client, action);
  const lease = await getLease(client, { leaseId });
  if (!isAddressEqual(lease.publisher, address) && !(await hasCode(client, lease.publisher))) {
    throw new NotPublisherError(`lease ${leaseId}`, lease.publisher, address);
  }
  if (active && lease.status !== "active") {
    throw new PodnetError("NOT_FOUND", `${action}: lease ${leaseId} has ended (closed at ${lease.endedAt})`);
  }
  const provider = await getProvider(client, { address: lease.provider });
  return { lease, provider, target: { provider: provider.address, endpoint: endpoint ?? provider.endpoint } };
}

async function hasCode(client: PodnetClient, address: Address): Promise<boolean> {
  const code = await client.publicClient.getCode({ address });
  return code !== undefined && code !== "0x";
}
