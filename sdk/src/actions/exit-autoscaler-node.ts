import type { Hash } from "viem";
import type { PodnetClient } from "../client.js";
import type { ContractErrorType, ErrorType } from "../errors.js";
import { writeNetwork } from "./internal/autoscaler-network.js";
import type { WriteAndWaitErrorType } from "./internal/chain.js";

export type ExitAutoscalerNodeReturnType = { txHash: Hash };

export type ExitAutoscalerNodeErrorType = WriteAndWaitErrorType | ContractErrorType | ErrorType;

/**
 * The wallet's node leaves the network (`startExit()`): not live from this block on, so its apps move to other nodes;
 * its stake can be withdrawn after the network's `exitDelay` ({@link withdrawAutoscalerNodeStake}).
 *
 * @throws {ContractError} `NetworkNotActive` when the wallet is not an active node.
 * @example
 * await client.exitAutoscalerNode();
 */
export async function exitAutoscalerNode(client: PodnetClient): Promise<ExitAutoscalerNodeReturnType> {
  const receipt = await writeNetwork(client, "exitAutoscalerNode", "startExit", []);
  return { txHash: receipt.transactionHash };
}
