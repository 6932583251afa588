import { type Address, erc20Abi, type Hash, type ReadContractErrorType } from "viem";
import type { PodnetClient } from "../client.js";
import {
  type ContractErrorType,
  type ErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
} from "../errors.js";
import { vaultAddress, writeVault } from "./internal/app-vault.js";
import { addresses, type WriteAndWaitErrorType } from "./internal/chain.js";
import { requireWallet } from "./internal/wallet.js";

export type WithdrawFromAppParameters = {
  vault: Address;
  /** Base units, or "all": the whole balance. */
  amount: bigint | "all";
  /** Default: the wallet account. */
  to?: Address;
};

export type WithdrawFromAppReturnType = {
  /** What was withdrawn (0 for "all" of an empty app: nothing was sent). */
  amount: bigint;
  to: Address;
  /** The app's balance afterwards. */
  balance: bigint;
  txHash?: Hash;
};

export type WithdrawFromAppErrorType =
  | InvalidParameterErrorType
  | ReadContractErrorType
  | WriteAndWaitErrorType
  | ContractErrorType
  | ErrorType;

/**
 * Takes tokens out of an app's balance (owner only). An amount above the balance is refused before anything is sent.
 *
 * @throws {InvalidParameterError} `amount` above the app's balance, or not positive.
 * @throws {ContractError} `VaultNotOwner`.
 * @example
 * await client.withdrawFromApp({ vault, amount: "all" });
 */
export async function withdrawFromApp(
  client: PodnetClient,
  params: WithdrawFromAppParameters,
): Promise<WithdrawFromAppReturnType> {
  const vault = vaultAddress(params.vault);
  let to: Address;
  try {
    to = vaultAddress(params.to ?? requireWallet(client, "withdrawFromApp").address);
  } catch {
    throw new InvalidParameterError("to", `"${String(params.to)}" is not a 0x address`);
  }
  const balanceOf = () =>
    client.publicClient.readContract({
      address: addresses(client).token,
      abi: erc20Abi,
      functionName: "balanceOf",
      args: [vault],
    });
  const balance = await balanceOf();
  let amount: bigint;
  if (params.amount === "all") {
    if (balance === 0n) return { amount: 0n, to, balance };
    amount = balance;
  } else {
    amount = params.amount;
    if (typeof amount !== "bigint" || amount <= 0n) {
      throw new InvalidParameterError("amount", `must be a positive bigint or "all", got ${String(amount)}`);
    }
    if (amount > balance) {
      throw new InvalidParameterError("amount", `${amount} is more than the app's balance ${balance}`);
    }
  }
  const receipt = await writeVault(client, "withdrawFromApp", vault, "withdraw", [to, amount]);
  return { amount, to, balance: await balanceOf(), txHash: receipt.transactionHash };
}
