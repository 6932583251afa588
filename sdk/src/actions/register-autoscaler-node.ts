import type { Hash } from "viem";
import type { PodnetClient } from "../client.js";
import type { ContractErrorType, ErrorType, InvalidParameterErrorType } from "../errors.js";
import {
  type AutoscalerNodeProfile,
  encodeNodeProfile,
  networkContract,
  writeNetwork,
} from "./internal/autoscaler-network.js";
import { type EnsureAllowanceErrorType, ensureAllowance, uint96 } from "./internal/chain.js";

export type RegisterAutoscalerNodeParameters = AutoscalerNodeProfile & {
  /** Token base units staked (at least the network's `minStake`), pulled from the wallet. */
  stake: bigint;
  /** Approve exactly `stake` when the allowance is short (default true). */
  approve?: boolean;
};

export type RegisterAutoscalerNodeReturnType = { txHash: Hash; approveTxHash?: Hash };

export type RegisterAutoscalerNodeErrorType =
  | InvalidParameterErrorType
  | EnsureAllowanceErrorType
  | ContractErrorType
  | ErrorType;

/**
 * Registers the wallet's account as an autoscaler node of the deployment's AutoscalerNetwork with its profile and
 * stake (an exact approval first when the allowance is short). Registering counts as the node's first heartbeat.
 *
 * @throws {InvalidParameterError} naming `endpoint`, `encryptionKey`, `dnsIpv4`, `dnsIpv6` or `stake` when invalid.
 * @throws {ContractError} `NetworkStakeTooLow`, `NetworkAlreadyRegistered`, ...
 * @example
 * await client.registerAutoscalerNode({ endpoint: "https://node.example", encryptionKey, stake: 1_000n * TOKEN });
 */
export async function registerAutoscalerNode(
  client: PodnetClient,
  params: RegisterAutoscalerNodeParameters,
): Promise<RegisterAutoscalerNodeReturnType> {
  const profile = encodeNodeProfile(params);
  const stake = uint96("stake", params.stake);
  const { approveTxHash } = await ensureAllowance(
    client,
    "registerAutoscalerNode",
    networkContract(client).address,
    stake,
    params.approve ?? true,
  );
  const receipt = await writeNetwork(client, "registerAutoscalerNode", "register", [profile, stake]);
  return { txHash: receipt.transactionHash, ...(approveTxHash ? { approveTxHash } : {}) };
}
