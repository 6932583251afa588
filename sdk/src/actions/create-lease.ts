import { type Hash, type Hex, parseEventLogs } from "viem";
import type { PodnetClient } from "../client.js";
import {
  ContractError,
  type ContractErrorType,
  type ErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
} from "../errors.js";
import { podnetMarketAbi, type Quote } from "../protocol/index.js";
import {
  addresses,
  type EnsureAllowanceErrorType,
  ensureAllowance,
  uint96,
  type WriteAndWaitErrorType,
  writeAndWait,
} from "./internal/chain.js";

export type CreateLeaseParameters = {
  /** A verified quote (from `getQuote`). */
  quote: Quote;
  signature: Hex;
  /** Tokens escrowed for the lease; at least pricePerSecond × the market's minimum lease duration. */
  deposit: bigint;
  /** Approve the market for the deposit when its allowance is short (default true). */
  approve?: boolean;
};

export type CreateLeaseReturnType = {
  leaseId: bigint;
  txHash: Hash;
  /** The approval sent first, if the allowance was short. */
  approveTxHash?: Hash;
  pricePerSecond: bigint;
  deposit: bigint;
  /** Stake of the provider locked for this lease. */
  collateral: bigint;
};

export type CreateLeaseErrorType =
  | InvalidParameterErrorType
  | EnsureAllowanceErrorType
  | WriteAndWaitErrorType
  | ContractErrorType
  | ErrorType;

/**
 * Starts a lease from a provider's signed quote: approves the market for `deposit` if needed, sends `createLease`
 * and waits for it to be mined. The lease is usable at the provider as soon as this returns.
 *
 * @throws {InsufficientBalanceError} when the wallet holds less than `deposit`.
 * @throws {ContractError} with the market's error name, e.g. `MarketQuoteExpired`, `MarketDepositTooLow`.
 * @example
 * const { quote, signature } = await client.getQuote({ provider, manifest });
 * const { leaseId } = await client.createLease({ quote, signature, deposit: quote.pricePerSecond * 3600n });
 */
export async function createLease(client: PodnetClient, params: CreateLeaseParameters): Promise<CreateLeaseReturnType> {
  const deposit = uint96("deposit", params.deposit);
  if (!params.quote || !params.signature) throw new InvalidParameterError("quote", "quote and signature are required");
  const { market } = addresses(client);
  const { approveTxHash } = await ensureAllowance(client, "createLease", market, deposit, params.approve ?? true);
  const receipt = await writeAndWait(client, "createLease", {
    address: market,
    abi: podnetMarketAbi,
    functionName: "createLease",
    args: [params.quote, params.signature, deposit],
  });
  const [created] = parseEventLogs({ abi: podnetMarketAbi, eventName: "LeaseCreated", logs: receipt.logs });
  if (!created) {
    throw new ContractError(
      "createLease",
      undefined,
      undefined,
      "mined without a LeaseCreated event",
      receipt.transactionHash,
    );
  }
  return {
    leaseId: created.args.leaseId,
    txHash: receipt.transactionHash,
    ...(approveTxHash ? { approveTxHash } : {}),
    pricePerSecond: created.args.pricePerSecond,
    deposit: created.args.deposit,
    collateral: created.args.collateral,
  };
}
