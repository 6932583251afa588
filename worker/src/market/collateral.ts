import { podnetMarketAbi } from "@podnet/sdk/protocol";
import { revertName, sendContract } from "../chain/tx-queue.js";
import type { WorkerContext } from "../context.js";

/**
 * Gives back the collateral of this provider's closed leases once the dispute window after their end is over. The
 * market keeps a closed lease's collateral locked until `endedAt + disputeWindow` (LeaseClosed's `releasableAt`; the
 * window in force, so a governance change moves it) so its publisher can still dispute it, and then anyone may call
 * `releaseCollateral`; the provider is the one that wants it. What is pending lives in the state (`lease.collateral`), so a restarted worker still releases it.
 *
 * A lease with a dispute not yet ruled is skipped: the dispute holds the collateral, and its ruling releases what the
 * arbiter did not slash (DisputeSettled). A release someone else made first (MarketCollateralNotHeld) is done.
 */
export async function releaseHeldCollateral(ctx: WorkerContext, now: number): Promise<void> {
  const { state } = ctx;
  const retryAt = retries(ctx);
  const disputed = new Set(
    Object.values(state.data.disputes)
      .filter((d) => d.status !== "ruled")
      .map((d) => d.leaseId),
  );
  for (const lease of Object.values(state.data.leases)) {
    const held = lease.collateral;
    if (lease.status !== "closed" || !held || disputed.has(lease.id)) continue;
    // The market judges with the window in force, not the one at the close (governance may have changed it).
    const releasableAt = (lease.closedAt ?? 0) + Number(ctx.params.disputeWindow);
    if (now < releasableAt) continue;
    if (now < (retryAt.get(lease.id) ?? 0)) continue;
    // The lease's own logger: every record of this release carries `lease` (docs/worker.md, Logs).
    const log = ctx.log.child({ lease: lease.id });
    try {
      await sendContract(ctx.chain, ctx.txs, `releaseCollateral ${lease.id}`, {
        address: ctx.chain.deployment.contracts.podnetMarket.address,
        abi: podnetMarketAbi,
        functionName: "releaseCollateral",
        args: [BigInt(lease.id)],
      });
      // The CollateralReleased event clears the record; until the follower sees it, do not send again.
      delete lease.collateral;
      log.info("collateral released", { amount: held.held });
    } catch (error) {
      const name = revertName(error);
      if (name === "MarketCollateralNotHeld") {
        // Released already (by anyone, or by a ruling): nothing is held any more.
        delete lease.collateral;
        log.debug("collateral already released");
      } else if (name === "MarketLeaseDisputed" || name === "MarketDisputeWindowOpen") {
        // A dispute the follower has not reached yet, or a clock ahead of the chain: try again on a later tick.
        log.debug("collateral not releasable yet", { reason: name });
        retryAt.set(lease.id, now + RETRY_SEC);
      } else {
        log.warn("releaseCollateral failed", { error: name });
        retryAt.set(lease.id, now + RETRY_SEC);
      }
    }
    state.save();
  }
}

/** Chain seconds before a release that failed is tried again (the money loop ticks every second). */
const RETRY_SEC = 30;
const retryTimes = new WeakMap<WorkerContext, Map<string, number>>();

function retries(ctx: WorkerContext): Map<string, number> {
  let map = retryTimes.get(ctx);
  if (!map) {
    map = new Map();
    retryTimes.set(ctx, map);
  }
  return map;
}
