import { podnetMarketAbi } from "@podnet/sdk/protocol";
import { parseEventLogs } from "viem";
import { sendContract } from "../chain/tx-queue.js";
import type { WorkerContext } from "../context.js";
import type { WithdrawalRecord } from "../store/worker-state.js";

/**
 * Withdraws the earnings of every active lease and every closed lease still owing, in one transaction through the
 * worker's queue, and records what the market's ProviderWithdrew says was paid (gross, fee, net) in the state for the
 * console's earnings page. Used by the money loop (every `withdrawIntervalSec`) and by the admin API's
 * POST /admin/v1/withdraw. Answers undefined when no lease could owe anything (nothing is sent), a record with zeros
 * when the transaction found nothing accrued; throws what the transaction threw.
 */
export async function withdrawEarnings(ctx: WorkerContext): Promise<WithdrawalRecord | undefined> {
  const leases = Object.values(ctx.state.data.leases).filter(
    (l) => l.status === "active" || (l.owed !== undefined && l.owed !== "0"),
  );
  // Set before the transaction, so a failing one is retried at the next interval, not at every money tick.
  ctx.state.data.lastWithdrawAt = ctx.chainNow();
  ctx.state.save();
  if (leases.length === 0) return undefined;
  const receipt = await sendContract(ctx.chain, ctx.txs, `withdraw ${leases.length} leases`, {
    address: ctx.chain.deployment.contracts.podnetMarket.address,
    abi: podnetMarketAbi,
    functionName: "withdraw",
    args: [leases.map((l) => BigInt(l.id))],
  });
  for (const lease of leases) if (lease.status === "closed") lease.owed = "0";
  const [withdrew] = parseEventLogs({ abi: podnetMarketAbi, eventName: "ProviderWithdrew", logs: receipt.logs });
  const record: WithdrawalRecord = {
    at: Math.floor(Date.now() / 1000),
    tx: receipt.transactionHash,
    gross: (withdrew?.args.gross ?? 0n).toString(),
    fee: (withdrew?.args.fee ?? 0n).toString(),
    net: (withdrew?.args.net ?? 0n).toString(),
    leases: leases.length,
  };
  // A transaction that found nothing accrued moved no money: nothing for the earnings page.
  if (withdrew) {
    ctx.state.recordWithdrawal(record);
    ctx.adminEvents.publish("earnings", { tx: record.tx, net: record.net });
  }
  ctx.state.save();
  ctx.metrics.withdrawnWei.inc(Number(withdrew?.args.net ?? 0n));
  ctx.log.info("withdrew earnings", { leases: leases.length, net: record.net });
  return record;
}
