import type { Address, Hash, Hex } from "viem";
import type { PodnetClient } from "../client.js";
import type { ContractErrorType, ErrorType, InvalidParameterErrorType } from "../errors.js";
import { bytes32 } from "./create-app.js";
import { vaultAddress, writeVault } from "./internal/app-vault.js";
import type { WriteAndWaitErrorType } from "./internal/chain.js";

export type SetAppConfigParameters = {
  vault: Address;
  /** `appConfigHash` of the new app.yaml. */
  configHash: Hex;
};

export type SetAppConfigReturnType = { txHash: Hash };

export type SetAppConfigErrorType = InvalidParameterErrorType | WriteAndWaitErrorType | ContractErrorType | ErrorType;

/**
 * Records the hash of an app's new selection config (owner only). The limits it implies are set separately
 * (`setAppLimits`): the vault enforces limits, not the config.
 *
 * @throws {ContractError} `VaultNotOwner`.
 * @example
 * await client.setAppConfig({ vault, configHash: appConfigHash(config) });
 */
export async function setAppConfig(
  client: PodnetClient,
  params: SetAppConfigParameters,
): Promise<SetAppConfigReturnType> {
  const configHash = bytes32("configHash", params.configHash);
  const receipt = await writeVault(client, "setAppConfig", vaultAddress(params.vault), "setConfig", [configHash]);
  return { txHash: receipt.transactionHash };
}
