import { type Address, type Hash, type Hex, isHex, parseEventLogs } from "viem";
import type { PodnetClient } from "../client.js";
import {
  ContractError,
  type ContractErrorType,
  type ErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
} from "../errors.js";
import { type AppLimits, appVaultFactoryAbi } from "../protocol/index.js";
import { appFactory, appVaultFactoryCallAbi, explainVaultError, vaultAddress } from "./internal/app-vault.js";
import { type WriteAndWaitErrorType, writeAndWait } from "./internal/chain.js";
import { requireWallet } from "./internal/wallet.js";

export type CreateAppParameters = {
  /** Picked by the owner: with the owner's address it fixes the app's address (`predictAppAddress`). */
  salt: Hex;
  /** The pod spec its leases must run (`manifestHash` of pod.yaml). */
  specHash: Hex;
  /** The selection config's hash (`appConfigHash` of app.yaml). */
  configHash: Hex;
  /** What controllers may spend (`appConfigLimits` of app.yaml). */
  limits: AppLimits;
  /** The first controllers (the autoscalers' keys); more can be added with `setAppController`. */
  controllers?: Address[];
};

export type CreateAppReturnType = {
  vault: Address;
  txHash: Hash;
};

export type CreateAppErrorType = InvalidParameterErrorType | WriteAndWaitErrorType | ContractErrorType | ErrorType;

const UINT96_MAX = (1n << 96n) - 1n;

/** Checks `AppLimits` against the vault's types (uint96, uint96, uint16), naming the bad field. */
export function checkAppLimits(limits: AppLimits): AppLimits {
  for (const field of ["maxPricePerSecond", "maxDepositPerLease"] as const) {
    const value = limits[field];
    if (typeof value !== "bigint" || value < 0n || value > UINT96_MAX) {
      throw new InvalidParameterError(`limits.${field}`, `must be a bigint in 0..2^96-1, got ${String(value)}`);
    }
  }
  if (!Number.isInteger(limits.maxInstances) || limits.maxInstances < 0 || limits.maxInstances > 65_535) {
    throw new InvalidParameterError(
      "limits.maxInstances",
      `must be an integer in 0..65535, got ${limits.maxInstances}`,
    );
  }
  return limits;
}

/** A checked bytes32 parameter. */
export function bytes32(name: string, value: Hex): Hex {
  if (!isHex(value, { strict: true }) || value.length !== 66) {
    throw new InvalidParameterError(name, `must be 32 bytes of hex (0x + 64 digits), got ${String(value)}`);
  }
  return value;
}

/**
 * Creates an app: an AppVault owned by the wallet account at `predictAppAddress({ owner, salt })`, for the pod spec
 * `specHash`, with the config hash, spending limits and first controllers given. Fund it with `fundApp`.
 *
 * @throws {ContractError} e.g. `VaultFactoryAppExists` (this salt was used by this owner), `VaultZeroSpecHash`.
 * @example
 * const config = parseAppYaml(readFileSync("app.yaml", "utf8"));
 * const { vault } = await client.createApp({ salt: keccak256(toBytes("web")), specHash: manifestHash(manifest),
 *   configHash: appConfigHash(config), limits: appConfigLimits(config), controllers: [autoscaler] });
 */
export async function createApp(client: PodnetClient, params: CreateAppParameters): Promise<CreateAppReturnType> {
  const salt = bytes32("salt", params.salt);
  const specHash = bytes32("specHash", params.specHash);
  if (/^0x0{64}$/.test(specHash))
    throw new InvalidParameterError("specHash", "must not be zero: an app needs a pod spec");
  const configHash = bytes32("configHash", params.configHash);
  const limits = checkAppLimits(params.limits);
  const controllers = (params.controllers ?? []).map((c, i) => {
    try {
      return vaultAddress(c);
    } catch {
      throw new InvalidParameterError(`controllers[${i}]`, `"${String(c)}" is not a 0x address`);
    }
  });
  requireWallet(client, "createApp");
  let receipt: Awaited<ReturnType<typeof writeAndWait>>;
  try {
    receipt = await writeAndWait(client, "createApp", {
      address: appFactory(client).address,
      abi: appVaultFactoryCallAbi,
      functionName: "createApp",
      args: [salt, specHash, configHash, limits, controllers],
    });
  } catch (error) {
    throw explainVaultError(error);
  }
  const [created] = parseEventLogs({ abi: appVaultFactoryAbi, eventName: "AppCreated", logs: receipt.logs });
  if (!created) {
    throw new ContractError(
      "createApp",
      undefined,
      undefined,
      "mined without an AppCreated event",
      receipt.transactionHash,
    );
  }
  return { vault: created.args.vault, txHash: receipt.transactionHash };
}
