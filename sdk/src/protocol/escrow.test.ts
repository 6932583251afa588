import { describe, expect, it } from "vitest";
import {
  BPS,
  bidReservation,
  collateralFor,
  escrowFor,
  feeOf,
  fundedSeconds,
  isExhausted,
  leaseRunsOutAt,
  leaseStatus,
  leaseWithdrawable,
  runsOutAt,
  settle,
  splitWithdrawal,
} from "./escrow.js";

const UINT96_MAX = (1n << 96n) - 1n;
const UINT40_MAX = (1n << 40n) - 1n;

/**
 * An independent model of the escrow: the lease pays its provider second by second, `price` a second or whatever is
 * left. Returns what was paid over `seconds` seconds and the second the funds were gone (undefined: still funded).
 */
function paySecondBySecond(balance: bigint, price: bigint, seconds: bigint) {
  let left = balance;
  let emptyAfter: bigint | undefined = balance === 0n ? 0n : undefined;
  for (let s = 1n; s <= seconds; s++) {
    const pay = left < price ? left : price;
    left -= pay;
    if (left === 0n && emptyAfter === undefined) emptyAfter = s;
  }
  return { paid: balance - left, emptyAfter };
}

/** A reproducible stream of bigints below `max` (a 64-bit LCG, several draws per value), so failures replay. */
function randomBigints(seed: bigint) {
  let state = seed;
  const next64 = () => {
    state = (state * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
    return state;
  };
  return (max: bigint) => ((next64() << 64n) | next64()) % (max + 1n);
}

describe("LeaseMath mirrors", () => {
  it("settle: pays per second up to the balance, and stops the clock where the funds ran out", () => {
    const table: [bigint, bigint, bigint, bigint, bigint, bigint][] = [
      // balance, price, settledAt, at -> earned, settledUntil
      [100n, 30n, 1000n, 1000n, 0n, 1000n],
      [100n, 30n, 1000n, 999n, 0n, 1000n], // `at` before the last settlement: nothing
      [100n, 30n, 1000n, 1001n, 30n, 1001n],
      [100n, 30n, 1000n, 1003n, 90n, 1003n],
      [100n, 30n, 1000n, 1004n, 100n, 1004n], // the last, partial second pays the remaining 10
      [100n, 30n, 1000n, 5000n, 100n, 1004n],
      [90n, 30n, 1000n, 1003n, 90n, 1003n], // exactly used up
      [0n, 30n, 1000n, 2000n, 0n, 1000n],
      [UINT96_MAX, 1n, 0n, UINT40_MAX, UINT40_MAX, UINT40_MAX],
      [UINT96_MAX, UINT96_MAX, UINT40_MAX - 1n, UINT40_MAX, UINT96_MAX, UINT40_MAX],
    ];
    for (const [balance, price, settledAt, at, earned, settledUntil] of table) {
      expect(settle(balance, price, settledAt, at), `${balance} ${price} ${settledAt} ${at}`).toEqual({
        earned,
        settledUntil,
      });
    }
  });

  it("runsOutAt rounds up (the last, partial second is paid in full); isExhausted agrees with it", () => {
    expect(runsOutAt(100n, 30n, 1000n)).toBe(1004n);
    expect(runsOutAt(90n, 30n, 1000n)).toBe(1003n);
    expect(runsOutAt(1n, UINT96_MAX, 7n)).toBe(8n);
    expect(runsOutAt(0n, 30n, 1000n)).toBe(1000n);
    expect(runsOutAt(UINT96_MAX, 1n, UINT40_MAX)).toBe(UINT40_MAX + UINT96_MAX);
    expect(isExhausted(100n, 30n, 1000n, 1003n)).toBe(false);
    expect(isExhausted(100n, 30n, 1000n, 1004n)).toBe(true);
    expect(isExhausted(0n, 30n, 1000n, 1000n)).toBe(true);
    expect(isExhausted(1n, 30n, 1000n, 1000n)).toBe(false);
    expect(isExhausted(1n, 30n, 1000n, 900n)).toBe(false);
    expect(() => runsOutAt(1n, 0n, 0n)).toThrow(RangeError);
  });

  it("feeOf rounds down in the provider's favour; collateralFor is price x seconds", () => {
    expect(feeOf(99n, 100n)).toBe(0n);
    expect(feeOf(100n, 100n)).toBe(1n);
    expect(feeOf(19_999n, 100n)).toBe(199n);
    expect(feeOf(12_345n, 0n)).toBe(0n);
    expect(feeOf(12_345n, BPS)).toBe(12_345n);
    expect(feeOf(UINT96_MAX * 1000n, 1000n)).toBe((UINT96_MAX * 1000n) / 10n);
    expect(collateralFor(1_000_000_000_000n, 86_400n)).toBe(86_400_000_000_000_000n);
    expect(collateralFor(UINT96_MAX, UINT40_MAX)).toBe(UINT96_MAX * UINT40_MAX);
  });

  it("bidReservation reserves at least the collateral of a bid at minBidCollateralBps of the maximum", () => {
    const max = 2_000_000_000_000n;
    expect(bidReservation(1n, max, 5000n, 86_400n)).toBe(collateralFor(max / 2n, 86_400n));
    expect(bidReservation(max / 2n + 1n, max, 5000n, 86_400n)).toBe(collateralFor(max / 2n + 1n, 86_400n));
    expect(bidReservation(1n, max, 0n, 86_400n)).toBe(86_400n);
    expect(bidReservation(1n, max, BPS, 86_400n)).toBe(collateralFor(max, 86_400n));
    // The floor rounds down, as the contract's integer division does.
    expect(bidReservation(1n, 3n, 5000n, 10n)).toBe(10n);
  });

  it("agrees with a second-by-second model of the escrow on every small lease", () => {
    const mismatches: string[] = [];
    const settledAt = 1000n;
    for (let balance = 0n; balance <= 40n; balance++) {
      for (let price = 1n; price <= 12n; price++) {
        for (let elapsed = 0n; elapsed <= 45n; elapsed++) {
          const at = settledAt + elapsed;
          const { paid, emptyAfter } = paySecondBySecond(balance, price, elapsed);
          const { earned, settledUntil } = settle(balance, price, settledAt, at);
          const until = emptyAfter !== undefined ? settledAt + emptyAfter : at;
          if (
            earned !== paid ||
            settledUntil !== until ||
            isExhausted(balance, price, settledAt, at) !== (paid === balance)
          ) {
            mismatches.push(
              `balance ${balance}, price ${price}, ${elapsed} s: earned ${earned}, until ${settledUntil}`,
            );
          }
        }
        const { emptyAfter } = paySecondBySecond(balance, price, 100n);
        if (runsOutAt(balance, price, settledAt) !== settledAt + (emptyAfter as bigint)) {
          mismatches.push(`balance ${balance}, price ${price}: runs out at ${runsOutAt(balance, price, settledAt)}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it("keeps its invariants over the whole uint96/uint40 range (seeded random leases)", () => {
    const draw = randomBigints(0x5eedn);
    const failures: string[] = [];
    for (let i = 0; i < 2000; i++) {
      // Every other lease has a price low enough to last for a while: random uint96 prices run out in a second.
      const price = 1n + draw(i % 2 === 0 ? UINT96_MAX - 1n : 10n ** 15n);
      const balance = draw(UINT96_MAX);
      const settledAt = draw(UINT40_MAX);
      const t1 = settledAt + draw(UINT40_MAX - settledAt);
      const t2 = t1 + draw(UINT40_MAX - t1);
      const feeBps = draw(1000n);
      const fail = (what: string) =>
        failures.push(`#${i} (balance ${balance}, price ${price}, settledAt ${settledAt}, ${t1}, ${t2}): ${what}`);

      const whole = settle(balance, price, settledAt, t2);
      if (whole.earned > balance) fail("earned more than the balance");
      if (whole.settledUntil > t2 || whole.settledUntil < settledAt) fail("settled outside [settledAt, at]");
      // Settling twice pays what settling once does: withdrawing often changes nothing for anyone.
      const first = settle(balance, price, settledAt, t1);
      const second = settle(balance - first.earned, price, first.settledUntil, t2);
      if (first.earned + second.earned !== whole.earned) fail("two settlements pay differently from one");
      if (second.settledUntil !== whole.settledUntil) fail("two settlements end elsewhere than one");
      // The funds run out exactly where settling pays the whole balance for the first time.
      const out = runsOutAt(balance, price, settledAt);
      if (!isExhausted(balance, price, settledAt, out)) fail("not exhausted at runsOutAt");
      if (out > settledAt && isExhausted(balance, price, settledAt, out - 1n)) fail("exhausted before runsOutAt");
      if ((whole.earned === balance) !== isExhausted(balance, price, settledAt, t2)) fail("isExhausted disagrees");
      // The fee is the largest amount not above gross x feeBps / 10000.
      const { fee, net } = splitWithdrawal(whole.earned, feeBps);
      if (fee * BPS > whole.earned * feeBps || (fee + 1n) * BPS <= whole.earned * feeBps) fail("fee not rounded down");
      if (fee + net !== whole.earned) fail("fee + net is not the gross");
    }
    expect(failures).toEqual([]);
  });
});

describe("escrow helpers", () => {
  it("escrowFor funds exactly `seconds`; fundedSeconds is how long an amount lasts, rounded up", () => {
    expect(escrowFor(1_000_000_007n, 3600n)).toBe(3_600_000_025_200n);
    expect(runsOutAt(escrowFor(7n, 600n), 7n, 1000n)).toBe(1600n);
    expect(fundedSeconds(escrowFor(7n, 600n), 7n)).toBe(600n);
    expect(fundedSeconds(4201n, 7n)).toBe(601n);
    expect(fundedSeconds(0n, 7n)).toBe(0n);
  });

  it("splitWithdrawal: fee to the protocol, the rest to the provider", () => {
    expect(splitWithdrawal(3_600_000_025_200n, 100n)).toEqual({ fee: 36_000_000_252n, net: 3_564_000_024_948n });
    expect(splitWithdrawal(99n, 100n)).toEqual({ fee: 0n, net: 99n });
  });

  it("leaseRunsOutAt and leaseWithdrawable follow the lease's status, as the market's views do", () => {
    const active = { status: leaseStatus.active, balance: 100n, pricePerSecond: 30n, settledAt: 1000, endedAt: 0 };
    expect(leaseRunsOutAt(active)).toBe(1004n);
    expect(leaseWithdrawable(active, 1002n)).toEqual({ amount: 60n, outOfFunds: false });
    expect(leaseWithdrawable(active, 1004n)).toEqual({ amount: 100n, outOfFunds: true });
    // A dark provider's lease accrues only up to darkAt, which the caller passes instead of the block time.
    expect(leaseWithdrawable(active, 1001n)).toEqual({ amount: 30n, outOfFunds: false });

    const closed = { ...active, status: leaseStatus.closed, balance: 42n, endedAt: 1003 };
    expect(leaseRunsOutAt(closed)).toBe(1003n);
    expect(leaseWithdrawable(closed, 5000n)).toEqual({ amount: 42n, outOfFunds: true });

    const none = { status: leaseStatus.none, balance: 0n, pricePerSecond: 0n, settledAt: 0, endedAt: 0 };
    expect(leaseWithdrawable(none, 5000n)).toEqual({ amount: 0n, outOfFunds: false });
    expect(() => leaseRunsOutAt(none)).toThrow(/no such lease/);
  });
});
