import type { Address, ReadContractErrorType } from "viem";
import type { PodnetClient } from "../client.js";
import type { ErrorType, InvalidParameterErrorType } from "../errors.js";
import { appVaultAbi } from "../protocol/index.js";
import { vaultAddress } from "./internal/app-vault.js";
import type { AppNetworkTerms } from "./set-app-network-terms.js";

export type GetAppNetworkTermsParameters = {
  vault: Address;
};

export type GetAppNetworkTermsReturnType = AppNetworkTerms & {
  /** The AutoscalerNetwork whose live nodes the vault accepts (the zero address when it has none). */
  network: Address;
};

export type GetAppNetworkTermsErrorType = InvalidParameterErrorType | ReadContractErrorType | ErrorType;

/**
 * An app's network-mode terms and the network its vault trusts.
 *
 * @example
 * const terms = await client.getAppNetworkTerms({ vault });
 * if (terms.enabled) console.log("served by the network", terms.network);
 */
export async function getAppNetworkTerms(
  client: PodnetClient,
  params: GetAppNetworkTermsParameters,
): Promise<GetAppNetworkTermsReturnType> {
  const address = vaultAddress(params.vault);
  const [terms, network] = await Promise.all([
    client.publicClient.readContract({ address, abi: appVaultAbi, functionName: "networkTerms" }),
    client.publicClient.readContract({ address, abi: appVaultAbi, functionName: "network" }),
  ]);
  return {
    enabled: terms.enabled,
    feePerReplacement: terms.feePerReplacement,
    maxFeesPerDay: terms.maxFeesPerDay,
    network,
  };
}
