import type { Address, Hash } from "viem";
import type { PodnetClient } from "../client.js";
import {
  type ContractErrorType,
  type ErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
} from "../errors.js";
import { appVaultAbi } from "../protocol/index.js";
import { explainVaultError, vaultAddress } from "./internal/app-vault.js";
import { type WriteAndWaitErrorType, writeAndWait } from "./internal/chain.js";

export type AppNetworkTerms = {
  /** Live nodes of the deployment's AutoscalerNetwork may act as the app's controllers. */
  enabled: boolean;
  /** Token base units paid to the node for each lease it places into a slot. */
  feePerReplacement: bigint;
  /** Most fees paid in one UTC day (base units). */
  maxFeesPerDay: bigint;
};

export type SetAppNetworkTermsParameters = { vault: Address } & AppNetworkTerms;

export type SetAppNetworkTermsReturnType = { txHash: Hash };

export type SetAppNetworkTermsErrorType =
  | InvalidParameterErrorType
  | WriteAndWaitErrorType
  | ContractErrorType
  | ErrorType;

const MAX_UINT96 = (1n << 96n) - 1n;

function fee(name: string, value: bigint): bigint {
  if (typeof value !== "bigint") throw new InvalidParameterError(name, "must be a bigint (token base units)");
  if (value < 0n || value > MAX_UINT96) throw new InvalidParameterError(name, `must be in 0..2^96-1, got ${value}`);
  return value;
}

/**
 * Puts an app into network mode, changes its fees, or takes it out (owner only): with `enabled`, every live node of the
 * AutoscalerNetwork passes the vault's controller check (within the app's limits, as any controller) and is paid
 * `feePerReplacement` for each lease it places, at most `maxFeesPerDay` a day.
 *
 * @throws {ContractError} `VaultNotOwner` when the wallet is not the owner.
 * @example
 * await client.setAppNetworkTerms({ vault, enabled: true, feePerReplacement: 1_000n, maxFeesPerDay: 10_000n });
 */
export async function setAppNetworkTerms(
  client: PodnetClient,
  params: SetAppNetworkTermsParameters,
): Promise<SetAppNetworkTermsReturnType> {
  const vault = vaultAddress(params.vault);
  if (typeof params.enabled !== "boolean") throw new InvalidParameterError("enabled", "must be true or false");
  const terms = {
    enabled: params.enabled,
    feePerReplacement: fee("feePerReplacement", params.feePerReplacement),
    maxFeesPerDay: fee("maxFeesPerDay", params.maxFeesPerDay),
  };
  try {
    const receipt = await writeAndWait(client, "setAppNetworkTerms", {
      address: vault,
      abi: appVaultAbi,
      functionName: "setNetworkTerms",
      args: [terms],
    });
    return { txHash: receipt.transactionHash };
  } catch (error) {
    throw explainVaultError(error);
  }
}
