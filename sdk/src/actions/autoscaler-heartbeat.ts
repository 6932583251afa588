import type { Hash } from "viem";
import type { PodnetClient } from "../client.js";
import type { ContractErrorType, ErrorType } from "../errors.js";
import { writeNetwork } from "./internal/autoscaler-network.js";
import type { WriteAndWaitErrorType } from "./internal/chain.js";

export type AutoscalerHeartbeatReturnType = { txHash: Hash };

export type AutoscalerHeartbeatErrorType = WriteAndWaitErrorType | ContractErrorType | ErrorType;

/**
 * Tells the AutoscalerNetwork the wallet's node is alive now (`heartbeat()`): a node is live while its last heartbeat
 * is at most the network's `livenessWindow` old.
 *
 * @throws {ContractError} `NetworkNotActive` when the wallet is not an active node.
 * @example
 * await client.autoscalerHeartbeat();
 */
export async function autoscalerHeartbeat(client: PodnetClient): Promise<AutoscalerHeartbeatReturnType> {
  const receipt = await writeNetwork(client, "autoscalerHeartbeat", "heartbeat", []);
  return { txHash: receipt.transactionHash };
}
