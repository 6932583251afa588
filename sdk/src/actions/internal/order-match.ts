import { type Address, type Hash, parseEventLogs, type TransactionReceipt } from "viem";
import { ContractError, type ContractErrorType } from "../../errors.js";
import { podnetMarketAbi } from "../../protocol/index.js";

/** The lease an order was matched into (acceptBid, finalizeOrder). */
export type MatchedLease = {
  leaseId: bigint;
  provider: Address;
  pricePerSecond: bigint;
  txHash: Hash;
};

export type MatchedLeaseErrorType = ContractErrorType;

/** Reads the lease from the receipt's OrderMatched event; a receipt without one is a ContractError of `action`. */
export function matchedLease(action: string, receipt: TransactionReceipt): MatchedLease {
  const [matched] = parseEventLogs({ abi: podnetMarketAbi, eventName: "OrderMatched", logs: receipt.logs });
  if (!matched) {
    throw new ContractError(
      action,
      undefined,
      undefined,
      "mined without an OrderMatched event",
      receipt.transactionHash,
    );
  }
  return {
    leaseId: matched.args.leaseId,
    provider: matched.args.provider,
    pricePerSecond: matched.args.pricePerSecond,
    txHash: receipt.transactionHash,
  };
}
