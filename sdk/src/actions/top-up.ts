import { type Hash, parseEventLogs } from "viem";
import type { PodnetClient } from "../client.js";
import { ContractError, type ContractErrorType, type ErrorType, type InvalidParameterErrorType } from "../errors.js";
import { podnetMarketAbi } from "../protocol/index.js";
import {
  addresses,
  type Funding,
  type FundMarketCallErrorType,
  fundMarketCall,
  uint96,
  type WriteAndWaitErrorType,
  writeAndWait,
} from "./internal/chain.js";

export type TopUpParameters = {
  leaseId: bigint;
  /** Tokens added to the lease's escrow (base units). */
  amount: bigint;
  /**
   * Let the market take `amount` when its allowance is short (default true): with a permit, else an exact approval.
   * False: {@link InsufficientAllowanceError} instead.
   */
  approve?: boolean;
  /** Use an EIP-2612 permit when the token takes them (default true); false approves exactly `amount` instead. */
  permit?: boolean;
};

export type TopUpReturnType = {
  /** The lease's escrow balance after the top-up. */
  balance: bigint;
  txHash: Hash;
  /** How `amount` was paid for: the allowance (`topUp`), a permit (`topUpWithPermit`) or an exact approval first. */
  funding: Funding["kind"];
  /** The approval sent first, if the allowance was short and the token takes no permit. */
  approveTxHash?: Hash;
};

export type TopUpErrorType =
  | InvalidParameterErrorType
  | FundMarketCallErrorType
  | WriteAndWaitErrorType
  | ContractErrorType
  | ErrorType;

/**
 * Adds funds to a running lease's escrow (anyone may pay for any lease). A lease whose funds already ran out cannot
 * be revived: close it and start a new one. A short allowance is covered by a permit for exactly `amount`
 * (`topUpWithPermit`, one transaction), or for a token without permits by an exact approval first.
 *
 * @throws {ContractError} e.g. `MarketLeaseOutOfFunds`, `MarketLeaseNotActive`.
 * @example
 * const { balance } = await client.topUp({ leaseId, amount: quote.pricePerSecond * 86_400n });
 */
export async function topUp(client: PodnetClient, params: TopUpParameters): Promise<TopUpReturnType> {
  const amount = uint96("amount", params.amount);
  const { market } = addresses(client);
  const funding = await fundMarketCall(client, "topUp", amount, {
    approve: params.approve ?? true,
    permit: params.permit ?? true,
  });
  const receipt =
    funding.kind === "permit"
      ? await writeAndWait(client, "topUp", {
          address: market,
          abi: podnetMarketAbi,
          functionName: "topUpWithPermit",
          args: [params.leaseId, amount, funding.permit],
        })
      : await writeAndWait(client, "topUp", {
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
  return {
    balance: event.args.balance,
    txHash: receipt.transactionHash,
    funding: funding.kind,
    ...(funding.kind === "approve" ? { approveTxHash: funding.approveTxHash } : {}),
  };
}
