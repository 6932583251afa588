// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {LeaseMath} from "../../src/libraries/LeaseMath.sol";
import {Test} from "forge-std/Test.sol";

/// @notice Fuzz tests of the escrow arithmetic. Inputs are clamped to what the market stores: prices and balances
///         in uint96, times in uint40; prices are positive (the market rejects a zero price).
contract LeaseMathTest is Test {
    uint256 internal constant MAX_PRICE = type(uint96).max;
    uint256 internal constant MAX_BALANCE = type(uint96).max;
    uint256 internal constant MAX_TIME = type(uint40).max;

    /// @dev A positive price, a balance, a settle time and a later (or equal) time, each over its whole range.
    ///      With random uint96 prices and balances most leases run out within a second or two, so the tests that
    ///      need both branches use `_lease` instead.
    function _bounded(uint256 balance, uint256 price, uint256 settledAt, uint256 at)
        internal
        pure
        returns (uint256, uint256, uint256, uint256)
    {
        balance = _bound(balance, 0, MAX_BALANCE);
        price = _bound(price, 1, MAX_PRICE);
        settledAt = _bound(settledAt, 0, MAX_TIME);
        at = _bound(at, settledAt, MAX_TIME);
        return (balance, price, settledAt, at);
    }

    /// @dev A lease whose funds run out `lifetime` seconds after `settledAt`, no later than MAX_TIME: `lifetimeSeed`
    ///      picks the lifetime, `priceSeed` the price (as high as the balance allows, up to uint96 max), and the
    ///      balance is any amount that lasts exactly that long. A lifetime of 0 means a zero balance.
    function _lease(uint256 lifetimeSeed, uint256 priceSeed, uint256 settledAtSeed)
        internal
        pure
        returns (uint256 balance, uint256 price, uint256 settledAt, uint256 lifetime)
    {
        settledAt = _bound(settledAtSeed, 0, MAX_TIME);
        lifetime = _bound(lifetimeSeed, 0, MAX_TIME - settledAt);
        if (lifetime == 0) {
            price = _bound(priceSeed, 1, MAX_PRICE);
        } else {
            uint256 maxPrice = MAX_BALANCE / lifetime;
            price = _bound(priceSeed, 1, maxPrice < MAX_PRICE ? maxPrice : MAX_PRICE);
            uint256 remainder = uint256(keccak256(abi.encode(lifetimeSeed, priceSeed))) % price;
            // Between price * (lifetime - 1) + 1 and price * lifetime <= MAX_BALANCE.
            balance = price * (lifetime - 1) + 1 + remainder;
        }
    }

    /*//////////////////////////////////////////////////////////////
                                 SETTLE
    //////////////////////////////////////////////////////////////*/

    function test_fuzz_settle_neverExceedsBalance(uint256 balance, uint256 price, uint256 settledAt, uint256 at)
        public
        pure
    {
        (balance, price, settledAt, at) = _bounded(balance, price, settledAt, at);

        (uint256 earned,) = LeaseMath.settle(balance, price, settledAt, at);

        assertLe(earned, balance);
    }

    function test_fuzz_settle_neverExceedsBalanceOverLifetime(
        uint256 lifetimeSeed,
        uint256 priceSeed,
        uint256 settledAt,
        uint256 at
    ) public pure {
        (uint256 balance, uint256 price, uint256 start,) = _lease(lifetimeSeed, priceSeed, settledAt);
        at = _bound(at, start, MAX_TIME);

        (uint256 earned,) = LeaseMath.settle(balance, price, start, at);

        assertLe(earned, balance);
    }

    function test_fuzz_settle_earnedPlusRemainingEqualsBalance(
        uint256 lifetimeSeed,
        uint256 priceSeed,
        uint256 settledAt,
        uint256 at
    ) public pure {
        (uint256 balance, uint256 price, uint256 start,) = _lease(lifetimeSeed, priceSeed, settledAt);
        at = _bound(at, start, MAX_TIME);

        (uint256 earned,) = LeaseMath.settle(balance, price, start, at);

        // Independently: the provider earns price * elapsed, capped by the balance; the publisher keeps the rest.
        uint256 due = price * (at - start);
        uint256 remaining = balance - earned;
        assertEq(earned, due < balance ? due : balance, "earned");
        assertEq(remaining, due < balance ? balance - due : 0, "remaining");
        assertEq(earned + remaining, balance, "sum");
    }

    function test_fuzz_settle_settledUntilWithinBounds(uint256 balance, uint256 price, uint256 settledAt, uint256 at)
        public
        pure
    {
        (balance, price, settledAt, at) = _bounded(balance, price, settledAt, at);

        (, uint256 settledUntil) = LeaseMath.settle(balance, price, settledAt, at);

        assertLe(settledUntil, at, "not after at");
        assertGe(settledUntil, settledAt, "not before settledAt");
    }

    function test_fuzz_settle_settledUntilIsAtWhileFundsRemain(
        uint256 lifetimeSeed,
        uint256 priceSeed,
        uint256 settledAt,
        uint256 at
    ) public pure {
        (uint256 balance, uint256 price, uint256 start, uint256 lifetime) = _lease(lifetimeSeed, priceSeed, settledAt);
        vm.assume(lifetime > 0);
        at = _bound(at, start, start + lifetime - 1);

        (uint256 earned, uint256 settledUntil) = LeaseMath.settle(balance, price, start, at);

        assertLt(earned, balance, "funds remain");
        assertEq(settledUntil, at);
    }

    function test_fuzz_settle_settledUntilIsRunsOutAtWhenExhausted(
        uint256 lifetimeSeed,
        uint256 priceSeed,
        uint256 settledAt,
        uint256 at
    ) public pure {
        (uint256 balance, uint256 price, uint256 start, uint256 lifetime) = _lease(lifetimeSeed, priceSeed, settledAt);
        at = _bound(at, start + lifetime, MAX_TIME);

        (uint256 earned, uint256 settledUntil) = LeaseMath.settle(balance, price, start, at);

        assertEq(earned, balance, "exhausted");
        assertEq(settledUntil, LeaseMath.runsOutAt(balance, price, start));
        assertEq(settledUntil, start + lifetime);
    }

    function test_fuzz_settle_settledUntilIsAtOrRunsOutAt(uint256 balance, uint256 price, uint256 settledAt, uint256 at)
        public
        pure
    {
        (balance, price, settledAt, at) = _bounded(balance, price, settledAt, at);

        (uint256 earned, uint256 settledUntil) = LeaseMath.settle(balance, price, settledAt, at);

        if (earned < balance) assertEq(settledUntil, at);
        else assertEq(settledUntil, LeaseMath.runsOutAt(balance, price, settledAt));
    }

    function test_fuzz_settle_returnsNothingAtOrBeforeSettledAt(
        uint256 balance,
        uint256 price,
        uint256 settledAt,
        uint256 at
    ) public pure {
        balance = _bound(balance, 0, MAX_BALANCE);
        price = _bound(price, 1, MAX_PRICE);
        settledAt = _bound(settledAt, 0, MAX_TIME);
        at = _bound(at, 0, settledAt);

        (uint256 earned, uint256 settledUntil) = LeaseMath.settle(balance, price, settledAt, at);

        assertEq(earned, 0);
        assertEq(settledUntil, settledAt);
    }

    function test_fuzz_settle_isPathIndependent(
        uint256 lifetimeSeed,
        uint256 priceSeed,
        uint256 settledAt,
        uint256 t1,
        uint256 t2
    ) public pure {
        (uint256 balance, uint256 price, uint256 start,) = _lease(lifetimeSeed, priceSeed, settledAt);
        t2 = _bound(t2, start, MAX_TIME);
        t1 = _bound(t1, start, t2);

        (uint256 first, uint256 settledUntil1) = LeaseMath.settle(balance, price, start, t1);
        (uint256 second, uint256 settledUntil2) = LeaseMath.settle(balance - first, price, settledUntil1, t2);
        (uint256 once, uint256 settledUntilOnce) = LeaseMath.settle(balance, price, start, t2);

        assertEq(first + second, once, "earned");
        assertEq(settledUntil2, settledUntilOnce, "settledUntil");
    }

    function test_fuzz_settle_isPathIndependentOverFullRange(
        uint256 balance,
        uint256 price,
        uint256 settledAt,
        uint256 t1,
        uint256 t2
    ) public pure {
        (balance, price, settledAt, t2) = _bounded(balance, price, settledAt, t2);
        t1 = _bound(t1, settledAt, t2);

        (uint256 first, uint256 settledUntil1) = LeaseMath.settle(balance, price, settledAt, t1);
        (uint256 second,) = LeaseMath.settle(balance - first, price, settledUntil1, t2);
        (uint256 once,) = LeaseMath.settle(balance, price, settledAt, t2);

        assertEq(first + second, once);
    }

    function test_fuzz_settle_isMonotonicInTime(
        uint256 lifetimeSeed,
        uint256 priceSeed,
        uint256 settledAt,
        uint256 t1,
        uint256 t2
    ) public pure {
        (uint256 balance, uint256 price, uint256 start,) = _lease(lifetimeSeed, priceSeed, settledAt);
        t2 = _bound(t2, start, MAX_TIME);
        t1 = _bound(t1, start, t2);

        (uint256 earlier, uint256 settledUntil1) = LeaseMath.settle(balance, price, start, t1);
        (uint256 later, uint256 settledUntil2) = LeaseMath.settle(balance, price, start, t2);

        assertLe(earlier, later, "earned");
        assertLe(settledUntil1, settledUntil2, "settledUntil");
    }

    function test_settle_paysLastPartialSecondInFull() public pure {
        // 10 units at 3 per second: 3, 6, 9 after three seconds, the last unit in the fourth.
        (uint256 earned, uint256 settledUntil) = LeaseMath.settle(10, 3, 100, 103);
        assertEq(earned, 9);
        assertEq(settledUntil, 103);

        (earned, settledUntil) = LeaseMath.settle(10, 3, 100, 104);
        assertEq(earned, 10);
        assertEq(settledUntil, 104);

        (earned, settledUntil) = LeaseMath.settle(10, 3, 100, 1000);
        assertEq(earned, 10);
        assertEq(settledUntil, 104);
        assertEq(LeaseMath.runsOutAt(10, 3, 100), 104);
    }

    function test_settle_doesNotOverflowAtTypeMaxima() public pure {
        (uint256 earned, uint256 settledUntil) = LeaseMath.settle(MAX_BALANCE, MAX_PRICE, 0, MAX_TIME);
        assertEq(earned, MAX_BALANCE);
        assertEq(settledUntil, 1);

        (earned, settledUntil) = LeaseMath.settle(MAX_BALANCE, 1, 0, MAX_TIME);
        assertEq(earned, MAX_TIME);
        assertEq(settledUntil, MAX_TIME);

        assertEq(LeaseMath.runsOutAt(MAX_BALANCE, 1, MAX_TIME), MAX_TIME + MAX_BALANCE);
        assertTrue(LeaseMath.isExhausted(MAX_BALANCE, MAX_PRICE, 0, MAX_TIME));
    }

    /*//////////////////////////////////////////////////////////////
                           EXHAUSTION, RUN-OUT
    //////////////////////////////////////////////////////////////*/

    function test_fuzz_isExhausted_agreesWithSettle(
        uint256 lifetimeSeed,
        uint256 priceSeed,
        uint256 settledAt,
        uint256 at
    ) public pure {
        (uint256 balance, uint256 price, uint256 start,) = _lease(lifetimeSeed, priceSeed, settledAt);
        // Any time, also before settledAt.
        at = _bound(at, 0, MAX_TIME);

        (uint256 earned,) = LeaseMath.settle(balance, price, start, at);

        assertEq(LeaseMath.isExhausted(balance, price, start, at), earned == balance);
    }

    function test_fuzz_isExhausted_agreesWithSettleOverFullRange(
        uint256 balance,
        uint256 price,
        uint256 settledAt,
        uint256 at
    ) public pure {
        balance = _bound(balance, 0, MAX_BALANCE);
        price = _bound(price, 1, MAX_PRICE);
        settledAt = _bound(settledAt, 0, MAX_TIME);
        at = _bound(at, 0, MAX_TIME);

        (uint256 earned,) = LeaseMath.settle(balance, price, settledAt, at);

        assertEq(LeaseMath.isExhausted(balance, price, settledAt, at), earned == balance);
    }

    function test_fuzz_runsOutAt_isFirstExhaustedSecond(uint256 balance, uint256 price, uint256 settledAt) public pure {
        balance = _bound(balance, 0, MAX_BALANCE);
        price = _bound(price, 1, MAX_PRICE);
        settledAt = _bound(settledAt, 0, MAX_TIME);

        uint256 runsOut = LeaseMath.runsOutAt(balance, price, settledAt);

        assertGe(runsOut, settledAt);
        assertTrue(LeaseMath.isExhausted(balance, price, settledAt, runsOut), "exhausted at runsOutAt");
        if (balance > 0) {
            assertGt(runsOut, settledAt, "a positive balance lasts at least one second");
            assertFalse(LeaseMath.isExhausted(balance, price, settledAt, runsOut - 1), "funded a second earlier");
        } else {
            assertEq(runsOut, settledAt);
        }
    }

    function test_fuzz_runsOutAt_isEndOfLifetime(uint256 lifetimeSeed, uint256 priceSeed, uint256 settledAt)
        public
        pure
    {
        (uint256 balance, uint256 price, uint256 start, uint256 lifetime) = _lease(lifetimeSeed, priceSeed, settledAt);

        uint256 runsOut = LeaseMath.runsOutAt(balance, price, start);

        assertEq(runsOut, start + lifetime);
        assertTrue(LeaseMath.isExhausted(balance, price, start, runsOut), "exhausted at runsOutAt");
        if (lifetime > 0) {
            assertFalse(LeaseMath.isExhausted(balance, price, start, runsOut - 1), "funded a second earlier");
        }
    }

    function test_fuzz_runsOutAt_isCeilOfBalanceOverPrice(uint256 balance, uint256 price, uint256 settledAt)
        public
        pure
    {
        balance = _bound(balance, 0, MAX_BALANCE);
        price = _bound(price, 1, MAX_PRICE);
        settledAt = _bound(settledAt, 0, MAX_TIME);

        uint256 duration = LeaseMath.runsOutAt(balance, price, settledAt) - settledAt;

        // The smallest duration whose cost covers the balance.
        assertGe(duration * price, balance);
        if (duration > 0) assertLt((duration - 1) * price, balance);
    }

    function test_fuzz_isExhausted_staysExhausted(
        uint256 lifetimeSeed,
        uint256 priceSeed,
        uint256 settledAt,
        uint256 t1,
        uint256 t2
    ) public pure {
        (uint256 balance, uint256 price, uint256 start, uint256 lifetime) = _lease(lifetimeSeed, priceSeed, settledAt);
        t2 = _bound(t2, start, MAX_TIME);
        t1 = _bound(t1, start, t2);

        bool exhausted1 = LeaseMath.isExhausted(balance, price, start, t1);
        bool exhausted2 = LeaseMath.isExhausted(balance, price, start, t2);

        assertEq(exhausted1, t1 >= start + lifetime, "t1");
        assertEq(exhausted2, t2 >= start + lifetime, "t2");
        if (exhausted1) assertTrue(exhausted2);
    }

    /*//////////////////////////////////////////////////////////////
                             FEE, COLLATERAL
    //////////////////////////////////////////////////////////////*/

    function test_fuzz_feeOf_neverExceedsGrossAndRoundsDown(uint256 gross, uint256 feeBps) public pure {
        gross = _bound(gross, 0, type(uint128).max);
        feeBps = _bound(feeBps, 0, LeaseMath.BPS);

        uint256 fee = LeaseMath.feeOf(gross, feeBps);

        assertLe(fee, gross, "fee <= gross");
        // fee = floor(gross * feeBps / BPS): fee * BPS <= gross * feeBps < (fee + 1) * BPS.
        assertLe(fee * LeaseMath.BPS, gross * feeBps, "not rounded up");
        assertLt(gross * feeBps, (fee + 1) * LeaseMath.BPS, "rounded down by less than one unit");
    }

    function test_feeOf_roundsDownInProvidersFavour() public pure {
        assertEq(LeaseMath.feeOf(99, 100), 0);
        assertEq(LeaseMath.feeOf(100, 100), 1);
        assertEq(LeaseMath.feeOf(199, 100), 1);
        assertEq(LeaseMath.feeOf(10_000, 10_000), 10_000);
        assertEq(LeaseMath.feeOf(12_345, 0), 0);
    }

    function test_fuzz_collateralFor_isPriceTimesSeconds(uint256 price, uint256 collateralSeconds) public pure {
        price = _bound(price, 0, MAX_PRICE);
        collateralSeconds = _bound(collateralSeconds, 0, MAX_TIME);

        uint256 collateral = LeaseMath.collateralFor(price, collateralSeconds);

        assertEq(collateral, price * collateralSeconds);
        if (collateralSeconds > 0) assertEq(collateral / collateralSeconds, price);
    }
}
