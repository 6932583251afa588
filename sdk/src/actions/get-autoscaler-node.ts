import { type Address, getAddress, isAddress, type ReadContractErrorType } from "viem";
import type { PodnetClient } from "../client.js";
import { type ErrorType, InvalidParameterError, type InvalidParameterErrorType } from "../errors.js";
import { autoscalerNetworkAbi } from "../protocol/index.js";
import {
  type AutoscalerNodeProfile,
  type AutoscalerNodeStatus,
  decodeNodeProfile,
  networkContract,
  nodeStatuses,
} from "./internal/autoscaler-network.js";

export type GetAutoscalerNodeParameters = {
  node: Address;
};

export type GetAutoscalerNodeReturnType = {
  node: Address;
  /** "none": never registered (or exited and withdrew). */
  status: AutoscalerNodeStatus;
  /** Whether the network counts it live now (active, last heartbeat within the liveness window). */
  live: boolean;
  /** Unix seconds (block time). */
  registeredAt: number;
  lastHeartbeat: number;
  /** When an exiting node may withdraw its stake (0 otherwise). */
  exitAt: number;
  stake: bigint;
  profile: AutoscalerNodeProfile;
};

export type GetAutoscalerNodeErrorType = InvalidParameterErrorType | ReadContractErrorType | ErrorType;

/**
 * Reads a node's record from the AutoscalerNetwork: status, liveness, heartbeat, stake and published profile.
 *
 * @example
 * const node = await client.getAutoscalerNode({ node: "0x…" });
 * if (!node.live) console.log("silent since", node.lastHeartbeat);
 */
export async function getAutoscalerNode(
  client: PodnetClient,
  params: GetAutoscalerNodeParameters,
): Promise<GetAutoscalerNodeReturnType> {
  if (typeof params.node !== "string" || !isAddress(params.node, { strict: false })) {
    throw new InvalidParameterError("node", `"${String(params.node)}" is not a 0x address`);
  }
  const node = getAddress(params.node);
  const { address } = networkContract(client);
  const [info, live] = await Promise.all([
    client.publicClient.readContract({ address, abi: autoscalerNetworkAbi, functionName: "getNode", args: [node] }),
    client.publicClient.readContract({ address, abi: autoscalerNetworkAbi, functionName: "isLive", args: [node] }),
  ]);
  return {
    node,
    status: nodeStatuses[info.status] ?? "none",
    live,
    registeredAt: Number(info.registeredAt),
    lastHeartbeat: Number(info.lastHeartbeat),
    exitAt: Number(info.exitAt),
    stake: info.stake,
    profile: decodeNodeProfile(info.profile),
  };
}
