import { type Hash, parseEventLogs, type ReadContractErrorType } from "viem";
import type { PodnetClient } from "../client.js";
import {
  ContractError,
  type ContractErrorType,
  type ErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
} from "../errors.js";
import { disputeCourtAbi } from "../protocol/index.js";
import {
  addresses,
  type EnsureAllowanceErrorType,
  ensureAllowance,
  type WriteAndWaitErrorType,
  writeAndWait,
} from "./internal/chain.js";

export type OpenDisputeParameters = {
  leaseId: bigint;
  /** Where the evidence lives (an https or ipfs URI), 1..the court's maximum length. */
  evidenceURI: string;
  /** Approve the court for the bond when its allowance is short (default true). */
  approve?: boolean;
};

export type OpenDisputeReturnType = {
  disputeId: bigint;
  leaseId: bigint;
  /** The bond taken from the publisher: back on a slash or lapse, to the provider on a dismissal. */
  bond: bigint;
  /** Unix seconds: the provider answers until `answerBy`, the arbiter rules until `ruleBy`. */
  answerBy: number;
  ruleBy: number;
  txHash: Hash;
};

export type OpenDisputeErrorType =
  | InvalidParameterErrorType
  | ReadContractErrorType
  | EnsureAllowanceErrorType
  | WriteAndWaitErrorType
  | ContractErrorType
  | ErrorType;

/**
 * Opens a dispute on a running lease of the publisher with the court's bond (approved to the DisputeCourt when
 * needed). The lease's collateral stays locked until an arbiter rules or the dispute lapses.
 *
 * @throws {ContractError} e.g. `CourtNotLeasePublisher`, `MarketLeaseDisputed`, `CourtInvalidEvidence`.
 * @example
 * const { disputeId } = await client.openDispute({ leaseId, evidenceURI: "ipfs://bafy…/report.json" });
 */
export async function openDispute(client: PodnetClient, params: OpenDisputeParameters): Promise<OpenDisputeReturnType> {
  if (typeof params.evidenceURI !== "string" || params.evidenceURI.length === 0) {
    throw new InvalidParameterError("evidenceURI", "must be a non-empty URI");
  }
  const { court } = addresses(client);
  const courtParams = await client.publicClient.readContract({
    address: court,
    abi: disputeCourtAbi,
    functionName: "params",
  });
  if (courtParams.disputeBond > 0n) {
    await ensureAllowance(client, "openDispute", court, courtParams.disputeBond, params.approve ?? true);
  }
  const receipt = await writeAndWait(client, "openDispute", {
    address: court,
    abi: disputeCourtAbi,
    functionName: "openDispute",
    args: [params.leaseId, params.evidenceURI],
  });
  const [opened] = parseEventLogs({ abi: disputeCourtAbi, eventName: "DisputeOpened", logs: receipt.logs });
  if (!opened) {
    throw new ContractError(
      "openDispute",
      undefined,
      undefined,
      "mined without a DisputeOpened event",
      receipt.transactionHash,
    );
  }
  return {
    disputeId: opened.args.disputeId,
    leaseId: opened.args.leaseId,
    bond: opened.args.bond,
    answerBy: Number(opened.args.answerBy),
    ruleBy: Number(opened.args.ruleBy),
    txHash: receipt.transactionHash,
  };
}
