import { type Address, type Hash, parseEventLogs } from "viem";
import type { PodnetClient } from "../client.js";
import {
  ContractError,
  type ContractErrorType,
  type ErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
} from "../errors.js";
import { appVaultAbi } from "../protocol/index.js";
import { type AppVaultAddressErrorType, vaultAddress, writeVault } from "./internal/app-vault.js";
import { type Funding, type FundMarketCallErrorType, fundMarketCall } from "./internal/chain.js";

export type FundAppParameters = {
  vault: Address;
  /** Tokens added to the app's balance (base units). */
  amount: bigint;
  /** Let the vault take `amount` when its allowance is short (default true): with a permit, else an exact approval. */
  approve?: boolean;
  /** Use an EIP-2612 permit when the token takes them (default true); false approves exactly `amount` instead. */
  permit?: boolean;
};

export type FundAppReturnType = {
  txHash: Hash;
  /** How `amount` was paid for: the allowance (`fund`), a permit (`fundWithPermit`) or an exact approval first. */
  funding: Funding["kind"];
  approveTxHash?: Hash;
};

export type FundAppErrorType =
  | AppVaultAddressErrorType
  | InvalidParameterErrorType
  | FundMarketCallErrorType
  | ContractErrorType
  | ErrorType;

/**
 * Adds tokens from the wallet to an app's balance (anyone may fund any app): one `fundWithPermit` transaction when the
 * token takes permits, else an exact approval of the vault and `fund`.
 *
 * @throws {InsufficientBalanceError} when the wallet holds less than `amount`.
 * @example
 * await client.fundApp({ vault, amount: 86_400_000n });
 */
export async function fundApp(client: PodnetClient, params: FundAppParameters): Promise<FundAppReturnType> {
  const vault = vaultAddress(params.vault);
  if (typeof params.amount !== "bigint")
    throw new InvalidParameterError("amount", "must be a bigint (token base units)");
  const funding = await fundMarketCall(client, "fundApp", params.amount, {
    approve: params.approve ?? true,
    permit: params.permit ?? true,
    spender: vault,
  });
  const receipt =
    funding.kind === "permit"
      ? await writeVault(client, "fundApp", vault, "fundWithPermit", [params.amount, funding.permit])
      : await writeVault(client, "fundApp", vault, "fund", [params.amount]);
  const [funded] = parseEventLogs({ abi: appVaultAbi, eventName: "Funded", logs: receipt.logs });
  if (!funded) {
    throw new ContractError("fund", undefined, undefined, "mined without a Funded event", receipt.transactionHash);
  }
  return {
    txHash: receipt.transactionHash,
    funding: funding.kind,
    ...(funding.kind === "approve" ? { approveTxHash: funding.approveTxHash } : {}),
  };
}
