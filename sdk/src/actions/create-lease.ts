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
  type Funding,
  type FundMarketCallErrorType,
  fundMarketCall,
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
  /**
   * Let the market take the deposit when its allowance is short (default true): with a permit, else an exact
   * approval. False: {@link InsufficientAllowanceError} instead.
   */
  approve?: boolean;
  /** Use an EIP-2612 permit when the token takes them (default true); false approves exactly the deposit instead. */
  permit?: boolean;
};

export type CreateLeaseReturnType = {
  leaseId: bigint;
  txHash: Hash;
  /**
   * How the deposit was paid for: the allowance covered it (`createLease`), a permit (`createLeaseWithPermit`, this
   * one transaction) or an exact approval sent first (`approveTxHash`, then `createLease`).
   */
  funding: Funding["kind"];
  /** The approval sent first, if the allowance was short and the token takes no permit. */
  approveTxHash?: Hash;
  pricePerSecond: bigint;
  deposit: bigint;
  /** Stake of the provider locked for this lease. */
  collateral: bigint;
};

export type CreateLeaseErrorType =
  | InvalidParameterErrorType
  | FundMarketCallErrorType
  | WriteAndWaitErrorType
  | ContractErrorType
  | ErrorType;

/**
 * Starts a lease from a provider's signed quote and waits for it to be mined. When the market's allowance is short it
 * signs an EIP-2612 permit for exactly `deposit` and sends `createLeaseWithPermit` (one transaction), or, for a token
 * without permits, approves exactly `deposit` first and sends `createLease`. The lease is usable at the provider as soon as this returns.
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
  const funding = await fundMarketCall(client, "createLease", deposit, {
    approve: params.approve ?? true,
    permit: params.permit ?? true,
  });
  const receipt =
    funding.kind === "permit"
      ? await writeAndWait(client, "createLease", {
          address: market,
          abi: podnetMarketAbi,
          functionName: "createLeaseWithPermit",
          args: [params.quote, params.signature, deposit, funding.permit],
        })
      : await writeAndWait(client, "createLease", {
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
    funding: funding.kind,
    ...(funding.kind === "approve" ? { approveTxHash: funding.approveTxHash } : {}),
    pricePerSecond: created.args.pricePerSecond,
    deposit: created.args.deposit,
    collateral: created.args.collateral,
  };
}
