import { type Address, type Hash, parseEventLogs } from "viem";
import type { PodnetClient } from "../client.js";
import { ContractError, type ContractErrorType, type ErrorType } from "../errors.js";
import { podnetMarketAbi } from "../protocol/index.js";
import { addresses, type WriteAndWaitErrorType, writeAndWait } from "./internal/chain.js";

export type ReportDarkParameters = {
  /** A provider whose last heartbeat is older than the market's heartbeat threshold. */
  provider: Address;
};

export type ReportDarkReturnType = {
  /** Paid to the caller out of the slashed stake. */
  reward: bigint;
  /** Slashed from the provider's locked stake (the rest of it, minus the reward, compensates its publishers). */
  slashed: bigint;
  /** Unix seconds: the provider's leases end here. */
  darkAt: number;
  txHash: Hash;
};

export type ReportDarkErrorType = WriteAndWaitErrorType | ContractErrorType | ErrorType;

/**
 * Reports a provider that stopped heartbeating (anyone may, and earns the reporter reward): its running leases end
 * at its last heartbeat, part of its locked stake is slashed for its publishers, and it is jailed for the market's
 * jail cooldown (it leaves with `unjail`, holding at least the minimum stake).
 *
 * @throws {ContractError} `MarketProviderAlive` (with the time it becomes reportable) when it is not dark.
 * @example
 * const { reward } = await client.reportDark({ provider: "0x…" });
 */
export async function reportDark(client: PodnetClient, params: ReportDarkParameters): Promise<ReportDarkReturnType> {
  const receipt = await writeAndWait(client, "reportDark", {
    address: addresses(client).market,
    abi: podnetMarketAbi,
    functionName: "reportDark",
    args: [params.provider],
  });
  const [reported] = parseEventLogs({ abi: podnetMarketAbi, eventName: "ProviderReportedDark", logs: receipt.logs });
  if (!reported) {
    throw new ContractError(
      "reportDark",
      undefined,
      undefined,
      "mined without a ProviderReportedDark event",
      receipt.transactionHash,
    );
  }
  return {
    reward: reported.args.reward,
    slashed: reported.args.slashed,
    darkAt: Number(reported.args.darkAt),
    txHash: receipt.transactionHash,
  };
}
