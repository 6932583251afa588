// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPodnetMarket} from "../src/interfaces/IPodnetMarket.sol";
import {
    BidStatus,
    CloseReason,
    DarkRecord,
    Lease,
    LeaseStatus,
    MarketParams,
    OrderStatus,
    Quote,
    Stake
} from "../src/types/MarketTypes.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {Vm} from "forge-std/Vm.sol";

/// @notice Heartbeats, dark reports, dark leases, jail and void bids.
contract PodnetMarketLivenessTest is MarketFixture {
    uint256 internal constant STAKE = 1000 * TOKEN;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant FEE_BPS = 100;
    uint256 internal constant REWARD_BPS = 1000;
    /// @dev darkSlashBps * (BPS - reporterRewardBps) / BPS with the default parameters.
    uint256 internal constant COMP_BPS = 9000;
    uint40 internal constant THRESHOLD = 1 hours;
    uint40 internal constant JAIL_COOLDOWN = 1 days;
    uint256 internal constant COLLATERAL = uint256(PRICE) * 1 days;

    address internal reporter = makeAddr("reporter");

    function setUp() public override {
        super.setUp();
        _onboard(provider, STAKE);
    }

    /*//////////////////////////////////////////////////////////////
                                HELPERS
    //////////////////////////////////////////////////////////////*/

    function _ids(uint256 a) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](1);
        ids[0] = a;
    }

    function _ids(uint256 a, uint256 b) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](2);
        ids[0] = a;
        ids[1] = b;
    }

    function _report(address who) internal returns (uint256 reward) {
        vm.prank(who);
        reward = market.reportDark(provider);
    }

    /// @dev Waits until `provider` can be reported (one second past the threshold) and has `reporter` report it.
    function _goDark() internal returns (uint256 reward) {
        vm.warp(uint256(market.stakeOf(provider).lastHeartbeat) + THRESHOLD + 1);
        reward = _report(reporter);
    }

    function _withdraw(uint256 leaseId) internal returns (uint256 net) {
        vm.prank(provider);
        net = market.withdraw(_ids(leaseId));
    }

    function _close(address who, uint256 leaseId) internal {
        vm.prank(who);
        market.closeLease(leaseId);
    }

    /// @dev The jailed provider stakes `amount` more, waits out its jail cooldown and unjails.
    function _restake(uint256 amount) internal {
        _fund(provider, amount);
        vm.prank(provider);
        market.stake(amount);
        _waitOutJail();
        vm.prank(provider);
        market.unjail();
    }

    function _waitOutJail() internal {
        Stake memory s = market.stakeOf(provider);
        uint256 jailedUntil = market.darkRecord(provider, s.epoch - 1).jailedUntil;
        if (block.timestamp < jailedUntil) vm.warp(jailedUntil);
    }

    function _setParams(uint16 darkSlashBps, uint16 reporterRewardBps) internal {
        MarketParams memory p = defaultParams();
        p.darkSlashBps = darkSlashBps;
        p.reporterRewardBps = reporterRewardBps;
        vm.prank(admin);
        market.setParams(p);
    }

    function _setJailCooldown(uint40 cooldown) internal {
        MarketParams memory p = market.params();
        p.jailCooldown = cooldown;
        vm.prank(admin);
        market.setParams(p);
    }

    function _assertLiveness(address who, uint256 lastHeartbeat, uint256 epoch, bool jailed) internal view {
        Stake memory s = market.stakeOf(who);
        assertEq(s.lastHeartbeat, lastHeartbeat, "lastHeartbeat");
        assertEq(s.epoch, epoch, "epoch");
        assertEq(s.jailed, jailed, "jailed");
    }

    function _assertStake(address who, uint256 free, uint256 locked) internal view {
        Stake memory s = market.stakeOf(who);
        assertEq(s.free, free, "free");
        assertEq(s.locked, locked, "locked");
    }

    function _fee(uint256 gross) internal pure returns (uint256) {
        return gross * FEE_BPS / BPS;
    }

    /// @dev A lease at `PRICE` started now; the provider heartbeats 2 hours later and then goes silent until it is
    ///      reported. Returns the lease and the provider's last heartbeat (darkAt).
    function _leaseThenDark() internal returns (uint256 leaseId, uint256 darkAt) {
        leaseId = _lease(PRICE, DEPOSIT, 0);
        vm.warp(block.timestamp + 2 hours);
        _heartbeat(provider);
        darkAt = block.timestamp;
        vm.warp(block.timestamp + 3 hours);
        _report(reporter);
    }

    /*//////////////////////////////////////////////////////////////
                               HEARTBEAT
    //////////////////////////////////////////////////////////////*/

    function test_stake_firstStakeSetsLastHeartbeat() public {
        _register(provider2);
        _fund(provider2, STAKE);
        vm.warp(START_TIME + 123);

        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.Heartbeat(provider2, uint40(START_TIME + 123));
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.Staked(provider2, STAKE);
        vm.prank(provider2);
        market.stake(STAKE);

        _assertLiveness(provider2, START_TIME + 123, 0, false);
    }

    function test_stake_laterStakeDoesNotHeartbeat() public {
        vm.warp(START_TIME + 30 minutes);
        _fund(provider, TOKEN);

        vm.recordLogs();
        vm.prank(provider);
        market.stake(TOKEN);

        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            assertTrue(logs[i].topics[0] != IPodnetMarket.Heartbeat.selector, "no Heartbeat event");
        }
        _assertLiveness(provider, START_TIME, 0, false);
    }

    function test_heartbeat_updatesLastHeartbeat() public {
        vm.warp(START_TIME + 45 minutes);

        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.Heartbeat(provider, uint40(START_TIME + 45 minutes));
        _heartbeat(provider);

        _assertLiveness(provider, START_TIME + 45 minutes, 0, false);
        _assertStake(provider, STAKE, 0);
    }

    function test_heartbeat_twiceInOneBlock() public {
        _heartbeat(provider);
        _heartbeat(provider);
        _assertLiveness(provider, START_TIME, 0, false);
    }

    function test_heartbeat_revertsWhenNeverStaked() public {
        _register(provider2);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNotStaked.selector, provider2));
        _heartbeat(provider2);
    }

    function test_heartbeat_revertsWhenNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNotStaked.selector, stranger));
        _heartbeat(stranger);
    }

    function test_heartbeat_worksAfterUnstakingEverything() public {
        vm.prank(provider);
        market.unstake(STAKE);
        vm.warp(START_TIME + 10 minutes);
        _heartbeat(provider);
        _assertLiveness(provider, START_TIME + 10 minutes, 0, false);
    }

    function test_heartbeat_postponesReport() public {
        vm.warp(START_TIME + 50 minutes);
        _heartbeat(provider);

        vm.warp(START_TIME + THRESHOLD + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPodnetMarket.MarketProviderAlive.selector,
                provider,
                START_TIME + 50 minutes,
                START_TIME + 50 minutes + THRESHOLD + 1
            )
        );
        _report(reporter);

        vm.warp(START_TIME + 50 minutes + THRESHOLD + 1);
        _report(reporter);
        assertEq(market.darkRecord(provider, 0).darkAt, START_TIME + 50 minutes);
    }

    function test_heartbeat_revertsWhenJailed() public {
        _goDark();
        uint256 darkAt = START_TIME;
        vm.warp(block.timestamp + 10 minutes);

        // A jailed provider's heartbeat does not count: it leaves jail through unjail.
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderJailed.selector, provider));
        _heartbeat(provider);
        _assertLiveness(provider, darkAt, 1, true);

        // Still jailed: cannot take work, cannot be reported again.
        Quote memory quote = _quote(provider, PRICE, 7);
        bytes memory signature = _sign(providerKey, quote);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderJailed.selector, provider));
        vm.prank(publisher);
        market.createLease(quote, signature, DEPOSIT);

        vm.warp(block.timestamp + THRESHOLD + 1);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderJailed.selector, provider));
        _report(reporter);
    }

    /*//////////////////////////////////////////////////////////////
                               DARK GAPS
    //////////////////////////////////////////////////////////////*/

    /// @dev Issue 13, finding 5: a heartbeat after the threshold erased the dark period before it, so a provider could
    ///      front-run reportDark with a heartbeat. The late heartbeat records the gap, and the provider stays reportable
    ///      for it: its leases end at the heartbeat before the gap.
    function test_heartbeat_lateDoesNotEraseDarkPeriod() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 0);
        uint256 darkAt = START_TIME;
        vm.warp(darkAt + 3 hours);
        _heartbeat(provider); // front-runs the reporter

        _report(stranger);
        assertEq(market.darkRecord(provider, 0).darkAt, darkAt, "darkAt is the heartbeat before the gap");
        _assertLiveness(provider, darkAt + 3 hours, 1, true);
        (uint256 amount,) = market.withdrawable(leaseId);
        assertEq(amount, 0, "the lease does not accrue across the gap");
        uint256 before = token.balanceOf(publisher);
        _close(publisher, leaseId);
        assertEq(token.balanceOf(publisher) - before, DEPOSIT + COLLATERAL * COMP_BPS / BPS);
    }

    function test_heartbeat_lateRecordsDarkGap() public {
        uint256 back = START_TIME + THRESHOLD + 1;
        vm.warp(back);
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.DarkGapRecorded(provider, uint40(START_TIME), uint40(back), uint40(back + THRESHOLD));
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.Heartbeat(provider, uint40(back));
        _heartbeat(provider);

        Stake memory s = market.stakeOf(provider);
        assertEq(s.lastHeartbeat, back, "the late heartbeat still counts from now on");
        assertEq(s.darkGapFrom, START_TIME, "darkGapFrom");
        assertEq(s.darkGapUntil, back, "darkGapUntil");
    }

    function test_heartbeat_atThresholdRecordsNoGap() public {
        vm.warp(START_TIME + THRESHOLD);
        vm.recordLogs();
        _heartbeat(provider);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1, "only Heartbeat");
        assertEq(market.stakeOf(provider).darkGapUntil, 0);
        vm.warp(START_TIME + THRESHOLD + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPodnetMarket.MarketProviderAlive.selector,
                provider,
                START_TIME + THRESHOLD,
                START_TIME + 2 * THRESHOLD + 1
            )
        );
        _report(reporter);
    }

    function test_reportDark_darkGapReportableForThresholdAfterReturn() public {
        uint256 back = START_TIME + 2 hours;
        vm.warp(back);
        _heartbeat(provider);
        vm.warp(back + THRESHOLD);
        _heartbeat(provider); // on time after the gap: the gap stays reportable
        uint256 snapshot = vm.snapshotState();
        _report(reporter);
        assertEq(market.darkRecord(provider, 0).darkAt, START_TIME);

        vm.revertToState(snapshot);
        vm.warp(back + THRESHOLD + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPodnetMarket.MarketProviderAlive.selector, provider, back + THRESHOLD, back + 2 * THRESHOLD + 1
            )
        );
        _report(reporter);
    }

    function test_reportDark_darkGapEndsLeasesTakenAfterIt() public {
        vm.warp(START_TIME + 2 hours);
        _heartbeat(provider); // late: the gap since START_TIME is reportable for another hour
        uint256 leaseId = _lease(PRICE, DEPOSIT, 0);
        vm.warp(block.timestamp + 30 minutes);
        _report(reporter);
        (uint256 amount,) = market.withdrawable(leaseId);
        assertEq(amount, 0, "a lease started after darkAt earns nothing");
        uint256 before = token.balanceOf(publisher);
        _close(stranger, leaseId);
        assertEq(token.balanceOf(publisher) - before, DEPOSIT + COLLATERAL * COMP_BPS / BPS);
    }

    function test_unjail_clearsDarkGap() public {
        vm.warp(START_TIME + 2 hours);
        _heartbeat(provider);
        _report(reporter);
        _waitOutJail();
        vm.prank(provider);
        market.unjail();
        Stake memory s = market.stakeOf(provider);
        assertEq(s.darkGapFrom, 0);
        assertEq(s.darkGapUntil, 0);
        vm.warp(block.timestamp + THRESHOLD);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPodnetMarket.MarketProviderAlive.selector, provider, block.timestamp - THRESHOLD, block.timestamp + 1
            )
        );
        _report(reporter);
    }

    function test_fuzz_heartbeat_lateAlwaysLeavesGapReportable(uint256 silence, uint256 after_) public {
        silence = bound(silence, THRESHOLD + 1, 30 days);
        after_ = bound(after_, 0, THRESHOLD);
        vm.warp(START_TIME + silence);
        _heartbeat(provider);
        vm.warp(block.timestamp + after_);
        _report(stranger);
        assertEq(market.darkRecord(provider, 0).darkAt, START_TIME);
    }

    /*//////////////////////////////////////////////////////////////
                          REPORT DARK: TIMING
    //////////////////////////////////////////////////////////////*/

    function test_reportDark_revertsRightAfterStake() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IPodnetMarket.MarketProviderAlive.selector, provider, START_TIME, START_TIME + THRESHOLD + 1
            )
        );
        _report(reporter);
    }

    function test_reportDark_revertsOneSecondBeforeThreshold() public {
        vm.warp(START_TIME + THRESHOLD - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPodnetMarket.MarketProviderAlive.selector, provider, START_TIME, START_TIME + THRESHOLD + 1
            )
        );
        _report(reporter);
    }

    function test_reportDark_revertsExactlyAtThreshold() public {
        vm.warp(START_TIME + THRESHOLD);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPodnetMarket.MarketProviderAlive.selector, provider, START_TIME, START_TIME + THRESHOLD + 1
            )
        );
        _report(reporter);
        _assertLiveness(provider, START_TIME, 0, false);
    }

    function test_reportDark_succeedsOneSecondAfterThreshold() public {
        vm.warp(START_TIME + THRESHOLD + 1);
        _report(reporter);
        _assertLiveness(provider, START_TIME, 1, true);
        assertEq(market.darkRecord(provider, 0).darkAt, START_TIME);
    }

    function test_reportDark_usesCurrentThreshold() public {
        MarketParams memory p = defaultParams();
        p.heartbeatThreshold = 2 hours;
        vm.prank(admin);
        market.setParams(p);

        vm.warp(START_TIME + 2 hours);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPodnetMarket.MarketProviderAlive.selector, provider, START_TIME, START_TIME + 2 hours + 1
            )
        );
        _report(reporter);

        vm.warp(START_TIME + 2 hours + 1);
        _report(reporter);
        assertTrue(market.stakeOf(provider).jailed);
    }

    function test_fuzz_reportDark_onlyAfterThreshold(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, 3 * THRESHOLD);
        vm.warp(START_TIME + elapsed);
        if (elapsed <= THRESHOLD) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IPodnetMarket.MarketProviderAlive.selector, provider, START_TIME, START_TIME + THRESHOLD + 1
                )
            );
            _report(reporter);
            _assertLiveness(provider, START_TIME, 0, false);
        } else {
            _report(reporter);
            _assertLiveness(provider, START_TIME, 1, true);
        }
    }

    /*//////////////////////////////////////////////////////////////
                        REPORT DARK: PRECONDITIONS
    //////////////////////////////////////////////////////////////*/

    function test_reportDark_revertsWhenJailed() public {
        _goDark();
        vm.warp(block.timestamp + 1 days);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderJailed.selector, provider));
        _report(stranger);
    }

    function test_reportDark_revertsWhenNeverStaked() public {
        _register(provider2);
        vm.warp(START_TIME + 10 days);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNotStaked.selector, provider2));
        vm.prank(reporter);
        market.reportDark(provider2);
    }

    function test_reportDark_revertsForUnknownAddress() public {
        vm.warp(START_TIME + 10 days);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNotStaked.selector, stranger));
        vm.prank(reporter);
        market.reportDark(stranger);
    }

    function test_reportDark_providerCanReportItself() public {
        _lease(PRICE, DEPOSIT, 0);
        vm.warp(START_TIME + THRESHOLD + 1);
        uint256 reward = _report(provider);
        assertEq(reward, COLLATERAL * REWARD_BPS / BPS);
        assertEq(token.balanceOf(provider), reward);
    }

    /*//////////////////////////////////////////////////////////////
                         REPORT DARK: EFFECTS
    //////////////////////////////////////////////////////////////*/

    function test_reportDark_paysRewardToReporter() public {
        _lease(PRICE, DEPOSIT, 0);
        uint256 marketBefore = token.balanceOf(address(market));
        uint256 expectedReward = COLLATERAL * REWARD_BPS / BPS; // slashed = all locked = COLLATERAL

        uint256 reward = _goDark();

        assertEq(reward, expectedReward, "returned reward");
        assertEq(reward, 8_640_000_000_000_000, "10% of 86400 * 1e12");
        assertEq(token.balanceOf(reporter), expectedReward, "reporter paid");
        assertEq(token.balanceOf(address(market)), marketBefore - expectedReward, "market paid exactly the reward");
    }

    function test_reportDark_updatesStake() public {
        _lease(PRICE, DEPOSIT, 0);
        _assertStake(provider, STAKE - COLLATERAL, COLLATERAL);

        _goDark();

        _assertStake(provider, STAKE - COLLATERAL, 0);
        _assertLiveness(provider, START_TIME, 1, true);
        Stake memory s = market.stakeOf(provider);
        assertEq(s.unbonding, 0);
    }

    function test_reportDark_storesDarkRecord() public {
        _lease(PRICE, DEPOSIT, 0);
        vm.warp(START_TIME + 20 minutes);
        _heartbeat(provider);
        _goDark();

        DarkRecord memory r = market.darkRecord(provider, 0);
        assertEq(r.darkAt, START_TIME + 20 minutes, "darkAt");
        assertEq(r.compensationBps, COMP_BPS, "compensationBps");
        assertEq(r.pool, COLLATERAL - COLLATERAL * REWARD_BPS / BPS, "pool");
        // The new epoch has no record.
        DarkRecord memory next = market.darkRecord(provider, 1);
        assertEq(next.darkAt, 0);
        assertEq(next.compensationBps, 0);
        assertEq(next.pool, 0);
    }

    function test_reportDark_emitsEvent() public {
        _lease(PRICE, DEPOSIT, 0);
        vm.warp(START_TIME + THRESHOLD + 1);
        uint256 reward = COLLATERAL * REWARD_BPS / BPS;

        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.ProviderReportedDark(
            provider, reporter, 0, uint40(START_TIME), COLLATERAL, reward, 0, uint40(block.timestamp + JAIL_COOLDOWN)
        );
        _report(reporter);
    }

    function test_reportDark_withNothingLockedPaysNothing() public {
        uint256 marketBefore = token.balanceOf(address(market));
        vm.warp(START_TIME + THRESHOLD + 1);

        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.ProviderReportedDark(
            provider, reporter, 0, uint40(START_TIME), 0, 0, 0, uint40(block.timestamp + JAIL_COOLDOWN)
        );
        uint256 reward = _report(reporter);

        assertEq(reward, 0);
        assertEq(token.balanceOf(reporter), 0);
        assertEq(token.balanceOf(address(market)), marketBefore);
        _assertStake(provider, STAKE, 0);
        _assertLiveness(provider, START_TIME, 1, true);
        DarkRecord memory r = market.darkRecord(provider, 0);
        assertEq(r.darkAt, START_TIME);
        assertEq(r.pool, 0);
    }

    function test_reportDark_partialSlashReturnsRestToFree() public {
        _setParams(4000, 2500);
        _lease(PRICE, DEPOSIT, 0);
        uint256 slashed = COLLATERAL * 4000 / BPS;
        uint256 reward = slashed * 2500 / BPS;
        uint256 returned = COLLATERAL - slashed;
        vm.warp(START_TIME + THRESHOLD + 1);

        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.ProviderReportedDark(
            provider,
            reporter,
            0,
            uint40(START_TIME),
            slashed,
            reward,
            returned,
            uint40(block.timestamp + JAIL_COOLDOWN)
        );
        uint256 paid = _report(reporter);

        assertEq(paid, reward);
        assertEq(token.balanceOf(reporter), reward);
        _assertStake(provider, STAKE - COLLATERAL + returned, 0);
        DarkRecord memory r = market.darkRecord(provider, 0);
        assertEq(r.compensationBps, 3000, "4000 * (10000 - 2500) / 10000");
        assertEq(r.pool, slashed - reward);
    }

    function test_reportDark_zeroSlashSlashesNothing() public {
        _setParams(0, 1000);
        _lease(PRICE, DEPOSIT, 0);
        vm.warp(START_TIME + THRESHOLD + 1);
        uint256 reward = _report(reporter);

        assertEq(reward, 0);
        _assertStake(provider, STAKE, 0);
        _assertLiveness(provider, START_TIME, 1, true);
        DarkRecord memory r = market.darkRecord(provider, 0);
        assertEq(r.compensationBps, 0);
        assertEq(r.pool, 0);
    }

    function test_reportDark_slashesBidReservationsToo() public {
        _lease(PRICE, DEPOSIT, 0);
        uint256 orderId = _order(PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE / 2);
        uint256 reserved = uint256(PRICE / 2) * 1 days;
        uint256 locked = COLLATERAL + reserved;
        _assertStake(provider, STAKE - locked, locked);

        uint256 reward = _goDark();

        assertEq(reward, locked * REWARD_BPS / BPS);
        _assertStake(provider, STAKE - locked, 0);
        assertEq(market.darkRecord(provider, 0).pool, locked - locked * REWARD_BPS / BPS);
    }

    function test_reportDark_unbondingStakeIsNotSlashed() public {
        _lease(PRICE, DEPOSIT, 0);
        vm.prank(provider);
        market.unstake(100 * TOKEN);
        _goDark();
        Stake memory s = market.stakeOf(provider);
        assertEq(s.unbonding, 100 * TOKEN);
        assertEq(s.free, STAKE - COLLATERAL - 100 * TOKEN);
        assertEq(s.locked, 0);
    }

    function test_reportDark_doesNotTouchOtherProviders() public {
        _onboard(provider2, STAKE);
        _lease(PRICE, DEPOSIT, 0);
        _goDark();
        _assertLiveness(provider2, START_TIME, 0, false);
        _assertStake(provider2, STAKE, 0);
    }

    function test_fuzz_reportDark_splitsSlash(uint96 price, uint16 darkSlashBps, uint16 reporterRewardBps) public {
        price = uint96(bound(price, 1, 1e13));
        darkSlashBps = uint16(bound(darkSlashBps, 0, BPS));
        reporterRewardBps = uint16(bound(reporterRewardBps, 0, BPS));
        _setParams(darkSlashBps, reporterRewardBps);
        uint256 leaseId = _lease(price, price * 1 hours, 0);
        uint256 collateral = uint256(price) * 1 days;
        uint256 marketBefore = token.balanceOf(address(market));

        uint256 reward = _goDark();

        uint256 slashed = collateral * darkSlashBps / BPS;
        uint256 compBps = uint256(darkSlashBps) * (BPS - reporterRewardBps) / BPS;
        assertEq(reward, slashed * reporterRewardBps / BPS, "reward");
        assertEq(token.balanceOf(reporter), reward, "reporter");
        _assertStake(provider, STAKE - slashed, 0);
        DarkRecord memory r = market.darkRecord(provider, 0);
        assertEq(r.compensationBps, compBps, "compensationBps");
        assertEq(r.pool, slashed - reward, "pool");
        assertEq(token.balanceOf(address(market)), marketBefore - reward, "market");

        // The lease's compensation never exceeds the pool, so the publisher gets its full share.
        uint256 compensation = collateral * compBps / BPS;
        assertLe(compensation, r.pool, "pool covers the share");
        uint256 publisherBefore = token.balanceOf(publisher);
        _close(stranger, leaseId);
        // The provider's last heartbeat (darkAt) is the lease's start: nothing was earned, all is refunded.
        assertEq(token.balanceOf(publisher) - publisherBefore, uint256(price) * 1 hours + compensation, "publisher");
        assertEq(market.darkRecord(provider, 0).pool, slashed - reward - compensation, "pool left");
    }

    /*//////////////////////////////////////////////////////////////
                              DARK LEASES
    //////////////////////////////////////////////////////////////*/

    function test_darkLease_keepsEpochOfItsStart() public {
        (uint256 leaseId,) = _leaseThenDark();
        Lease memory lease = market.getLease(leaseId);
        assertEq(lease.epoch, 0);
        assertEq(uint8(lease.status), uint8(LeaseStatus.Active));
        assertEq(lease.collateral, COLLATERAL, "collateral recorded until the lease is closed");
    }

    function test_withdraw_darkLeasePaysOnlyUntilDarkAt() public {
        (uint256 leaseId, uint256 darkAt) = _leaseThenDark();
        uint256 gross = uint256(PRICE) * (darkAt - START_TIME);
        assertEq(gross, uint256(PRICE) * 2 hours);

        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.LeaseSettled(leaseId, gross, darkAt);
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.ProviderWithdrew(provider, gross, _fee(gross), gross - _fee(gross));
        uint256 net = _withdraw(leaseId);

        assertEq(net, gross - _fee(gross), "net");
        assertEq(token.balanceOf(provider), gross - _fee(gross), "provider paid");
        assertEq(market.accruedFees(), _fee(gross), "fee");
        Lease memory lease = market.getLease(leaseId);
        assertEq(lease.settledAt, darkAt);
        assertEq(lease.balance, DEPOSIT - gross);
    }

    function test_withdraw_darkLeasePaysNothingMoreLater() public {
        (uint256 leaseId, uint256 darkAt) = _leaseThenDark();
        _withdraw(leaseId);
        uint256 paid = token.balanceOf(provider);

        vm.warp(block.timestamp + 10 days);
        assertEq(_withdraw(leaseId), 0);
        assertEq(token.balanceOf(provider), paid);
        assertEq(market.getLease(leaseId).settledAt, darkAt);
    }

    function test_withdraw_darkLeaseCappedByFunds() public {
        // Funds for one hour, provider alive for two.
        uint256 leaseId = _lease(PRICE, PRICE * 1 hours, 0);
        vm.warp(START_TIME + 2 hours);
        _heartbeat(provider);
        _goDark();

        uint256 gross = uint256(PRICE) * 1 hours;
        assertEq(_withdraw(leaseId), gross - _fee(gross));
        assertEq(market.getLease(leaseId).settledAt, START_TIME + 1 hours);
    }

    function test_withdraw_afterLastHeartbeatBeforeReportKeepsMoney() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 0);
        vm.warp(START_TIME + 2 hours);
        _heartbeat(provider);
        uint256 withdrawnAt = START_TIME + 2 hours + 40 minutes;
        vm.warp(withdrawnAt);
        uint256 gross = uint256(PRICE) * (withdrawnAt - START_TIME);
        assertEq(_withdraw(leaseId), gross - _fee(gross));

        _goDark(); // darkAt = START + 2 hours < settledAt

        // The provider keeps what it withdrew and earns nothing more.
        assertEq(token.balanceOf(provider), gross - _fee(gross), "kept");
        (uint256 amount, bool outOfFunds) = market.withdrawable(leaseId);
        assertEq(amount, 0);
        assertFalse(outOfFunds);
        assertEq(_withdraw(leaseId), 0);

        // The lease ends at its last settlement; the publisher gets the rest plus its compensation.
        uint256 refund = DEPOSIT - gross;
        uint256 compensation = COLLATERAL * COMP_BPS / BPS;
        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.LeaseClosed(leaseId, stranger, CloseReason.ProviderDark, withdrawnAt, 0, refund, 0, 0);
        _close(stranger, leaseId);

        assertEq(token.balanceOf(publisher), 1_000_000 * TOKEN - DEPOSIT + refund + compensation, "publisher");
        Lease memory lease = market.getLease(leaseId);
        assertEq(lease.endedAt, withdrawnAt);
        assertEq(lease.balance, 0);
        assertEq(market.leaseRunsOutAt(leaseId), withdrawnAt);
    }

    function test_withdrawable_darkLeaseStopsAtDarkAt() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 0);
        vm.warp(START_TIME + 2 hours);
        _heartbeat(provider);
        vm.warp(START_TIME + 3 hours + 1);
        (uint256 amount, bool outOfFunds) = market.withdrawable(leaseId);
        assertEq(amount, uint256(PRICE) * (3 hours + 1), "accrues to now while not reported");
        assertFalse(outOfFunds);

        _report(reporter);
        (amount, outOfFunds) = market.withdrawable(leaseId);
        assertEq(amount, uint256(PRICE) * 2 hours, "capped at darkAt");
        assertFalse(outOfFunds);

        vm.warp(START_TIME + 30 days);
        (amount, outOfFunds) = market.withdrawable(leaseId);
        assertEq(amount, uint256(PRICE) * 2 hours, "still capped, even past the funds' end");
        assertFalse(outOfFunds);

        _close(stranger, leaseId);
        (amount, outOfFunds) = market.withdrawable(leaseId);
        assertEq(amount, uint256(PRICE) * 2 hours, "closed: the owed balance");
        assertTrue(outOfFunds);
    }

    function test_withdrawable_darkLeaseOutOfFundsBeforeDarkAt() public {
        uint256 leaseId = _lease(PRICE, PRICE * 1 hours, 0);
        vm.warp(START_TIME + 2 hours);
        _heartbeat(provider);
        _goDark();
        (uint256 amount, bool outOfFunds) = market.withdrawable(leaseId);
        assertEq(amount, uint256(PRICE) * 1 hours);
        assertTrue(outOfFunds);
    }

    function test_closeLease_darkByStrangerPaysRefundAndCompensation() public {
        (uint256 leaseId, uint256 darkAt) = _leaseThenDark();
        uint256 owed = uint256(PRICE) * (darkAt - START_TIME);
        uint256 refund = DEPOSIT - owed;
        uint256 compensation = COLLATERAL * COMP_BPS / BPS;
        uint256 publisherBefore = token.balanceOf(publisher);
        uint256 strangerBefore = token.balanceOf(stranger);
        uint256 marketBefore = token.balanceOf(address(market));
        vm.warp(block.timestamp + 1 days);

        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.LeaseClosed(leaseId, stranger, CloseReason.ProviderDark, darkAt, owed, refund, 0, 0);
        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.CompensationPaid(leaseId, publisher, compensation);
        _close(stranger, leaseId);

        assertEq(token.balanceOf(publisher) - publisherBefore, refund + compensation, "publisher");
        assertEq(refund + compensation, 77_760_000_000_000_000 + 79_200_000_000_000_000, "literal amounts");
        assertEq(token.balanceOf(stranger), strangerBefore, "closer gets nothing");
        assertEq(token.balanceOf(address(market)), marketBefore - refund - compensation, "market");

        Lease memory lease = market.getLease(leaseId);
        assertEq(uint8(lease.status), uint8(LeaseStatus.Closed));
        assertEq(lease.endedAt, darkAt);
        assertEq(lease.balance, owed, "owed stays for the provider");
        assertEq(lease.collateral, 0, "collateral spent");
        assertEq(market.darkRecord(provider, 0).pool, 0, "the only lease took the whole pool");
        // The slashed collateral is not unlocked again.
        _assertStake(provider, STAKE - COLLATERAL, 0);
    }

    function test_closeLease_darkByPublisherAndProvider() public {
        uint256 first = _lease(PRICE, DEPOSIT, 0);
        uint256 second = _lease(PRICE, DEPOSIT, 1);
        vm.warp(START_TIME + 2 hours);
        _heartbeat(provider);
        _goDark();

        vm.expectEmit(true, true, false, false, address(market));
        emit IPodnetMarket.LeaseClosed(first, publisher, CloseReason.ProviderDark, 0, 0, 0, 0, 0);
        _close(publisher, first);
        vm.expectEmit(true, true, false, false, address(market));
        emit IPodnetMarket.LeaseClosed(second, provider, CloseReason.ProviderDark, 0, 0, 0, 0, 0);
        _close(provider, second);

        uint256 perLease = DEPOSIT - uint256(PRICE) * 2 hours + COLLATERAL * COMP_BPS / BPS;
        assertEq(token.balanceOf(publisher), 1_000_000 * TOKEN - 2 * uint256(DEPOSIT) + 2 * perLease);
        assertEq(market.darkRecord(provider, 0).pool, 0, "two equal shares empty the pool");
    }

    function test_closeLease_darkLeaseOutOfFundsPaysOnlyCompensation() public {
        uint256 deposit = uint256(PRICE) * 1 hours;
        uint256 leaseId = _lease(PRICE, uint96(deposit), 0);
        vm.warp(START_TIME + 2 hours);
        _heartbeat(provider);
        _goDark();
        uint256 publisherBefore = token.balanceOf(publisher);
        uint256 compensation = COLLATERAL * COMP_BPS / BPS;

        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.LeaseClosed(
            leaseId, stranger, CloseReason.ProviderDark, START_TIME + 1 hours, deposit, 0, 0, 0
        );
        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.CompensationPaid(leaseId, publisher, compensation);
        _close(stranger, leaseId);

        assertEq(token.balanceOf(publisher) - publisherBefore, compensation);
    }

    function test_closeLease_darkWithZeroCompensationEmitsNoCompensationPaid() public {
        _setParams(0, 0);
        (uint256 leaseId,) = _leaseThenDark();
        uint256 publisherBefore = token.balanceOf(publisher);

        vm.recordLogs();
        _close(stranger, leaseId);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            assertTrue(logs[i].topics[0] != IPodnetMarket.CompensationPaid.selector, "no CompensationPaid");
        }
        assertEq(token.balanceOf(publisher) - publisherBefore, DEPOSIT - uint256(PRICE) * 2 hours);
        // Nothing was slashed: the collateral was returned to free stake by the report.
        _assertStake(provider, STAKE, 0);
    }

    function test_closeLease_darkTwiceReverts() public {
        (uint256 leaseId,) = _leaseThenDark();
        _close(stranger, leaseId);
        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketLeaseNotActive.selector, leaseId, LeaseStatus.Closed)
        );
        _close(stranger, leaseId);
        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketLeaseNotActive.selector, leaseId, LeaseStatus.Closed)
        );
        _close(publisher, leaseId);
    }

    function test_closeLease_darkThenProviderWithdrawsOwed() public {
        (uint256 leaseId, uint256 darkAt) = _leaseThenDark();
        _close(stranger, leaseId);
        uint256 gross = uint256(PRICE) * (darkAt - START_TIME);
        assertEq(_withdraw(leaseId), gross - _fee(gross));
        assertEq(market.getLease(leaseId).balance, 0);
        assertEq(_withdraw(leaseId), 0);
    }

    function test_closeLease_strangerStillCannotCloseLiveLease() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 0);
        vm.warp(START_TIME + THRESHOLD + 1); // reportable, but not reported
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNotLeaseParty.selector, leaseId, stranger));
        _close(stranger, leaseId);
    }

    function test_closeLease_normalCloseUnlocksCollateralAfterWindow() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 0);
        vm.warp(START_TIME + 30 minutes);
        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.LeaseClosed(
            leaseId,
            publisher,
            CloseReason.Publisher,
            START_TIME + 30 minutes,
            uint256(PRICE) * 30 minutes,
            DEPOSIT - uint256(PRICE) * 30 minutes,
            COLLATERAL,
            START_TIME + 30 minutes + DISPUTE_WINDOW
        );
        _close(publisher, leaseId);
        assertEq(market.getLease(leaseId).collateral, COLLATERAL);
        _assertStake(provider, STAKE - COLLATERAL, COLLATERAL);
        _releaseAfterWindow(leaseId);
        assertEq(market.getLease(leaseId).collateral, 0);
        _assertStake(provider, STAKE, 0);

        // A later report slashes nothing of the released lease.
        _goDark();
        _assertStake(provider, STAKE, 0);
        assertEq(token.balanceOf(reporter), 0);
    }

    function test_closeLease_leaseClosedInWindowIsStillAtStake() public {
        uint256 closed = _lease(PRICE, DEPOSIT, 0);
        uint256 running = _lease(PRICE, DEPOSIT, 1);
        vm.warp(START_TIME + 30 minutes);
        _close(publisher, closed);
        _goDark();
        // The closed lease's collateral is still held for its dispute window: the report slashes both.
        assertEq(token.balanceOf(reporter), 2 * COLLATERAL * REWARD_BPS / BPS);
        // The closed lease's publisher receives its share of the slash through releaseCollateral, at once.
        uint256 before = token.balanceOf(publisher);
        vm.prank(stranger);
        market.releaseCollateral(closed);
        assertEq(token.balanceOf(publisher) - before, COLLATERAL * COMP_BPS / BPS);
        // The closed lease still pays its owed balance to the provider, in full.
        uint256 gross = uint256(PRICE) * 30 minutes;
        assertEq(_withdraw(closed), gross - _fee(gross));
        // And it cannot be closed again for a second compensation.
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketLeaseNotActive.selector, closed, LeaseStatus.Closed));
        _close(stranger, closed);
        _close(stranger, running);
        assertEq(market.darkRecord(provider, 0).pool, 0);
    }

    function test_topUp_revertsWhenProviderWentDark() public {
        (uint256 leaseId,) = _leaseThenDark();
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderWentDark.selector, provider, 0));
        vm.prank(publisher);
        market.topUp(leaseId, PRICE);
    }

    function test_updateLeaseSpec_revertsWhenProviderWentDark() public {
        (uint256 leaseId,) = _leaseThenDark();
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderWentDark.selector, provider, 0));
        vm.prank(publisher);
        market.updateLeaseSpec(leaseId, SPEC2);
    }

    function test_topUp_revertsWhenProviderWentDarkEvenAfterReturn() public {
        (uint256 leaseId,) = _leaseThenDark();
        _restake(TOKEN);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderWentDark.selector, provider, 0));
        vm.prank(publisher);
        market.topUp(leaseId, PRICE);
    }

    function test_topUp_beforeReportIsRefunded() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 0);
        vm.warp(START_TIME + 2 hours);
        _heartbeat(provider);
        vm.warp(START_TIME + 2 hours + 30 minutes); // silent, not yet reported
        vm.prank(publisher);
        market.topUp(leaseId, DEPOSIT);
        _goDark();

        uint256 publisherBefore = token.balanceOf(publisher);
        _close(publisher, leaseId);
        uint256 refund = 2 * uint256(DEPOSIT) - uint256(PRICE) * 2 hours;
        assertEq(token.balanceOf(publisher) - publisherBefore, refund + COLLATERAL * COMP_BPS / BPS);
    }

    function test_leaseStartedAfterLastHeartbeatEarnsNothing() public {
        vm.warp(START_TIME + 30 minutes);
        uint256 leaseId = _lease(PRICE, DEPOSIT, 0); // the provider is silent since START_TIME
        _goDark();
        (uint256 amount,) = market.withdrawable(leaseId);
        assertEq(amount, 0);

        uint256 publisherBefore = token.balanceOf(publisher);
        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.LeaseClosed(
            leaseId, stranger, CloseReason.ProviderDark, START_TIME + 30 minutes, 0, DEPOSIT, 0, 0
        );
        _close(stranger, leaseId);
        assertEq(token.balanceOf(publisher) - publisherBefore, DEPOSIT + COLLATERAL * COMP_BPS / BPS);
    }

    /*//////////////////////////////////////////////////////////////
                                  JAIL
    //////////////////////////////////////////////////////////////*/

    function test_createLease_revertsWhenJailed() public {
        _goDark();
        Quote memory quote = _quote(provider, PRICE, 0);
        bytes memory signature = _sign(providerKey, quote);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderJailed.selector, provider));
        vm.prank(publisher);
        market.createLease(quote, signature, DEPOSIT);
        assertEq(market.leaseCount(), 0);
    }

    function test_placeBid_revertsWhenJailed() public {
        _goDark();
        uint256 orderId = _order(PRICE, DEPOSIT, true);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderJailed.selector, provider));
        _bid(provider, orderId, PRICE);
        assertEq(uint8(market.getBid(orderId, provider).status), uint8(BidStatus.None));
    }

    /*//////////////////////////////////////////////////////////////
                                  JAIL
    //////////////////////////////////////////////////////////////*/

    function test_reportDark_setsJailCooldown() public {
        _goDark();
        uint256 jailedUntil = block.timestamp + JAIL_COOLDOWN;
        assertEq(market.darkRecord(provider, 0).jailedUntil, jailedUntil);
    }

    function test_reportDark_emitsJailedUntil() public {
        vm.warp(START_TIME + THRESHOLD + 1);
        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.ProviderReportedDark(
            provider, reporter, 0, uint40(START_TIME), 0, 0, 0, uint40(block.timestamp + JAIL_COOLDOWN)
        );
        _report(reporter);
    }

    function test_stake_doesNotEndJail() public {
        _lease(PRICE, DEPOSIT, 0);
        _goDark();
        vm.warp(block.timestamp + 2 days);
        _fund(provider, 5 * TOKEN);

        vm.recordLogs();
        vm.prank(provider);
        market.stake(5 * TOKEN);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            assertTrue(logs[i].topics[0] != IPodnetMarket.Heartbeat.selector, "no Heartbeat event");
        }
        _assertLiveness(provider, START_TIME, 1, true);
        _assertStake(provider, STAKE - COLLATERAL + 5 * TOKEN, 0);
    }

    function test_unjail_endsJailAndResetsHeartbeat() public {
        _lease(PRICE, DEPOSIT, 0);
        _goDark();
        uint256 at = block.timestamp + JAIL_COOLDOWN;
        vm.warp(at);

        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.ProviderUnjailed(provider, 1);
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.Heartbeat(provider, uint40(at));
        vm.prank(provider);
        market.unjail();

        _assertLiveness(provider, at, 1, false);
        _assertStake(provider, STAKE - COLLATERAL, 0);

        // The threshold counts from the unjail.
        vm.warp(at + THRESHOLD);
        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketProviderAlive.selector, provider, at, at + THRESHOLD + 1)
        );
        _report(reporter);
    }

    function test_unjail_revertsDuringCooldown() public {
        _goDark();
        uint256 jailedUntil = block.timestamp + JAIL_COOLDOWN;
        vm.warp(jailedUntil - 1);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketJailCooldown.selector, provider, jailedUntil));
        vm.prank(provider);
        market.unjail();
        _assertLiveness(provider, START_TIME, 1, true);
    }

    function test_unjail_revertsBelowMinimumStake() public {
        vm.prank(provider);
        market.unstake(STAKE - 1);
        _goDark();
        _waitOutJail();
        uint256 minimum = market.params().minProviderStake;
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketStakeBelowMinimum.selector, provider, 1, minimum));
        vm.prank(provider);
        market.unjail();

        // Fresh stake up to the minimum lets it out.
        _fund(provider, minimum - 1);
        vm.prank(provider);
        market.stake(minimum - 1);
        vm.prank(provider);
        market.unjail();
        _assertLiveness(provider, block.timestamp, 1, false);
    }

    function test_unjail_revertsWhenNotJailed() public {
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderNotJailed.selector, provider));
        vm.prank(provider);
        market.unjail();
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderNotJailed.selector, stranger));
        vm.prank(stranger);
        market.unjail();
    }

    function test_unjail_usesCooldownInForceAtReport() public {
        _goDark();
        uint256 jailedUntil = block.timestamp + JAIL_COOLDOWN;
        MarketParams memory p = defaultParams();
        p.jailCooldown = 30 days;
        vm.prank(admin);
        market.setParams(p);
        vm.warp(jailedUntil);
        vm.prank(provider);
        market.unjail();
        _assertLiveness(provider, jailedUntil, 1, false);
    }

    function test_unjail_twiceReverts() public {
        _goDark();
        _restake(TOKEN);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderNotJailed.selector, provider));
        vm.prank(provider);
        market.unjail();
    }

    /// @dev Issue 13, finding 3: the epoch was a uint16 and a stake of 1 wei ended a jail, so 65,535 self-reports
    ///      each followed by a 1-wei re-stake wrapped the counter and made the provider unreportable forever (the
    ///      next report overflowed). The epoch is a uint24 now and leaving jail takes the cooldown and the minimum
    ///      stake: the provider is still reportable after 65,536 reports.
    function test_reportDark_epochSurvivesSixtyFiveThousandReports() public {
        // Even at the shortest cooldown governance can set, these 65,536 reports span over 15 years.
        _setJailCooldown(uint40(market.MIN_JAIL_COOLDOWN()));
        vm.pauseGasMetering();
        for (uint256 i; i < 65_535; ++i) {
            vm.warp(block.timestamp + THRESHOLD + 1);
            vm.prank(provider);
            market.reportDark(provider);
            _waitOutJail();
            vm.prank(provider);
            market.unjail();
        }
        vm.resumeGasMetering();
        assertEq(market.stakeOf(provider).epoch, 65_535);

        vm.warp(block.timestamp + THRESHOLD + 1);
        _report(stranger);
        _assertLiveness(provider, block.timestamp - THRESHOLD - 1, 65_536, true);
        assertEq(market.darkRecord(provider, 65_535).darkAt, block.timestamp - THRESHOLD - 1);
    }

    function test_stake_afterReturnDoesNotHeartbeatAgain() public {
        _goDark();
        _restake(TOKEN);
        uint256 back = block.timestamp;
        vm.warp(back + 10 minutes);
        _fund(provider, TOKEN);
        vm.prank(provider);
        market.stake(TOKEN);
        _assertLiveness(provider, back, 1, false);
    }

    function test_createLease_afterReturnIsInNewEpoch() public {
        (uint256 oldLease, uint256 darkAt) = _leaseThenDark();
        _restake(TOKEN);
        uint256 back = block.timestamp;

        uint256 newLease = _lease(PRICE, DEPOSIT, 1);
        Lease memory lease = market.getLease(newLease);
        assertEq(lease.epoch, 1);
        _assertStake(provider, STAKE - COLLATERAL + TOKEN - COLLATERAL, COLLATERAL);

        vm.warp(back + 30 minutes);
        _heartbeat(provider);
        (uint256 amount,) = market.withdrawable(newLease);
        assertEq(amount, uint256(PRICE) * 30 minutes, "new lease accrues normally");
        vm.prank(publisher);
        market.topUp(newLease, PRICE);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNotLeaseParty.selector, newLease, stranger));
        _close(stranger, newLease);

        // The old lease is still dark; closing it leaves the new collateral locked.
        (amount,) = market.withdrawable(oldLease);
        assertEq(amount, uint256(PRICE) * (darkAt - START_TIME));
        _close(stranger, oldLease);
        _assertStake(provider, STAKE - COLLATERAL + TOKEN - COLLATERAL, COLLATERAL);
        assertEq(market.getLease(newLease).collateral, COLLATERAL);

        // Closing the new lease normally releases its collateral after the dispute window.
        _close(publisher, newLease);
        _assertStake(provider, STAKE - COLLATERAL + TOKEN - COLLATERAL, COLLATERAL);
        _releaseAfterWindow(newLease);
        _assertStake(provider, STAKE - COLLATERAL + TOKEN, 0);
        assertEq(market.getLease(newLease).collateral, 0);
    }

    function test_reportDark_secondReportUsesNewEpoch() public {
        (uint256 oldLease, uint256 darkAt) = _leaseThenDark();
        _restake(TOKEN);
        uint256 back = block.timestamp;
        uint256 newLease = _lease(PRICE * 2, DEPOSIT, 1);
        uint256 newCollateral = uint256(PRICE) * 2 * 1 days;

        vm.warp(back + THRESHOLD + 1);
        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.ProviderReportedDark(
            provider,
            stranger,
            1,
            uint40(back),
            newCollateral,
            newCollateral * REWARD_BPS / BPS,
            0,
            uint40(block.timestamp + JAIL_COOLDOWN)
        );
        _report(stranger);

        _assertLiveness(provider, back, 2, true);
        DarkRecord memory first = market.darkRecord(provider, 0);
        DarkRecord memory second = market.darkRecord(provider, 1);
        assertEq(first.darkAt, darkAt);
        assertEq(first.pool, COLLATERAL - COLLATERAL * REWARD_BPS / BPS);
        assertEq(second.darkAt, back);
        assertEq(second.pool, newCollateral - newCollateral * REWARD_BPS / BPS);

        // Each lease takes its compensation from its own epoch's pool.
        uint256 before = token.balanceOf(publisher);
        _close(stranger, newLease);
        assertEq(token.balanceOf(publisher) - before, DEPOSIT + newCollateral * COMP_BPS / BPS);
        assertEq(market.darkRecord(provider, 1).pool, 0);
        assertEq(market.darkRecord(provider, 0).pool, COLLATERAL - COLLATERAL * REWARD_BPS / BPS);
        _close(stranger, oldLease);
        assertEq(market.darkRecord(provider, 0).pool, 0);
    }

    /*//////////////////////////////////////////////////////////////
                               VOID BIDS
    //////////////////////////////////////////////////////////////*/

    /// @dev An auto-accept order on which `provider` (best, PRICE / 2) and `provider2` (PRICE) bid; then `provider`
    ///      is reported dark after the bid deadline.
    function _voidBidSetUp() internal returns (uint256 orderId, uint256 reserved) {
        _onboard(provider2, STAKE);
        orderId = _order(PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE / 2);
        _bid(provider2, orderId, PRICE);
        reserved = uint256(PRICE / 2) * 1 days;
        assertEq(market.getBid(orderId, provider).epoch, 0);
        _goDark(); // START + 1 hour + 1: bidding closed, the order can still be matched
    }

    function test_acceptBid_revertsWhenBidVoid() public {
        (uint256 orderId,) = _voidBidSetUp();
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderWentDark.selector, provider, 0));
        vm.prank(publisher);
        market.acceptBid(orderId, provider);
        assertEq(uint8(market.getOrder(orderId).status), uint8(OrderStatus.Open));
    }

    function test_acceptBid_revertsWhenBidVoidEvenAfterReturn() public {
        _setJailCooldown(1 hours); // the provider is back before the order expires
        (uint256 orderId,) = _voidBidSetUp();
        _restake(TOKEN);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderWentDark.selector, provider, 0));
        vm.prank(publisher);
        market.acceptBid(orderId, provider);
    }

    function test_finalizeOrder_voidBestBidFallsThrough() public {
        (uint256 orderId,) = _voidBidSetUp();
        _heartbeat(provider2);
        // The best bid is void: the order needs the list of standing bidders to fall through.
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBidListMismatch.selector, orderId, 0, 2));
        vm.prank(stranger);
        market.finalizeOrder(orderId, _noBidders());

        address[] memory list = new address[](2);
        (list[0], list[1]) = provider < provider2 ? (provider, provider2) : (provider2, provider);
        vm.prank(stranger);
        uint256 leaseId = market.finalizeOrder(orderId, list);
        assertEq(market.getLease(leaseId).provider, provider2);
    }

    function test_acceptBid_otherProviderBidStillValid() public {
        (uint256 orderId,) = _voidBidSetUp();
        _heartbeat(provider2);
        vm.prank(publisher);
        uint256 leaseId = market.acceptBid(orderId, provider2);
        Lease memory lease = market.getLease(leaseId);
        assertEq(lease.provider, provider2);
        assertEq(lease.epoch, 0);
        assertEq(lease.collateral, COLLATERAL);
    }

    function test_releaseBid_voidBidSweepsShareToFees() public {
        (uint256 orderId, uint256 reserved) = _voidBidSetUp();
        _heartbeat(provider2);
        vm.prank(publisher);
        market.acceptBid(orderId, provider2);
        uint256 share = reserved * COMP_BPS / BPS;
        uint256 poolBefore = market.darkRecord(provider, 0).pool;
        assertEq(poolBefore, reserved - reserved * REWARD_BPS / BPS);
        uint256 marketBefore = token.balanceOf(address(market));
        Stake memory stakeBefore = market.stakeOf(provider);

        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.DarkPoolSwept(provider, 0, share);
        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.BidReleased(orderId, provider, 0);
        vm.prank(stranger);
        market.releaseBid(orderId, provider);

        assertEq(market.accruedFees(), share, "fees");
        assertEq(share, 38_880_000_000_000_000, "90% of 43200 * 1e12");
        assertEq(market.darkRecord(provider, 0).pool, poolBefore - share, "pool");
        _assertStake(provider, stakeBefore.free, 0);
        assertEq(uint8(market.getBid(orderId, provider).status), uint8(BidStatus.Released));
        assertEq(token.balanceOf(address(market)), marketBefore, "no tokens leave");

        vm.prank(treasury);
        market.withdrawFees();
        assertEq(token.balanceOf(treasury), share);
    }

    function test_releaseBid_voidBidAfterCancel() public {
        (uint256 orderId, uint256 reserved) = _voidBidSetUp();
        vm.prank(publisher);
        market.cancelOrder(orderId);

        uint256 share = reserved * COMP_BPS / BPS;
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.DarkPoolSwept(provider, 0, share);
        market.releaseBid(orderId, provider);
        assertEq(market.accruedFees(), share);

        // The live bidder's release frees its reservation as usual.
        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.BidReleased(orderId, provider2, COLLATERAL);
        market.releaseBid(orderId, provider2);
        _assertStake(provider2, STAKE, 0);
        assertEq(market.accruedFees(), share, "live release sweeps nothing");
    }

    function test_releaseBid_voidBidTwiceReverts() public {
        (uint256 orderId,) = _voidBidSetUp();
        vm.prank(publisher);
        market.cancelOrder(orderId);
        market.releaseBid(orderId, provider);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBidNotReleasable.selector, orderId, provider));
        market.releaseBid(orderId, provider);
    }

    function test_releaseBid_voidBidNotBeforeOrderEnds() public {
        (uint256 orderId,) = _voidBidSetUp();
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBidNotReleasable.selector, orderId, provider));
        market.releaseBid(orderId, provider);
    }

    function test_releaseBid_voidBidAndDarkLeaseShareThePool() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 0);
        (uint256 orderId, uint256 reserved) = _voidBidSetUp();
        uint256 locked = COLLATERAL + reserved;
        assertEq(token.balanceOf(reporter), locked * REWARD_BPS / BPS);
        vm.prank(publisher);
        market.cancelOrder(orderId);

        market.releaseBid(orderId, provider);
        uint256 publisherBefore = token.balanceOf(publisher);
        _close(stranger, leaseId);

        // The provider never heartbeated after the lease started: darkAt is the lease's start, nothing is owed.
        uint256 compensation = COLLATERAL * COMP_BPS / BPS;
        assertEq(token.balanceOf(publisher) - publisherBefore, DEPOSIT + compensation);
        assertEq(market.accruedFees(), reserved * COMP_BPS / BPS);
        assertEq(market.darkRecord(provider, 0).pool, 0, "shares add up to the pool");
    }

    function test_placeBid_afterReturnIsValid() public {
        _goDark();
        _restake(TOKEN);
        uint256 orderId = _order(PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE);
        assertEq(market.getBid(orderId, provider).epoch, 1);

        vm.prank(publisher);
        uint256 leaseId = market.acceptBid(orderId, provider);
        assertEq(market.getLease(leaseId).epoch, 1);
        assertEq(market.getLease(leaseId).collateral, COLLATERAL);
    }

    function test_releaseBid_afterReturnFreesReservation() public {
        _goDark();
        _restake(TOKEN);
        uint256 orderId = _order(PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE);
        vm.prank(publisher);
        market.cancelOrder(orderId);

        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.BidReleased(orderId, provider, COLLATERAL);
        market.releaseBid(orderId, provider);
        _assertStake(provider, STAKE + TOKEN, 0);
        assertEq(market.accruedFees(), 0);
    }

    function test_fuzz_releaseBid_voidBidSweepsExactShare(uint96 price, uint16 darkSlashBps, uint16 reporterRewardBps)
        public
    {
        price = uint96(bound(price, 1, PRICE));
        darkSlashBps = uint16(bound(darkSlashBps, 0, BPS));
        reporterRewardBps = uint16(bound(reporterRewardBps, 0, BPS));
        _setParams(darkSlashBps, reporterRewardBps);
        uint256 orderId = _order(PRICE, DEPOSIT, true);
        _bid(provider, orderId, price);
        // At least the collateral of a bid at half the order's maximum (minBidCollateralBps).
        uint256 floor = uint256(PRICE) * market.params().minBidCollateralBps / BPS;
        uint256 reserved = (price > floor ? price : floor) * 1 days;
        _goDark();
        vm.prank(publisher);
        market.cancelOrder(orderId);

        uint256 slashed = reserved * darkSlashBps / BPS;
        uint256 pool = slashed - slashed * reporterRewardBps / BPS;
        uint256 share = reserved * (uint256(darkSlashBps) * (BPS - reporterRewardBps) / BPS) / BPS;
        assertLe(share, pool, "pool covers the share");
        uint256 marketBefore = token.balanceOf(address(market));

        market.releaseBid(orderId, provider);

        assertEq(market.accruedFees(), share, "fees");
        assertEq(market.darkRecord(provider, 0).pool, pool - share, "pool");
        _assertStake(provider, STAKE - slashed, 0);
        assertEq(token.balanceOf(address(market)), marketBefore);
        // The market holds exactly stake + pool + fees (the order's deposit went back).
        assertEq(token.balanceOf(address(market)), STAKE - slashed + (pool - share) + share);
    }

    /*//////////////////////////////////////////////////////////////
                       SILENT PROVIDERS TAKE NO WORK
    //////////////////////////////////////////////////////////////*/

    function test_createLease_revertsWhenProviderSilent() public {
        uint256 lastHeartbeat = market.stakeOf(provider).lastHeartbeat;
        vm.warp(lastHeartbeat + market.params().heartbeatThreshold + 1);
        Quote memory quote = _quote(provider, PRICE, 7);
        bytes memory signature = _sign(providerKey, quote);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderSilent.selector, provider, lastHeartbeat));
        vm.prank(publisher);
        market.createLease(quote, signature, DEPOSIT);

        // One heartbeat and the same quote goes through.
        _heartbeat(provider);
        vm.prank(publisher);
        uint256 leaseId = market.createLease(quote, signature, DEPOSIT);
        assertEq(market.getLease(leaseId).provider, provider);
    }

    function test_createLease_worksExactlyAtHeartbeatThreshold() public {
        vm.warp(market.stakeOf(provider).lastHeartbeat + market.params().heartbeatThreshold);
        uint256 leaseId = _lease(PRICE, DEPOSIT, 8);
        assertEq(market.getLease(leaseId).provider, provider);
    }

    function test_placeBid_revertsWhenProviderSilent() public {
        vm.prank(publisher);
        uint256 orderId = market.createOrder(
            SPEC,
            defaultResources(),
            PRICE,
            DEPOSIT,
            uint40(block.timestamp + 1 days),
            _requirements(0, REGION_EU),
            true
        );
        uint256 lastHeartbeat = market.stakeOf(provider).lastHeartbeat;
        vm.warp(lastHeartbeat + market.params().heartbeatThreshold + 1);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderSilent.selector, provider, lastHeartbeat));
        _bid(provider, orderId, PRICE);
    }
}
