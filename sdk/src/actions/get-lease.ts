import type { Address, Hex, ReadContractErrorType } from "viem";
import type { PodnetClient } from "../client.js";
import { type ErrorType, NotFoundError, type NotFoundErrorType } from "../errors.js";
import { leaseRunsOutAt, podnetMarketAbi } from "../protocol/index.js";
import { addresses } from "./internal/chain.js";

export type GetLeaseParameters = {
  leaseId: bigint;
  /** Reads the lease as it was at this block (default: the latest); both of its reads are made at one block. */
  blockNumber?: bigint;
};

export type GetLeaseReturnType = {
  leaseId: bigint;
  publisher: Address;
  provider: Address;
  status: "active" | "closed";
  specHash: Hex;
  pricePerSecond: bigint;
  /** Every token still held for the lease: unspent funds plus what the provider earned but did not withdraw. */
  balance: bigint;
  /** The provider's stake locked for this lease. */
  collateral: bigint;
  /** Unix seconds; `endedAt` is 0 while active. */
  startedAt: number;
  endedAt: number;
  /** The provider has been paid up to here. */
  settledAt: number;
  /** A dispute holds the collateral. */
  disputed: boolean;
  /** When the funds run out at the current price (for a closed lease: when it ended). */
  runsOutAt: number;
  /** What the provider could withdraw now. */
  withdrawable: bigint;
  /** The funds ran out: the lease only awaits closing. */
  outOfFunds: boolean;
};

export type GetLeaseErrorType = NotFoundErrorType | ReadContractErrorType | ErrorType;

/**
 * Reads a lease from the market with when its funds run out and what its provider could withdraw now.
 *
 * @throws {NotFoundError} when no lease has this id.
 * @example
 * const lease = await client.getLease({ leaseId });
 * console.log(`runs out at ${new Date(lease.runsOutAt * 1000).toISOString()}`);
 */
export async function getLease(client: PodnetClient, params: GetLeaseParameters): Promise<GetLeaseReturnType> {
  const { market } = addresses(client);
  const args = [params.leaseId] as const;
  // Unset: the latest block for each read (no extra round trip; `runsOutAt` below comes from the lease read itself).
  const { blockNumber } = params;
  const lease = await client.publicClient.readContract({
    address: market,
    abi: podnetMarketAbi,
    functionName: "getLease",
    args,
    blockNumber,
  });
  if (lease.status === 0) throw new NotFoundError("lease", params.leaseId.toString());
  // What is withdrawable depends on the block time and on whether the provider went dark: the market answers that.
  const [withdrawable, outOfFunds] = await client.publicClient.readContract({
    address: market,
    abi: podnetMarketAbi,
    functionName: "withdrawable",
    args,
    blockNumber,
  });
  return {
    leaseId: params.leaseId,
    publisher: lease.publisher,
    provider: lease.provider,
    status: lease.status === 1 ? "active" : "closed",
    specHash: lease.specHash,
    pricePerSecond: lease.pricePerSecond,
    balance: lease.balance,
    collateral: lease.collateral,
    startedAt: lease.startedAt,
    endedAt: lease.endedAt,
    settledAt: lease.settledAt,
    disputed: lease.disputed,
    // From the lease just read, so that it agrees with `balance` and `settledAt` even if a block came in between.
    runsOutAt: Number(leaseRunsOutAt(lease)),
    withdrawable,
    outOfFunds,
  };
}
