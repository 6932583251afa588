/**
 * When a provider can be reported dark, off chain: the rule of `Guarantees.reportDark`
 * (contracts/src/libraries/Guarantees.sol), mirrored once for the SDK, the worker and the indexer. Unix seconds; the
 * inputs are the fields of the market's `Stake` (`stakeOf`) and `MarketParams.heartbeatThreshold`.
 *
 * A provider is reportable when its last heartbeat is older than the threshold (strictly), or, although alive now,
 * when its last recorded dark gap (a late heartbeat: silent from `darkGapFrom` to `darkGapUntil`) ended at most
 * `heartbeatThreshold` ago. A jailed provider, or one that never staked, cannot be reported.
 */

/** The fields of a `Stake` the dark rule reads, as `stakeOf` returns them through viem. */
export type StakeLiveness = {
  lastHeartbeat: number | bigint;
  jailed: boolean;
  darkGapFrom: number | bigint;
  darkGapUntil: number | bigint;
};

/** Whether `reportDark` would succeed at `now`, and for which silence. */
export type DarkReportability =
  | { reportable: false; reason: "not-staked" | "jailed" }
  /** Alive, and no reportable gap: reportable from `reportableAt` on if it stays silent. */
  | { reportable: false; reason: "alive"; reportableAt: bigint }
  /** Silent for longer than the threshold since `darkAt`, its last heartbeat. */
  | { reportable: true; reason: "silent"; darkAt: bigint }
  /** Alive, but its dark gap from `darkAt` is reportable until `reportableUntil` (inclusive). */
  | { reportable: true; reason: "dark-gap"; darkAt: bigint; reportableUntil: bigint };

/**
 * The last second a recorded dark gap can be reported: `darkGapUntil + heartbeatThreshold` (inclusive), or undefined
 * when no gap is recorded (`darkGapUntil` 0, also after `unjail`). Mirrors `Guarantees.reportDark` and the
 * `reportableUntil` of `DarkGapRecorded`.
 */
export function darkGapReportableUntil(
  stake: Pick<StakeLiveness, "darkGapUntil">,
  heartbeatThreshold: number | bigint,
): bigint | undefined {
  const until = BigInt(stake.darkGapUntil);
  return until === 0n ? undefined : until + BigInt(heartbeatThreshold);
}

/** Whether a recorded dark gap can still be reported at `now` (see {@link darkGapReportableUntil}). */
export function isDarkGapReportable(
  stake: Pick<StakeLiveness, "darkGapUntil">,
  heartbeatThreshold: number | bigint,
  now: number | bigint,
): boolean {
  const until = darkGapReportableUntil(stake, heartbeatThreshold);
  return until !== undefined && BigInt(now) <= until;
}

/** Whether `reportDark(provider)` would succeed at `now`, and with which `darkAt`. Mirrors `Guarantees.reportDark`. */
export function darkReportability(
  stake: StakeLiveness,
  heartbeatThreshold: number | bigint,
  now: number | bigint,
): DarkReportability {
  const last = BigInt(stake.lastHeartbeat);
  if (last === 0n) return { reportable: false, reason: "not-staked" };
  if (stake.jailed) return { reportable: false, reason: "jailed" };
  const reportableAt = last + BigInt(heartbeatThreshold) + 1n;
  if (BigInt(now) >= reportableAt) return { reportable: true, reason: "silent", darkAt: last };
  if (isDarkGapReportable(stake, heartbeatThreshold, now)) {
    return {
      reportable: true,
      reason: "dark-gap",
      darkAt: BigInt(stake.darkGapFrom),
      reportableUntil: darkGapReportableUntil(stake, heartbeatThreshold) as bigint,
    };
  }
  return { reportable: false, reason: "alive", reportableAt };
}
