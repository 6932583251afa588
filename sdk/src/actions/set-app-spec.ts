import type { Address, Hash, Hex } from "viem";
import type { PodnetClient } from "../client.js";
import {
  type ContractErrorType,
  type ErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
} from "../errors.js";
import { bytes32 } from "./create-app.js";
import { vaultAddress, writeVault } from "./internal/app-vault.js";
import type { WriteAndWaitErrorType } from "./internal/chain.js";

export type SetAppSpecParameters = {
  vault: Address;
  /** `manifestHash` of the new pod.yaml. */
  specHash: Hex;
};

export type SetAppSpecReturnType = { txHash: Hash };

export type SetAppSpecErrorType = InvalidParameterErrorType | WriteAndWaitErrorType | ContractErrorType | ErrorType;

/**
 * Points an app at a new pod spec (owner only). Running leases keep theirs until a controller calls
 * `updateLeaseSpec`; new leases and orders must be for the new one.
 *
 * @throws {ContractError} `VaultNotOwner`, `VaultZeroSpecHash`.
 * @example
 * await client.setAppSpec({ vault, specHash: manifestHash(manifest) });
 */
export async function setAppSpec(client: PodnetClient, params: SetAppSpecParameters): Promise<SetAppSpecReturnType> {
  const specHash = bytes32("specHash", params.specHash);
  if (/^0x0{64}$/.test(specHash))
    throw new InvalidParameterError("specHash", "must not be zero: an app needs a pod spec");
  const receipt = await writeVault(client, "setAppSpec", vaultAddress(params.vault), "setSpec", [specHash]);
  return { txHash: receipt.transactionHash };
}
