import {
  type Address,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type Hex,
  isHex,
  type TransactionReceipt,
} from "viem";
import type { PodnetClient } from "../../client.js";
import { InvalidParameterError } from "../../errors.js";
import { autoscalerNetworkAbi, decodeIngress, parseIPv4, parseIPv6, podnetTestTokenAbi } from "../../protocol/index.js";
import { writeAndWait } from "./chain.js";
import { argText, explainRevert, type RevertExplanations } from "./explain-revert.js";

/** The network's ABI plus the token's errors (register and addStake pull the stake). */
export const autoscalerNetworkCallAbi = [
  ...autoscalerNetworkAbi,
  ...podnetTestTokenAbi.filter((item) => item.type === "error"),
];

/** The deployment's AutoscalerNetwork. */
export function networkContract(client: PodnetClient): { address: Address; blockNumber: bigint } {
  const entry = client.deployment.contracts.autoscalerNetwork;
  return { address: entry.address, blockNumber: BigInt(entry.blockNumber) };
}

/** `NodeStatus` of the contract, by its enum index. */
export const nodeStatuses = ["none", "active", "exiting"] as const;
export type AutoscalerNodeStatus = (typeof nodeStatuses)[number];

/** What a node publishes (NodeProfile), as text. */
export type AutoscalerNodeProfile = {
  /** Its HTTP API, http:// or https://. */
  endpoint: string;
  /** Its X25519 public key, 0x + 64 hex: an app's content keys are wrapped to it. */
  encryptionKey: Hex;
  /** The IPv4 address its DNS server answers on, if any. */
  dnsIpv4?: string;
  /** The IPv6 address its DNS server answers on, if any. */
  dnsIpv6?: string;
};

const hexOf = (bytes: Iterable<number>) =>
  `0x${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}` as Hex;

/** The contract's NodeProfile from text; throws InvalidParameterError naming the bad field. */
export function encodeNodeProfile(profile: AutoscalerNodeProfile) {
  let url: URL | undefined;
  try {
    url = new URL(profile.endpoint);
  } catch {}
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new InvalidParameterError("endpoint", `"${String(profile.endpoint)}" is not an http(s) URL`);
  }
  if (!isHex(profile.encryptionKey) || profile.encryptionKey.length !== 66 || /^0x0+$/.test(profile.encryptionKey)) {
    throw new InvalidParameterError("encryptionKey", "must be a non-zero 0x-prefixed 32-byte X25519 public key");
  }
  let dnsIpv4: Hex = "0x00000000";
  if (profile.dnsIpv4 !== undefined) {
    const bytes = parseIPv4(profile.dnsIpv4);
    if (!bytes) throw new InvalidParameterError("dnsIpv4", `"${profile.dnsIpv4}" is not an IPv4 address`);
    dnsIpv4 = hexOf(bytes);
  }
  let dnsIpv6: Hex = `0x${"00".repeat(16)}`;
  if (profile.dnsIpv6 !== undefined) {
    const bytes = parseIPv6(profile.dnsIpv6);
    if (!bytes) throw new InvalidParameterError("dnsIpv6", `"${profile.dnsIpv6}" is not an IPv6 address`);
    dnsIpv6 = hexOf(bytes);
  }
  return { endpoint: url.toString().replace(/\/$/, ""), encryptionKey: profile.encryptionKey, dnsIpv4, dnsIpv6 };
}

/** A NodeProfile read from the chain, as text (an all-zero DNS address is "none"). */
export function decodeNodeProfile(raw: {
  endpoint: string;
  encryptionKey: Hex;
  dnsIpv4: Hex;
  dnsIpv6: Hex;
}): AutoscalerNodeProfile {
  const v4 = /^0x0+$/.test(raw.dnsIpv4) ? undefined : decodeIngress([raw.dnsIpv4], [], 1)?.addresses[0];
  const v6 = /^0x0+$/.test(raw.dnsIpv6) ? undefined : decodeIngress([], [raw.dnsIpv6], 1)?.addresses[0];
  return {
    endpoint: raw.endpoint,
    encryptionKey: raw.encryptionKey,
    ...(v4 === undefined ? {} : { dnsIpv4: v4 }),
    ...(v6 === undefined ? {} : { dnsIpv6: v6 }),
  };
}

const str = argText;

/** What each custom error of the network means to a node operator, from its decoded arguments. */
const explanations: RevertExplanations = {
  NetworkAlreadyRegistered: ([node]) => `${str(node)} is already a registered node`,
  NetworkNotRegistered: ([node]) => `${str(node)} is not a registered node`,
  NetworkNotActive: ([node]) => `${str(node)} is not an active node (never registered, or exiting)`,
  NetworkStakeTooLow: ([stake, min]) => `stake ${str(stake)} is below the network's minStake ${str(min)}`,
  NetworkZeroAmount: () => "the amount must be more than 0",
  NetworkInvalid: ([field, reason]) => `${str(field)}: ${str(reason)}`,
  NetworkExitPending: ([node, exitAt]) => `${str(node)} can withdraw its stake from ${str(exitAt)} (unix seconds) on`,
  NetworkTooManyNodes: ([max]) => `the network has its maximum of ${str(max)} nodes`,
};

/** A ContractError of a call with the custom error explained in words (others unchanged). */
function explainNetworkError(error: unknown): unknown {
  return explainRevert(error, explanations);
}

type NetworkWrite = ContractFunctionName<typeof autoscalerNetworkCallAbi, "nonpayable" | "payable">;

/** Sends a network write from the wallet account and waits for it; reverts become explained ContractErrors. */
export async function writeNetwork<functionName extends NetworkWrite>(
  client: PodnetClient,
  action: string,
  functionName: functionName,
  args: ContractFunctionArgs<typeof autoscalerNetworkCallAbi, "nonpayable" | "payable", functionName>,
): Promise<TransactionReceipt> {
  try {
    return await writeAndWait(client, action, {
      address: networkContract(client).address,
      abi: autoscalerNetworkCallAbi,
      functionName,
      args,
    });
  } catch (error) {
    throw explainNetworkError(error);
  }
}
