/**
 * Headroom on estimated gas, for every transaction Podnet sends (SDK, worker, harness). An estimate is exact for the
 * state and the block time it ran against, but the transaction runs in a later block: another transaction landing
 * first (two providers bidding on one order) or a second passing (a lease settlement that now pays out, a storage
 * slot written from zero) changes what the call costs, and an exact estimate then runs out of gas inside the call
 * and reverts. Seen: `closeLease` and `topUp` estimated in one second and mined in the next reverted about once in
 * ten local scenario runs. Unused gas is not paid for, so the headroom costs nothing when it is not needed.
 */
export const GAS_HEADROOM_PERCENT = 130n;

/** `estimate` plus {@link GAS_HEADROOM_PERCENT} (integer arithmetic, rounded down). */
export function withGasHeadroom(estimate: bigint): bigint {
  return (estimate * GAS_HEADROOM_PERCENT) / 100n;
}
