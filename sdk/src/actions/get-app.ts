import { type Address, erc20Abi, type GetLogsErrorType, type Hex, type ReadContractErrorType } from "viem";
import type { PodnetClient } from "../client.js";
import { type ErrorType, InvalidParameterError, type InvalidParameterErrorType } from "../errors.js";
import { type AppLimits, appVaultAbi } from "../protocol/index.js";
import { appFactory, vaultAddress } from "./internal/app-vault.js";
import { addresses } from "./internal/chain.js";

export type GetAppParameters = {
  vault: Address;
  /**
   * Reads the app as it was at this block (default: the latest). Every read of the answer is made at one block, so it
   * is consistent with reads of the same block elsewhere (`getLease`'s `blockNumber`): an autoscaler's pass judges each
   * slot's lease as of the block its slots were read at, never a lease the owner cleared between two reads.
   */
  blockNumber?: bigint;
};

export type AppSlot = {
  slot: number;
  /** 0: empty. The lease may have ended since it was placed (`getLease`). */
  leaseId: bigint;
};

export type GetAppReturnType = {
  vault: Address;
  /** The block every field was read at. */
  blockNumber: bigint;
  owner: Address;
  /** The owner a transfer waits on, else the zero address. */
  pendingOwner: Address;
  specHash: Hex;
  configHash: Hex;
  limits: AppLimits;
  /** Current controllers (from `ControllerSet` events, each confirmed on chain). */
  controllers: Address[];
  /** Slots 0 .. maxInstances-1, and any slot above a lowered maxInstances that still holds a lease. */
  slots: AppSlot[];
  /** Orders opened and not yet matched or cancelled. */
  openOrders: bigint;
  /** The app's balance: the vault's token balance (base units). */
  balance: bigint;
};

export type GetAppErrorType = InvalidParameterErrorType | ReadContractErrorType | GetLogsErrorType | ErrorType;

/**
 * Reads an app from its vault: owner, spec and config hashes, limits, controllers, instance slots and balance.
 *
 * @throws {InvalidParameterError} when `vault` is not an app of this deployment's factory.
 * @example
 * const app = await client.getApp({ vault });
 * console.log(app.balance, app.slots.filter((s) => s.leaseId !== 0n).length);
 */
export async function getApp(client: PodnetClient, params: GetAppParameters): Promise<GetAppReturnType> {
  const vault = vaultAddress(params.vault);
  const factory = appFactory(client);
  // Every read at one block: the one asked for, else the latest as this call starts.
  const blockNumber = params.blockNumber ?? (await client.publicClient.getBlockNumber({ cacheTime: 0 }));
  const read = <
    const name extends "factory" | "owner" | "pendingOwner" | "specHash" | "configHash" | "limits" | "openOrders",
  >(
    functionName: name,
  ) => client.publicClient.readContract({ address: vault, abi: appVaultAbi, functionName, blockNumber });
  const madeBy = await read("factory").catch(() => undefined);
  if (madeBy?.toLowerCase() !== factory.address.toLowerCase()) {
    throw new InvalidParameterError("vault", `${vault} is not an app of this deployment (factory ${factory.address})`);
  }
  const [owner, pendingOwner, specHash, configHash, limits, openOrders, balance, controllerLogs, slotLogs] =
    await Promise.all([
      read("owner"),
      read("pendingOwner"),
      read("specHash"),
      read("configHash"),
      read("limits"),
      read("openOrders"),
      client.publicClient.readContract({
        address: addresses(client).token,
        abi: erc20Abi,
        functionName: "balanceOf",
        args: [vault],
        blockNumber,
      }),
      client.publicClient.getContractEvents({
        address: vault,
        abi: appVaultAbi,
        eventName: "ControllerSet",
        fromBlock: factory.blockNumber,
        toBlock: blockNumber,
      }),
      client.publicClient.getContractEvents({
        address: vault,
        abi: appVaultAbi,
        eventName: "SlotReplaced",
        fromBlock: factory.blockNumber,
        toBlock: blockNumber,
      }),
    ]);
  const named = [...new Set(controllerLogs.map((log) => log.args.controller as Address))];
  const isController = await Promise.all(
    named.map((account) =>
      client.publicClient.readContract({
        address: vault,
        abi: appVaultAbi,
        functionName: "isController",
        args: [account],
        blockNumber,
      }),
    ),
  );
  // Slots above a lowered maxInstances can still hold leases: the events name every slot ever filled.
  const indices = new Set<number>(Array.from({ length: limits.maxInstances }, (_, i) => i));
  for (const log of slotLogs) indices.add(Number(log.args.slot));
  const sorted = [...indices].sort((a, b) => a - b);
  const leases = await Promise.all(
    sorted.map((slot) =>
      client.publicClient.readContract({
        address: vault,
        abi: appVaultAbi,
        functionName: "leaseOf",
        args: [BigInt(slot)],
        blockNumber,
      }),
    ),
  );
  const slots = sorted
    .map((slot, i) => ({ slot, leaseId: leases[i] as bigint }))
    .filter((s) => s.slot < limits.maxInstances || s.leaseId !== 0n);
  return {
    vault,
    blockNumber,
    owner,
    pendingOwner,
    specHash,
    configHash,
    limits: {
      maxPricePerSecond: limits.maxPricePerSecond,
      maxDepositPerLease: limits.maxDepositPerLease,
      maxInstances: limits.maxInstances,
    },
    controllers: named.filter((_, i) => isController[i]),
    slots,
    openOrders,
    balance,
  };
}
