import type { Address, Hash } from "viem";
import type { PodnetClient } from "../client.js";
import {
  type ContractErrorType,
  type ErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
} from "../errors.js";
import { vaultAddress, writeVault } from "./internal/app-vault.js";
import type { WriteAndWaitErrorType } from "./internal/chain.js";

export type SetAppControllerParameters = {
  vault: Address;
  controller: Address;
  /** true: the controller may spend within the limits and sign provider-API requests for the app; false: no more. */
  allowed: boolean;
};

export type SetAppControllerReturnType = { txHash: Hash };

export type SetAppControllerErrorType =
  | InvalidParameterErrorType
  | WriteAndWaitErrorType
  | ContractErrorType
  | ErrorType;

/**
 * Adds or removes a controller of an app (owner only), e.g. an autoscaler's key.
 *
 * @throws {ContractError} `VaultNotOwner`, `VaultZeroAddress`.
 * @example
 * await client.setAppController({ vault, controller: autoscaler, allowed: true });
 */
export async function setAppController(
  client: PodnetClient,
  params: SetAppControllerParameters,
): Promise<SetAppControllerReturnType> {
  let controller: Address;
  try {
    controller = vaultAddress(params.controller);
  } catch {
    throw new InvalidParameterError("controller", `"${String(params.controller)}" is not a 0x address`);
  }
  if (typeof params.allowed !== "boolean") throw new InvalidParameterError("allowed", "must be true or false");
  const receipt = await writeVault(client, "setAppController", vaultAddress(params.vault), "setController", [
    controller,
    params.allowed,
  ]);
  return { txHash: receipt.transactionHash };
}
