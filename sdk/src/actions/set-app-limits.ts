import type { Address, Hash } from "viem";
import type { PodnetClient } from "../client.js";
import type { ContractErrorType, ErrorType, InvalidParameterErrorType } from "../errors.js";
import type { AppLimits } from "../protocol/index.js";
import { checkAppLimits } from "./create-app.js";
import { vaultAddress, writeVault } from "./internal/app-vault.js";
import type { WriteAndWaitErrorType } from "./internal/chain.js";

export type SetAppLimitsParameters = {
  vault: Address;
  /** Replaces the limits (`appConfigLimits` of app.yaml). */
  limits: AppLimits;
};

export type SetAppLimitsReturnType = { txHash: Hash };

export type SetAppLimitsErrorType = InvalidParameterErrorType | WriteAndWaitErrorType | ContractErrorType | ErrorType;

/**
 * Replaces an app's spending limits (owner only). Running leases are not touched; every later spend is checked against
 * the new limits, and slots at or above a lowered `maxInstances` can only be cleared.
 *
 * @throws {ContractError} `VaultNotOwner` when the wallet is not the owner.
 * @example
 * await client.setAppLimits({ vault, limits: appConfigLimits(config) });
 */
export async function setAppLimits(
  client: PodnetClient,
  params: SetAppLimitsParameters,
): Promise<SetAppLimitsReturnType> {
  const limits = checkAppLimits(params.limits);
  const receipt = await writeVault(client, "setAppLimits", vaultAddress(params.vault), "setLimits", [limits]);
  return { txHash: receipt.transactionHash };
}
