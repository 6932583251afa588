// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPodnetMarket} from "../src/interfaces/IPodnetMarket.sol";
import {MarketParams, Stake} from "../src/types/MarketTypes.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

contract PodnetMarketStakeTest is MarketFixture {
    uint256 internal constant STAKE = 1000 * TOKEN;
    uint40 internal constant DELAY = 7 days;

    function _assertStake(address who, uint256 free, uint256 locked, uint256 unbonding, uint256 releaseAt)
        internal
        view
    {
        Stake memory s = market.stakeOf(who);
        assertEq(s.free, free, "free");
        assertEq(s.locked, locked, "locked");
        assertEq(s.unbonding, unbonding, "unbonding");
        assertEq(s.unbondingReleaseAt, releaseAt, "unbondingReleaseAt");
    }

    function _unstake(address who, uint256 amount) internal {
        vm.prank(who);
        market.unstake(amount);
    }

    /*//////////////////////////////////////////////////////////////
                                 STAKE
    //////////////////////////////////////////////////////////////*/

    function test_stake_addsFreeStakeAndMovesTokens() public {
        _register(provider);
        _fund(provider, STAKE);

        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.Staked(provider, STAKE);
        vm.prank(provider);
        market.stake(STAKE);

        _assertStake(provider, STAKE, 0, 0, 0);
        assertEq(token.balanceOf(provider), 0);
        assertEq(token.balanceOf(address(market)), STAKE);
    }

    function test_stake_accumulates() public {
        _onboard(provider, STAKE);
        _fund(provider, 5 * TOKEN);
        vm.prank(provider);
        market.stake(5 * TOKEN);

        _assertStake(provider, STAKE + 5 * TOKEN, 0, 0, 0);
        assertEq(token.balanceOf(address(market)), STAKE + 5 * TOKEN);
    }

    function test_stake_revertsWhenNotRegistered() public {
        _fund(provider, STAKE);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderNotRegistered.selector, provider));
        vm.prank(provider);
        market.stake(STAKE);
    }

    function test_stake_revertsWhenAmountZero() public {
        _register(provider);
        vm.expectRevert(IPodnetMarket.MarketZeroAmount.selector);
        vm.prank(provider);
        market.stake(0);
    }

    function test_stake_pausedProviderCanStake() public {
        _register(provider);
        vm.prank(provider);
        registry.pause();
        _fund(provider, STAKE);

        vm.prank(provider);
        market.stake(STAKE);

        _assertStake(provider, STAKE, 0, 0, 0);
        assertEq(token.balanceOf(address(market)), STAKE);
    }

    function test_stake_revertsAboveUint96() public {
        _register(provider);
        uint256 amount = uint256(type(uint96).max) + 1;
        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketStakeTooLarge.selector, provider, amount, type(uint96).max)
        );
        vm.prank(provider);
        market.stake(amount);
    }

    function test_stake_acceptsBondedStakeUpToUint96() public {
        _onboard(provider, STAKE);
        uint256 room = type(uint96).max - STAKE;
        _fund(provider, room);
        vm.prank(provider);
        market.stake(room);
        _assertStake(provider, type(uint96).max, 0, 0, 0);
    }

    /// @dev Issue 13, finding 4: free stake pushed to 2^96 - 1 next to locked collateral made unlocking that
    ///      collateral overflow, so the publisher could not close its lease. Free + locked + amount is bounded now.
    function test_stake_revertsWhenBondedStakeWouldOverflow() public {
        _onboard(provider, STAKE);
        uint256 leaseId = _lease(PRICE, DEPOSIT, 0);
        uint256 collateral = uint256(PRICE) * market.params().collateralSeconds;
        uint256 room = type(uint96).max - (STAKE - collateral);
        _fund(provider, room);
        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketStakeTooLarge.selector, provider, STAKE + room, type(uint96).max)
        );
        vm.prank(provider);
        market.stake(room);

        // What fits still goes in, and the publisher can close: unlocking the collateral cannot overflow.
        vm.prank(provider);
        market.stake(room - collateral);
        _assertStake(provider, type(uint96).max - collateral, collateral, 0, 0);
        vm.prank(publisher);
        market.closeLease(leaseId);
    }

    function test_fuzz_stake_bondedStakeNeverExceedsUint96(uint256 first, uint256 second) public {
        first = bound(first, 1, type(uint96).max);
        second = bound(second, 1, type(uint96).max);
        _onboard(provider, first);
        _fund(provider, second);
        if (first + second > type(uint96).max) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IPodnetMarket.MarketStakeTooLarge.selector, provider, first + second, type(uint96).max
                )
            );
        }
        vm.prank(provider);
        market.stake(second);
        Stake memory s = market.stakeOf(provider);
        assertLe(uint256(s.free) + s.locked, type(uint96).max);
    }

    function test_stake_revertsWithoutAllowance() public {
        _register(provider);
        token.mint(provider, STAKE);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(market), 0, STAKE)
        );
        vm.prank(provider);
        market.stake(STAKE);
        _assertStake(provider, 0, 0, 0, 0);
    }

    /*//////////////////////////////////////////////////////////////
                                UNSTAKE
    //////////////////////////////////////////////////////////////*/

    function test_unstake_movesFreeToUnbonding() public {
        _onboard(provider, STAKE);

        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.UnstakeRequested(provider, 400 * TOKEN, 400 * TOKEN, uint40(START_TIME + DELAY));
        _unstake(provider, 400 * TOKEN);

        _assertStake(provider, 600 * TOKEN, 0, 400 * TOKEN, START_TIME + DELAY);
        assertEq(token.balanceOf(address(market)), STAKE, "no tokens move on unstake");
        assertEq(token.balanceOf(provider), 0);
    }

    function test_unstake_allFreeStake() public {
        _onboard(provider, STAKE);
        _unstake(provider, STAKE);
        _assertStake(provider, 0, 0, STAKE, START_TIME + DELAY);
    }

    function test_unstake_secondRequestAddsAndRestartsDelay() public {
        _onboard(provider, STAKE);
        _unstake(provider, 100 * TOKEN);

        vm.warp(START_TIME + 3 days);
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.UnstakeRequested(provider, 50 * TOKEN, 150 * TOKEN, uint40(START_TIME + 3 days + DELAY));
        _unstake(provider, 50 * TOKEN);

        _assertStake(provider, 850 * TOKEN, 0, 150 * TOKEN, START_TIME + 3 days + DELAY);

        // The first request's release time no longer holds.
        vm.warp(START_TIME + DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPodnetMarket.MarketUnbondingNotReady.selector, provider, START_TIME + 3 days + DELAY
            )
        );
        vm.prank(provider);
        market.withdrawStake();

        vm.warp(START_TIME + 3 days + DELAY);
        vm.prank(provider);
        assertEq(market.withdrawStake(), 150 * TOKEN);
        assertEq(token.balanceOf(provider), 150 * TOKEN);
    }

    function test_unstake_revertsWhenAmountZero() public {
        _onboard(provider, STAKE);
        vm.expectRevert(IPodnetMarket.MarketZeroAmount.selector);
        _unstake(provider, 0);
    }

    function test_unstake_revertsWhenAboveFreeStake() public {
        _onboard(provider, STAKE);
        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketInsufficientFreeStake.selector, provider, STAKE, STAKE + 1)
        );
        _unstake(provider, STAKE + 1);
    }

    function test_unstake_revertsWhenNothingStaked() public {
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketInsufficientFreeStake.selector, stranger, 0, 1));
        _unstake(stranger, 1);
    }

    function test_unstake_cannotTouchLockedStake() public {
        _onboard(provider, STAKE);
        _lease(PRICE, DEPOSIT, 1);
        uint256 collateral = uint256(PRICE) * 1 days;
        _assertStake(provider, STAKE - collateral, collateral, 0, 0);

        vm.expectRevert(
            abi.encodeWithSelector(
                IPodnetMarket.MarketInsufficientFreeStake.selector, provider, STAKE - collateral, STAKE
            )
        );
        _unstake(provider, STAKE);

        _unstake(provider, STAKE - collateral);
        _assertStake(provider, 0, collateral, STAKE - collateral, START_TIME + DELAY);
    }

    function test_unstake_usesCurrentUnbondingDelay() public {
        _onboard(provider, STAKE);
        vm.prank(admin);
        market.setParams(_paramsWithDelay(1 hours));

        _unstake(provider, STAKE);
        _assertStake(provider, 0, 0, STAKE, START_TIME + 1 hours);
    }

    function test_unstake_withZeroDelayIsWithdrawableAtOnce() public {
        _onboard(provider, STAKE);
        vm.prank(admin);
        market.setParams(_paramsWithDelay(0));

        _unstake(provider, STAKE);
        vm.prank(provider);
        assertEq(market.withdrawStake(), STAKE);
        assertEq(token.balanceOf(provider), STAKE);
        assertEq(token.balanceOf(address(market)), 0);
    }

    function _paramsWithDelay(uint40 delay) internal pure returns (MarketParams memory p) {
        p = defaultParams();
        p.unbondingDelay = delay;
    }

    /*//////////////////////////////////////////////////////////////
                             WITHDRAW STAKE
    //////////////////////////////////////////////////////////////*/

    function test_withdrawStake_revertsWhenNothingUnbonding() public {
        _onboard(provider, STAKE);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNothingUnbonding.selector, provider));
        vm.prank(provider);
        market.withdrawStake();
    }

    function test_withdrawStake_revertsWhenNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNothingUnbonding.selector, stranger));
        vm.prank(stranger);
        market.withdrawStake();
    }

    function test_withdrawStake_revertsOneSecondBeforeRelease() public {
        _onboard(provider, STAKE);
        _unstake(provider, 300 * TOKEN);

        vm.warp(START_TIME + DELAY - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketUnbondingNotReady.selector, provider, START_TIME + DELAY)
        );
        vm.prank(provider);
        market.withdrawStake();
    }

    function test_withdrawStake_succeedsExactlyAtRelease() public {
        _onboard(provider, STAKE);
        _unstake(provider, 300 * TOKEN);

        vm.warp(START_TIME + DELAY);
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.StakeWithdrawn(provider, 300 * TOKEN);
        vm.prank(provider);
        uint256 amount = market.withdrawStake();

        assertEq(amount, 300 * TOKEN);
        _assertStake(provider, 700 * TOKEN, 0, 0, 0);
        assertEq(token.balanceOf(provider), 300 * TOKEN);
        assertEq(token.balanceOf(address(market)), 700 * TOKEN);
    }

    function test_withdrawStake_secondCallReverts() public {
        _onboard(provider, STAKE);
        _unstake(provider, 300 * TOKEN);
        vm.warp(START_TIME + DELAY);
        vm.prank(provider);
        market.withdrawStake();

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNothingUnbonding.selector, provider));
        vm.prank(provider);
        market.withdrawStake();
        assertEq(token.balanceOf(provider), 300 * TOKEN);
    }

    function test_withdrawStake_worksWhilePaused() public {
        _onboard(provider, STAKE);
        _unstake(provider, STAKE);
        vm.prank(provider);
        registry.pause();
        vm.warp(START_TIME + DELAY);
        vm.prank(provider);
        assertEq(market.withdrawStake(), STAKE);
        assertEq(token.balanceOf(provider), STAKE);
    }

    function test_withdrawStake_isPerProvider() public {
        _onboard(provider, STAKE);
        _onboard(provider2, STAKE);
        _unstake(provider, 100 * TOKEN);
        vm.warp(START_TIME + DELAY);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNothingUnbonding.selector, provider2));
        vm.prank(provider2);
        market.withdrawStake();

        vm.prank(provider);
        market.withdrawStake();
        _assertStake(provider2, STAKE, 0, 0, 0);
        assertEq(token.balanceOf(address(market)), 2 * STAKE - 100 * TOKEN);
    }

    /*//////////////////////////////////////////////////////////////
                                  FUZZ
    //////////////////////////////////////////////////////////////*/

    function test_fuzz_stakeUnstakeWithdraw_roundTrips(uint256 amount, uint256 unstakeAmount, uint256 wait) public {
        amount = bound(amount, 1, 1e28);
        unstakeAmount = bound(unstakeAmount, 1, amount);
        wait = bound(wait, 0, 30 days);
        _onboard(provider, amount);
        _unstake(provider, unstakeAmount);

        vm.warp(START_TIME + wait);
        if (wait < DELAY) {
            vm.expectRevert(
                abi.encodeWithSelector(IPodnetMarket.MarketUnbondingNotReady.selector, provider, START_TIME + DELAY)
            );
        }
        vm.prank(provider);
        market.withdrawStake();

        if (wait < DELAY) {
            _assertStake(provider, amount - unstakeAmount, 0, unstakeAmount, START_TIME + DELAY);
            assertEq(token.balanceOf(address(market)), amount);
        } else {
            _assertStake(provider, amount - unstakeAmount, 0, 0, 0);
            assertEq(token.balanceOf(provider), unstakeAmount);
            assertEq(token.balanceOf(address(market)), amount - unstakeAmount);
        }
    }
}
