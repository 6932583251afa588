import {
  type Address,
  erc20Abi,
  type GetAddressErrorType,
  type GetContractEventsErrorType,
  getAddress,
  type ReadContractErrorType,
} from "viem";
import type { PodnetClient } from "../client.js";
import { type ErrorType, InvalidParameterError, type InvalidParameterErrorType } from "../errors.js";
import { podnetMarketAbi } from "../protocol/index.js";
import { addresses, fromBlock } from "./internal/chain.js";
import { walletAddress } from "./internal/wallet.js";

export type GetBalanceParameters = {
  /** Whose balance; default: the wallet account. */
  address?: Address;
};

export type GetBalanceReturnType = {
  address: Address;
  /** Payment tokens in the account (base units). */
  balance: bigint;
  /** What the market may take from the account. */
  allowance: bigint;
  /** Tokens held in the escrow of the account's active leases (unspent plus earned but not withdrawn). */
  escrow: bigint;
  /** The part of `escrow` not yet earned by providers: what closing every lease now would refund. */
  unspent: bigint;
  /** Ids of the account's active leases. */
  activeLeases: bigint[];
};

export type GetBalanceErrorType =
  | InvalidParameterErrorType
  | GetAddressErrorType
  | ReadContractErrorType
  | GetContractEventsErrorType
  | ErrorType;

/**
 * The publisher's money: token balance, the market's allowance, and what sits in the escrow of its active leases
 * (from its LeaseCreated events and a `getLease` read of each; meant for local chains and modest histories, an
 * indexer query scales better).
 *
 * @example
 * const { balance, escrow, unspent } = await client.getBalance();
 */
export async function getBalance(
  client: PodnetClient,
  params: GetBalanceParameters = {},
): Promise<GetBalanceReturnType> {
  const raw = params.address ?? walletAddress(client);
  if (!raw) throw new InvalidParameterError("address", "give an address or create the client with a walletClient");
  const address = getAddress(raw);
  const { token, market } = addresses(client);
  const [balance, allowance, created] = await Promise.all([
    client.publicClient.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [address] }),
    client.publicClient.readContract({
      address: token,
      abi: erc20Abi,
      functionName: "allowance",
      args: [address, market],
    }),
    client.publicClient.getContractEvents({
      address: market,
      abi: podnetMarketAbi,
      eventName: "LeaseCreated",
      args: { publisher: address },
      fromBlock: fromBlock(client),
      toBlock: "latest",
    }),
  ]);
  const ids = [...new Set(created.map((e) => e.args.leaseId as bigint))];
  const leases = await Promise.all(
    ids.map(async (leaseId) => {
      const args = [leaseId] as const;
      const [lease, [earned]] = await Promise.all([
        client.publicClient.readContract({ address: market, abi: podnetMarketAbi, functionName: "getLease", args }),
        client.publicClient.readContract({ address: market, abi: podnetMarketAbi, functionName: "withdrawable", args }),
      ]);
      return { leaseId, lease, earned };
    }),
  );
  const active = leases.filter((l) => l.lease.status === 1);
  const escrow = active.reduce((sum, l) => sum + l.lease.balance, 0n);
  const unspent = active.reduce((sum, l) => sum + (l.lease.balance - l.earned), 0n);
  return { address, balance, allowance, escrow, unspent, activeLeases: active.map((l) => l.leaseId) };
}
