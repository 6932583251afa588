import { darkGapReportableUntil, isDarkGapReportable } from "@podnet/sdk/protocol";
import type { WorkerContext } from "../context.js";

/**
 * Why this provider should take no new work now (no quote, no bid), or undefined when it may:
 * - jailed after a dark report (the market refuses its leases and bids until `unjail`);
 * - a dark gap a late heartbeat recorded is still reportable (the market's rule, `isDarkGapReportable`): anyone may
 *   still report it dark for that gap, which ends every lease it runs at the gap's start, so a lease taken now could
 *   be cut short and its publisher paid from the provider's stake.
 */
export function notTakingWorkReason(ctx: WorkerContext, now = ctx.chainNow()): string | undefined {
  const { liveness } = ctx.state.data;
  if (liveness.jailedUntil !== undefined) {
    return `provider jailed after a dark report (it may unjail from ${liveness.jailedUntil}: run \`podnet-worker register\`)`;
  }
  const gap = liveness.darkGap;
  const threshold = ctx.params.heartbeatThreshold;
  if (gap && isDarkGapReportable({ darkGapUntil: gap.until }, threshold, now)) {
    const until = darkGapReportableUntil({ darkGapUntil: gap.until }, threshold);
    return `dark gap: the provider missed its heartbeats from ${gap.from} to ${gap.until} and can be reported dark for it until ${until}`;
  }
  return undefined;
}
