import {
  type Abi,
  type Address,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type EstimateContractGasErrorType,
  erc20Abi,
  type GetBlockErrorType,
  type Hash,
  type ReadContractErrorType,
  type SignTypedDataErrorType,
  type TransactionReceipt,
  type WaitForTransactionReceiptErrorType,
  type WriteContractErrorType,
} from "viem";
import type { PodnetClient } from "../../client.js";
import {
  ContractError,
  type ContractErrorType,
  contractError,
  InsufficientAllowanceError,
  type InsufficientAllowanceErrorType,
  InsufficientBalanceError,
  type InsufficientBalanceErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
} from "../../errors.js";
import {
  erc20PermitAbi,
  type PermitDomain,
  type PermitSignature,
  permitSignature,
  permitTypedData,
  readPermitDomain,
  withGasHeadroom,
} from "../../protocol/index.js";
import { type RequireWalletErrorType, requireWallet } from "./wallet.js";

export type ChainTimeErrorType = GetBlockErrorType;

/** A revert (estimated or mined) is a ContractError; anything else from viem (RPC, rejected signature) passes. */
export type WriteAndWaitErrorType =
  | ContractErrorType
  | RequireWalletErrorType
  | EstimateContractGasErrorType
  | WriteContractErrorType
  | WaitForTransactionReceiptErrorType;

export type EnsureAllowanceErrorType =
  | InvalidParameterErrorType
  | InsufficientBalanceErrorType
  | InsufficientAllowanceErrorType
  | RequireWalletErrorType
  | ReadContractErrorType
  | WriteAndWaitErrorType;

export type FundMarketCallErrorType = EnsureAllowanceErrorType | GetBlockErrorType | SignTypedDataErrorType;

export type Uint96ErrorType = InvalidParameterErrorType;

/** Contract addresses of the client's deployment. */
export function addresses(client: PodnetClient) {
  const c = client.deployment.contracts;
  return {
    token: c.paymentToken.address,
    registry: c.providerRegistry.address,
    market: c.podnetMarket.address,
    court: c.disputeCourt.address,
  };
}

/** First block worth scanning for the deployment's events. */
export function fromBlock(client: PodnetClient): bigint {
  return BigInt(client.deployment.contracts.podnetMarket.blockNumber);
}

/** Unix seconds of the newest block: what the contracts compare deadlines with. */
export async function chainTime(client: PodnetClient): Promise<number> {
  const block = await client.publicClient.getBlock({ blockTag: "latest" });
  return Number(block.timestamp);
}

/**
 * The earliest time the next transaction can be mined at, for deadlines it must not already be past: the newest
 * block's time, the pending block's (anvil, geth), or the clock, whichever is latest. A chain that mines only on
 * transactions (anvil) has a newest block as old as its last transaction, and the next block carries the current time.
 */
export async function nextBlockTime(client: PodnetClient): Promise<number> {
  const [latest, pending] = await Promise.all([
    chainTime(client),
    client.publicClient
      .getBlock({ blockTag: "pending" })
      .then((block) => Number(block.timestamp))
      .catch(() => 0),
  ]);
  return Math.max(latest, pending, Math.floor(Date.now() / 1000));
}

/**
 * Sends a contract write from the wallet account and waits for a successful receipt. A revert (at gas estimation, or
 * mined) becomes a {@link ContractError} with the custom error's name.
 */
export async function writeAndWait<
  const abi extends Abi,
  functionName extends ContractFunctionName<abi, "nonpayable" | "payable">,
>(
  client: PodnetClient,
  action: string,
  call: {
    address: Address;
    abi: abi;
    functionName: functionName;
    args: ContractFunctionArgs<abi, "nonpayable" | "payable", functionName>;
  },
): Promise<TransactionReceipt> {
  const { walletClient, account } = requireWallet(client, action);
  let hash: Hash;
  try {
    const gas = withGasHeadroom(await client.publicClient.estimateContractGas({ ...call, account } as never));
    hash = await walletClient.writeContract({
      ...call,
      account,
      gas,
      chain: walletClient.chain ?? client.publicClient.chain ?? null,
    } as unknown as Parameters<typeof walletClient.writeContract>[0]);
  } catch (error) {
    throw contractError(call.functionName, error);
  }
  const receipt = await client.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") {
    throw new ContractError(call.functionName, undefined, undefined, `transaction ${hash} reverted`, hash);
  }
  return receipt;
}

/**
 * Makes sure the wallet holds `amount` tokens and `spender` may take them: approves exactly `amount` when the
 * allowance is short (unless `approve` is false, then {@link InsufficientAllowanceError}).
 */
export async function ensureAllowance(
  client: PodnetClient,
  action: string,
  spender: Address,
  amount: bigint,
  approve = true,
): Promise<{ approveTxHash?: Hash }> {
  if (amount <= 0n) throw new InvalidParameterError("amount", `must be positive, got ${amount}`);
  const { address } = requireWallet(client, action);
  const { token } = addresses(client);
  const [balance, allowance] = await Promise.all([
    client.publicClient.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [address] }),
    client.publicClient.readContract({
      address: token,
      abi: erc20Abi,
      functionName: "allowance",
      args: [address, spender],
    }),
  ]);
  if (balance < amount) throw new InsufficientBalanceError(address, balance, amount);
  if (allowance >= amount) return {};
  if (!approve) throw new InsufficientAllowanceError(address, spender, allowance, amount);
  const receipt = await writeAndWait(client, action, {
    address: token,
    abi: erc20Abi,
    functionName: "approve",
    args: [spender, amount],
  });
  return { approveTxHash: receipt.transactionHash };
}

/** How long a permit the SDK signs stays valid, from the newest block's time: it is used at once. */
export const PERMIT_VALIDITY_SECONDS = 600;

/**
 * How a market call that pulls tokens is paid for: the allowance already covers it (the plain function), an EIP-2612
 * permit signed for exactly the amount (the `*WithPermit` function, one transaction), or an exact approval sent first
 * (the plain function after it).
 */
export type Funding =
  | { kind: "allowance" }
  | { kind: "permit"; permit: PermitSignature }
  | { kind: "approve"; approveTxHash: Hash };

/**
 * Whether the deployment's payment token takes EIP-2612 permits (its domain) or not (null), read once per client and
 * token ({@link readPermitDomain}). A failed read is not remembered.
 */
export function tokenPermitDomain(client: PodnetClient, owner: Address): Promise<PermitDomain | null> {
  const { token } = addresses(client);
  let domain = client.state.permitDomains.get(token);
  if (!domain) {
    domain = readPermitDomain(client.publicClient, { token, owner, chainId: client.deployment.chainId });
    client.state.permitDomains.set(token, domain);
    domain.catch(() => client.state.permitDomains.delete(token));
  }
  return domain;
}

/**
 * Makes sure the market (or `spender`) can pull `amount` from the wallet in the call that follows: nothing when the allowance covers
 * it; else, with `permit` (default) and a token that takes EIP-2612 permits, a permit for exactly `amount` signed by
 * the wallet (valid {@link PERMIT_VALIDITY_SECONDS} from the next block's time) for the `*WithPermit` function; else an exact
 * approval (`approve` false: {@link InsufficientAllowanceError} instead of either).
 */
export async function fundMarketCall(
  client: PodnetClient,
  action: string,
  amount: bigint,
  {
    approve = true,
    permit = true,
    spender: target,
  }: {
    approve?: boolean;
    permit?: boolean;
    /** Who pulls the tokens (default the market; an app vault for `fundApp`). */
    spender?: Address;
  } = {},
): Promise<Funding> {
  if (amount <= 0n) throw new InvalidParameterError("amount", `must be positive, got ${amount}`);
  const { walletClient, account, address } = requireWallet(client, action);
  const { token } = addresses(client);
  const market = target ?? addresses(client).market;
  const [balance, allowance] = await Promise.all([
    client.publicClient.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [address] }),
    client.publicClient.readContract({
      address: token,
      abi: erc20Abi,
      functionName: "allowance",
      args: [address, market],
    }),
  ]);
  if (balance < amount) throw new InsufficientBalanceError(address, balance, amount);
  if (allowance >= amount) return { kind: "allowance" };
  if (!approve) throw new InsufficientAllowanceError(address, market, allowance, amount);
  const domain = permit ? await tokenPermitDomain(client, address) : null;
  if (domain) {
    const [nonce, now] = await Promise.all([
      client.publicClient.readContract({
        address: token,
        abi: erc20PermitAbi,
        functionName: "nonces",
        args: [address],
      }),
      nextBlockTime(client),
    ]);
    const deadline = BigInt(now + PERMIT_VALIDITY_SECONDS);
    const signature = await walletClient.signTypedData({
      account,
      ...permitTypedData(domain, { owner: address, spender: market, value: amount, nonce, deadline }),
    });
    return { kind: "permit", permit: permitSignature(signature, deadline) };
  }
  const { approveTxHash } = await ensureAllowance(client, action, market, amount, true);
  return approveTxHash ? { kind: "approve", approveTxHash } : { kind: "allowance" };
}

/** Validates a uint96 token amount parameter. */
export function uint96(name: string, value: bigint): bigint {
  if (typeof value !== "bigint") throw new InvalidParameterError(name, "must be a bigint (token base units)");
  if (value <= 0n || value >= 1n << 96n) throw new InvalidParameterError(name, `must be in 1..2^96-1, got ${value}`);
  return value;
}
