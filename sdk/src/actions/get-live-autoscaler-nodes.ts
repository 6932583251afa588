import type { Address, BlockTag, ReadContractErrorType } from "viem";
import type { PodnetClient } from "../client.js";
import type { ErrorType } from "../errors.js";
import { autoscalerNetworkAbi } from "../protocol/index.js";
import { networkContract } from "./internal/autoscaler-network.js";

export type GetLiveAutoscalerNodesParameters = {
  /** The block read (default "latest"): nodes reading the same block compute the same assignment. */
  blockNumber?: bigint;
  blockTag?: BlockTag;
};

export type GetLiveAutoscalerNodesReturnType = {
  /** The live nodes, in registration order. */
  nodes: Address[];
  /** The network's parameters at that block (heartbeat period, liveness window, ...). */
  params: { minStake: bigint; heartbeatPeriod: number; livenessWindow: number; exitDelay: number };
};

export type GetLiveAutoscalerNodesErrorType = ReadContractErrorType | ErrorType;

/**
 * The AutoscalerNetwork's live nodes and parameters, read at one block: the input of `servingNode` (which node
 * serves a network-mode app).
 *
 * @example
 * const { nodes } = await client.getLiveAutoscalerNodes();
 * const node = servingNode(vault, nodes);
 */
export async function getLiveAutoscalerNodes(
  client: PodnetClient,
  params: GetLiveAutoscalerNodesParameters = {},
): Promise<GetLiveAutoscalerNodesReturnType> {
  const { address } = networkContract(client);
  const at = params.blockNumber !== undefined ? { blockNumber: params.blockNumber } : { blockTag: params.blockTag };
  const [nodes, p] = await Promise.all([
    client.publicClient.readContract({ address, abi: autoscalerNetworkAbi, functionName: "liveNodes", ...at }),
    client.publicClient.readContract({ address, abi: autoscalerNetworkAbi, functionName: "params", ...at }),
  ]);
  return {
    nodes: [...nodes],
    params: {
      minStake: p.minStake,
      heartbeatPeriod: Number(p.heartbeatPeriod),
      livenessWindow: Number(p.livenessWindow),
      exitDelay: Number(p.exitDelay),
    },
  };
}
