import {
  type Address,
  type ContractFunctionArgs,
  type ContractFunctionName,
  getAddress,
  isAddress,
  type TransactionReceipt,
} from "viem";
import type { PodnetClient } from "../../client.js";
import { InvalidParameterError, type InvalidParameterErrorType } from "../../errors.js";
import { appVaultAbi, appVaultFactoryAbi, podnetMarketAbi, podnetTestTokenAbi } from "../../protocol/index.js";
import { writeAndWait } from "./chain.js";
import { argText, explainRevert, type RevertExplanations } from "./explain-revert.js";

// The vault calls the market and the token: their custom errors bubble up through it, so the ABI a vault call is
// decoded with carries theirs too (a clearSlot that the market refuses then reads `MarketLeaseNotFound(7)`).
const bubbledErrors = [...podnetMarketAbi, ...podnetTestTokenAbi].filter((item) => item.type === "error");

/** The vault's ABI plus the errors of what it calls. */
export const appVaultCallAbi = [...appVaultAbi, ...bubbledErrors];
/** The factory's ABI plus the errors of the vault it initializes. */
export const appVaultFactoryCallAbi = [
  ...appVaultFactoryAbi,
  ...appVaultAbi.filter((item) => item.type === "error"),
  ...bubbledErrors,
];

export type AppVaultAddressErrorType = InvalidParameterErrorType;

/** A checked, checksummed vault address parameter. */
export function vaultAddress(vault: string): Address {
  if (typeof vault !== "string" || !isAddress(vault, { strict: false })) {
    throw new InvalidParameterError("vault", `"${String(vault)}" is not a 0x address`);
  }
  return getAddress(vault);
}

/** The deployment's app factory. */
export function appFactory(client: PodnetClient): { address: Address; blockNumber: bigint } {
  const factory = client.deployment.contracts.appVaultFactory;
  return { address: factory.address, blockNumber: BigInt(factory.blockNumber) };
}

const str = argText;

/** What each custom error of the vault and its factory means to an owner, from its decoded arguments. */
const explanations: RevertExplanations = {
  VaultNotOwner: ([caller]) => `${str(caller)} is not the app's owner`,
  VaultNotController: ([caller]) => `${str(caller)} is neither a controller nor the owner of the app`,
  VaultNotPendingOwner: ([caller]) => `${str(caller)} is not the app's pending owner`,
  VaultZeroAddress: ([field]) => `${str(field)} must not be the zero address`,
  VaultZeroAmount: () => "the amount must be more than 0",
  VaultZeroSpecHash: () => "an app needs a pod spec: the spec hash is zero",
  VaultSlotOutOfRange: ([slot, max]) => `slot ${str(slot)} is not one of the app's ${str(max)} instance slots`,
  VaultSlotMismatch: ([slot, expected, current]) =>
    `slot ${str(slot)} holds lease ${str(current)}, not ${str(expected)}: someone changed it first`,
  VaultSlotEmpty: ([slot]) => `slot ${str(slot)} holds no lease`,
  VaultSpecMismatch: ([app, spec]) => `spec ${str(spec)} is not the app's current spec ${str(app)}`,
  VaultPriceAboveLimit: ([price, max]) => `price ${str(price)}/s is above the app's maxPricePerSecond ${str(max)}`,
  VaultDepositAboveLimit: ([deposit, max]) =>
    `deposit ${str(deposit)} is above the app's maxDepositPerLease ${str(max)}`,
  VaultEscrowAboveLimit: ([lease, unspent, max]) =>
    `lease ${str(lease)} would hold ${str(unspent)} unspent, above the app's maxDepositPerLease ${str(max)}`,
  VaultInsufficientBalance: ([balance, needed]) =>
    `the app's balance is ${str(balance)} token base units, the call needs ${str(needed)}`,
  VaultTooManyOrders: ([open, max]) => `the app has ${str(open)} open orders, its maxInstances ${str(max)}`,
  VaultInvalidNetworkTerms: ([reason]) => `invalid network terms: ${str(reason)}`,
  VaultPermitFailed: ([owner, allowance, needed]) =>
    `the permit failed and ${str(owner)} allows the vault ${str(allowance)}, the call needs ${str(needed)}`,
  VaultFactoryAppExists: ([vault]) => `this account already created an app with this salt, at ${str(vault)}`,
  VaultFactoryZeroAddress: ([field]) => `${str(field)} must not be the zero address`,
  ERC20InsufficientBalance: ([sender, balance, needed]) =>
    `${str(sender)} holds ${str(balance)} token base units, the call needs ${str(needed)}`,
  ERC20InsufficientAllowance: ([spender, allowance, needed]) =>
    `${str(spender)} may spend ${str(allowance)}, the call needs ${str(needed)}`,
};

/** A ContractError of a call with the custom error explained in words (others unchanged). */
export function explainVaultError(error: unknown): unknown {
  return explainRevert(error, explanations);
}

type VaultWrite = ContractFunctionName<typeof appVaultCallAbi, "nonpayable" | "payable">;

/** Sends a vault write from the wallet account and waits for it; reverts become explained ContractErrors. */
export async function writeVault<functionName extends VaultWrite>(
  client: PodnetClient,
  action: string,
  vault: Address,
  functionName: functionName,
  args: ContractFunctionArgs<typeof appVaultCallAbi, "nonpayable" | "payable", functionName>,
): Promise<TransactionReceipt> {
  try {
    return await writeAndWait(client, action, { address: vault, abi: appVaultCallAbi, functionName, args });
  } catch (error) {
    throw explainVaultError(error);
  }
}
