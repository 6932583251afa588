import { type Hash, parseEventLogs } from "viem";
import type { PodnetClient } from "../client.js";
import { ContractError, type ContractErrorType, type ErrorType } from "../errors.js";
import { podnetMarketAbi } from "../protocol/index.js";
import { addresses, type WriteAndWaitErrorType, writeAndWait } from "./internal/chain.js";

export type CloseLeaseParameters = {
  leaseId: bigint;
};

export type CloseLeaseReturnType = {
  /** Unspent escrow returned to the publisher now. */
  refund: bigint;
  /** What the provider earned and has not withdrawn yet (stays in escrow for it). */
  owed: bigint;
  /** Unix seconds: the provider is paid up to here. */
  endedAt: number;
  /** Slashed stake paid to the publisher on top of the refund (provider reported dark), else 0. */
  compensation: bigint;
  txHash: Hash;
};

export type CloseLeaseErrorType = WriteAndWaitErrorType | ContractErrorType | ErrorType;

/**
 * Ends a lease: the provider keeps what it earned up to now, the rest returns to the publisher, and the provider
 * tears the pod down. The publisher or provider may close any time; anyone may close a lease whose funds ran out
 * or whose provider was reported dark (its publisher then also receives compensation from the slashed stake).
 *
 * @throws {ContractError} e.g. `MarketLeaseNotActive`, `MarketNotLeaseParty`.
 * @example
 * const { refund } = await client.closeLease({ leaseId });
 */
export async function closeLease(client: PodnetClient, params: CloseLeaseParameters): Promise<CloseLeaseReturnType> {
  const receipt = await writeAndWait(client, "closeLease", {
    address: addresses(client).market,
    abi: podnetMarketAbi,
    functionName: "closeLease",
    args: [params.leaseId],
  });
  const [closed] = parseEventLogs({ abi: podnetMarketAbi, eventName: "LeaseClosed", logs: receipt.logs });
  if (!closed) {
    throw new ContractError(
      "closeLease",
      undefined,
      undefined,
      "mined without a LeaseClosed event",
      receipt.transactionHash,
    );
  }
  const compensation = parseEventLogs({ abi: podnetMarketAbi, eventName: "CompensationPaid", logs: receipt.logs })
    .filter((e) => e.args.leaseId === params.leaseId)
    .reduce((sum, e) => sum + e.args.amount, 0n);
  return {
    refund: closed.args.refund,
    owed: closed.args.owed,
    endedAt: Number(closed.args.endedAt),
    compensation,
    txHash: receipt.transactionHash,
  };
}
