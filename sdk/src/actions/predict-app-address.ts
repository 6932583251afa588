import type { Address, Hex, ReadContractErrorType } from "viem";
import type { PodnetClient } from "../client.js";
import type { ErrorType, InvalidParameterErrorType } from "../errors.js";
import { appVaultFactoryAbi } from "../protocol/index.js";
import { bytes32 } from "./create-app.js";
import { appFactory, vaultAddress } from "./internal/app-vault.js";
import { requireWallet } from "./internal/wallet.js";

export type PredictAppAddressParameters = {
  /** Default: the wallet account. */
  owner?: Address;
  salt: Hex;
};

export type PredictAppAddressReturnType = Address;

export type PredictAppAddressErrorType = InvalidParameterErrorType | ReadContractErrorType | ErrorType;

/**
 * The address of the app `owner` creates (or created) with `salt`, from the factory: known before the app exists.
 *
 * @example
 * const vault = await client.predictAppAddress({ salt: keccak256(toBytes("web")) });
 */
export async function predictAppAddress(
  client: PodnetClient,
  params: PredictAppAddressParameters,
): Promise<PredictAppAddressReturnType> {
  const owner = params.owner ?? requireWallet(client, "predictAppAddress").address;
  return client.publicClient.readContract({
    address: appFactory(client).address,
    abi: appVaultFactoryAbi,
    functionName: "predictApp",
    args: [vaultAddress(owner), bytes32("salt", params.salt)],
  });
}
