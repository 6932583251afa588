/**
 * The escrow arithmetic of a lease, off chain: the contracts' `LeaseMath` library (contracts/src/libraries/LeaseMath.sol)
 * and the parts of `PodnetMarket` that apply it to a lease, mirrored once for the SDK, the worker and the indexer.
 * Exact integers only (token base units, unix seconds): every rounding is the contract's, and
 * test/escrow.test.ts checks the predictions against a deployed market to the base unit.
 *
 * Inputs are the contracts' unsigned integers; a price of 0 has no run-out time (division by zero throws, where the
 * contract would revert; the market never stores a zero price).
 */

/** Basis points in a whole: `LeaseMath.BPS`. */
export const BPS = 10_000n;

/** What settling a running lease yields: `LeaseMath.settle`'s two return values. */
export type Settlement = {
  /** What the provider earned since `settledAt`, never more than the balance. */
  earned: bigint;
  /** The time the provider is paid up to afterwards: `at`, or the second the funds ran out when that came first. */
  settledUntil: bigint;
};

/**
 * Settles a running lease at `at`: the provider earns `pricePerSecond` per second since `settledAt`, capped by the
 * escrowed `balance`. Mirrors `LeaseMath.settle`.
 *
 * @example
 * settle(100n, 30n, 1000n, 1002n) // { earned: 60n, settledUntil: 1002n }
 * settle(100n, 30n, 1000n, 1010n) // { earned: 100n, settledUntil: 1004n }: the funds ran out in second 4
 */
export function settle(balance: bigint, pricePerSecond: bigint, settledAt: bigint, at: bigint): Settlement {
  if (at <= settledAt) return { earned: 0n, settledUntil: settledAt };
  const due = pricePerSecond * (at - settledAt);
  if (due < balance) return { earned: due, settledUntil: at };
  return { earned: balance, settledUntil: runsOutAt(balance, pricePerSecond, settledAt) };
}

/**
 * The first second at which a lease settled at `settledAt` with `balance` left has no funds:
 * `settledAt + ceil(balance / pricePerSecond)`, the last, partial second being paid in full. Mirrors
 * `LeaseMath.runsOutAt`.
 */
export function runsOutAt(balance: bigint, pricePerSecond: bigint, settledAt: bigint): bigint {
  return settledAt + (balance + pricePerSecond - 1n) / pricePerSecond;
}

/** Whether the funds of a lease are used up at `at`. Mirrors `LeaseMath.isExhausted`. */
export function isExhausted(balance: bigint, pricePerSecond: bigint, settledAt: bigint, at: bigint): boolean {
  return at > settledAt ? pricePerSecond * (at - settledAt) >= balance : balance === 0n;
}

/** The protocol fee on a provider withdrawal of `gross`, rounded down in the provider's favour. Mirrors `LeaseMath.feeOf`. */
export function feeOf(gross: bigint, feeBps: bigint): bigint {
  return (gross * feeBps) / BPS;
}

/**
 * Stake a lease (or a bid) at `pricePerSecond` locks from the provider's free stake, with the market's
 * `collateralSeconds`. Mirrors `LeaseMath.collateralFor`.
 */
export function collateralFor(pricePerSecond: bigint, collateralSeconds: bigint): bigint {
  return pricePerSecond * collateralSeconds;
}

/**
 * Stake a bid at `pricePerSecond` reserves on an order whose maximum is `maxPricePerSecond`: the collateral of a bid
 * at `minBidCollateralBps` of the maximum at least, so that a bid far below the maximum still backs the lease it may
 * win. The reservation becomes the lease's collateral. Mirrors `OrderBook.placeBid`.
 */
export function bidReservation(
  pricePerSecond: bigint,
  maxPricePerSecond: bigint,
  minBidCollateralBps: bigint,
  collateralSeconds: bigint,
): bigint {
  const floor = (maxPricePerSecond * minBidCollateralBps) / BPS;
  return collateralFor(pricePerSecond > floor ? pricePerSecond : floor, collateralSeconds);
}

/**
 * The escrow that pays for `seconds` of a lease at `pricePerSecond`: what `LeaseMath.settle` owes for that span, so a
 * deposit of this much runs out exactly `seconds` after it starts.
 */
export function escrowFor(pricePerSecond: bigint, seconds: bigint): bigint {
  return pricePerSecond * seconds;
}

/**
 * How many seconds `amount` keeps a lease at `pricePerSecond` running: `ceil(amount / pricePerSecond)`, the last,
 * partial second being paid in full (`LeaseMath.runsOutAt` from time 0).
 */
export function fundedSeconds(amount: bigint, pricePerSecond: bigint): bigint {
  return runsOutAt(amount, pricePerSecond, 0n);
}

/** How a provider withdrawal of `gross` splits: `PodnetMarket.withdraw`'s fee (to the protocol) and net (to the provider). */
export function splitWithdrawal(gross: bigint, feeBps: bigint): { fee: bigint; net: bigint } {
  const fee = feeOf(gross, feeBps);
  return { fee, net: gross - fee };
}

/** `LeaseStatus` of the contracts (contracts/src/types/MarketTypes.sol), by value. */
export const leaseStatus = { none: 0, active: 1, closed: 2 } as const;

/** The fields of a `Lease` the escrow rules read, as `getLease` returns them through viem. */
export type LeaseEscrow = {
  status: number;
  balance: bigint;
  pricePerSecond: bigint;
  settledAt: number | bigint;
  endedAt: number | bigint;
};

/**
 * When a lease's funds run out at its current balance; for a closed lease, when it ended. Mirrors
 * `PodnetMarket.leaseRunsOutAt`, which reverts for a lease that does not exist (this throws).
 */
export function leaseRunsOutAt(lease: LeaseEscrow): bigint {
  if (lease.status === leaseStatus.none) throw new RangeError("leaseRunsOutAt: no such lease (status none)");
  if (lease.status === leaseStatus.closed) return BigInt(lease.endedAt);
  return runsOutAt(lease.balance, lease.pricePerSecond, BigInt(lease.settledAt));
}

/**
 * What the lease's provider could withdraw from it (gross, before the fee) and whether its funds ran out. Mirrors
 * `PodnetMarket.withdrawable`. `accruesUntil` is what the market's `_accruesUntil` gives: the block time, or, for a
 * lease of a provider reported dark since the lease started, the dark record's `darkAt`.
 *
 * @example
 * const { amount } = leaseWithdrawable(lease, block.timestamp);
 * const { net } = splitWithdrawal(amount, BigInt(params.feeBps)); // what reaches the provider
 */
export function leaseWithdrawable(lease: LeaseEscrow, accruesUntil: bigint): { amount: bigint; outOfFunds: boolean } {
  if (lease.status === leaseStatus.closed) return { amount: lease.balance, outOfFunds: true };
  if (lease.status === leaseStatus.none) return { amount: 0n, outOfFunds: false };
  const { earned } = settle(lease.balance, lease.pricePerSecond, BigInt(lease.settledAt), accruesUntil);
  return { amount: earned, outOfFunds: earned === lease.balance };
}
