import { type Hash, parseEventLogs } from "viem";
import type { PodnetClient } from "../client.js";
import { ContractError, type ContractErrorType, type ErrorType, type InvalidParameterErrorType } from "../errors.js";
import { podnetMarketAbi } from "../protocol/index.js";
import {
  addresses,
  type EnsureAllowanceErrorType,
  ensureAllowance,
  uint96,
  type WriteAndWaitErrorType,
  writeAndWait,
} from "./internal/chain.js";

export type TopUpParameters = {
  leaseId: bigint;
  /** Tokens added to the lease's escrow (base units). */
  amount: bigint;
  /** Approve the market for `amount` when its allowance is short (default true). */
  approve?: boolean;
};

export type TopUpReturnType = {
  /** The lease's escrow balance after the top-up. */
  balance: bigint;
  txHash: Hash;
};

export type TopUpErrorType =
  | InvalidParameterErrorType
  | EnsureAllowanceErrorType
  | WriteAndWaitErrorType
  | ContractErrorType
  | ErrorType;

/**
 * Adds funds to a running lease's escrow (anyone may pay for any lease). A lease whose funds already ran out cannot
 * be revived: close it and start a new one.
 *
 * @throws {ContractError} e.g. `MarketLeaseOutOfFunds`, `MarketLeaseNotActive`.
 * @example
 * const { balance } = await client.topUp({ leaseId, amount: quote.pricePerSecond * 86_400n });
 */
export async function topUp(client: PodnetClient, params: TopUpParameters): Promise<TopUpReturnType> {
  const amount = uint96("amount", params.amount);
  const { market } = addresses(client);
  await ensureAllowance(client, "topUp", market, amount, params.approve ?? true);
  const receipt = await writeAndWait(client, "topUp", {
    address: market,
    abi: podnetMarketAbi,
    functionName: "topUp",
    args: [params.leaseId, amount],
  });
  const [event] = parseEventLogs({ abi: podnetMarketAbi, eventName: "LeaseToppedUp", logs: receipt.logs });
  if (!event) {
    throw new ContractError(
      "topUp",
      undefined,
      undefined,
      "mined without a LeaseToppedUp event",
      receipt.transactionHash,
    );
  }
  return { balance: event.args.balance, txHash: receipt.transactionHash };
}
