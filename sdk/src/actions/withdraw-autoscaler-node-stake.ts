import type { Hash } from "viem";
import type { PodnetClient } from "../client.js";
import type { ContractErrorType, ErrorType } from "../errors.js";
import { writeNetwork } from "./internal/autoscaler-network.js";
import type { WriteAndWaitErrorType } from "./internal/chain.js";

export type WithdrawAutoscalerNodeStakeReturnType = { txHash: Hash };

export type WithdrawAutoscalerNodeStakeErrorType = WriteAndWaitErrorType | ContractErrorType | ErrorType;

/**
 * An exited node takes its stake back (`withdrawStake()`), once the exit delay has passed; its record is cleared.
 *
 * @throws {ContractError} `NetworkExitPending` before the exit delay ends, `NetworkNotRegistered` when not exiting.
 * @example
 * await client.withdrawAutoscalerNodeStake();
 */
export async function withdrawAutoscalerNodeStake(
  client: PodnetClient,
): Promise<WithdrawAutoscalerNodeStakeReturnType> {
  const receipt = await writeNetwork(client, "withdrawAutoscalerNodeStake", "withdrawStake", []);
  return { txHash: receipt.transactionHash };
}
