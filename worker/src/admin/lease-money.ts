import type { LeaseRecord } from "../store/worker-state.js";

/**
 * What a running lease earned, from the worker's own state (no chain read: the lease list answers fast with hundreds
 * of leases and while the chain is down). `accrued`: gross since the start up to now or the escrow's run-out, whichever
 * is first; `withdrawable`: the part since the provider was last paid (the market's settledAt, followed from
 * LeaseSettled; for a lease recorded before that was followed, the last withdrawal). Exact base units, decimal strings;
 * the market pays the last, partial second of a lease that ran dry with the rest of its balance, which can be less
 * than one second's price.
 */
export function leaseEarnings(lease: LeaseRecord, now: number, lastWithdrawAt: number) {
  const price = BigInt(lease.pricePerSecond);
  const until = lease.runsOutAt === undefined ? now : Math.min(now, lease.runsOutAt);
  const paidUpTo = lease.settledAt ?? Math.max(lease.startedAt, lastWithdrawAt);
  const seconds = (from: number) => BigInt(Math.max(0, until - from));
  return {
    accrued: (price * seconds(lease.startedAt)).toString(),
    withdrawable: (price * seconds(paidUpTo)).toString(),
  };
}
