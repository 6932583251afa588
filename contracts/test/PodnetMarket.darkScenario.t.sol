// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPodnetMarket} from "../src/interfaces/IPodnetMarket.sol";
import {CloseReason, DarkRecord, Lease, LeaseStatus, MarketParams, Quote, Stake} from "../src/types/MarketTypes.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";

/// @notice Acceptance scenario of the liveness guarantee: a provider with three running leases goes silent, is
///         reported dark, and every party ends up with exactly what the rules promise. Every expected amount is
///         computed here from prices, times, deposits and parameters, not read back from the market.
contract PodnetMarketDarkScenarioTest is MarketFixture {
    uint256 internal constant STAKE = 1000 * TOKEN;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant PUBLISHER_FUNDS = 1000 * TOKEN;

    address internal reporter = makeAddr("reporter");
    address internal pubA = makeAddr("publisherA");
    address internal pubB = makeAddr("publisherB");
    address internal pubC = makeAddr("publisherC");

    /// @dev One lease of the scenario and what the test expects for it.
    struct Leg {
        address publisher;
        uint96 price;
        uint96 deposit;
        uint256 startedAt;
        uint256 leaseId;
        uint256 collateral;
        /// @dev Paid to the provider before the report (by a withdrawal while it was alive).
        uint256 withdrawnEarly;
        /// @dev Everything the provider earns from the lease: up to darkAt, or its last settlement if later.
        uint256 earned;
        uint256 refund;
        uint256 compensation;
    }

    /// @dev Running totals of a scenario, in memory to keep the stack small.
    struct Totals {
        uint256 darkAt;
        uint256 deposits;
        uint256 collateral;
        uint256 slashed;
        uint256 reward;
        uint256 pool;
        uint256 compensationBps;
        uint256 paidToPublishers;
        uint256 providerNet;
        uint256 fees;
    }

    function setUp() public override {
        super.setUp();
        _onboard(provider, STAKE);
        _fund(pubA, PUBLISHER_FUNDS);
        _fund(pubB, PUBLISHER_FUNDS);
        _fund(pubC, PUBLISHER_FUNDS);
    }

    /*//////////////////////////////////////////////////////////////
                                HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev `pub` leases from `provider` with a quote reserved for it.
    function _leaseFor(address pub, uint96 price, uint96 deposit, uint256 nonce) internal returns (uint256 leaseId) {
        Quote memory quote = _quote(provider, price, nonce);
        quote.publisher = pub;
        bytes memory signature = _sign(providerKey, quote);
        vm.prank(pub);
        leaseId = market.createLease(quote, signature, deposit);
    }

    function _open(Leg memory leg, uint256 nonce) internal {
        leg.startedAt = block.timestamp;
        leg.leaseId = _leaseFor(leg.publisher, leg.price, leg.deposit, nonce);
    }

    function _close(address who, uint256 leaseId) internal {
        vm.prank(who);
        market.closeLease(leaseId);
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    /// @dev What the escrow pays the provider from `from` to `until` out of `balance`.
    function _accrued(uint256 price, uint256 balance, uint256 from, uint256 until) internal pure returns (uint256) {
        if (until <= from) return 0;
        return _min(price * (until - from), balance);
    }

    function _sumMarketHeld(Leg[] memory legs) internal view returns (uint256 held) {
        for (uint256 i; i < legs.length; ++i) {
            held += market.getLease(legs[i].leaseId).balance;
        }
    }

    /*//////////////////////////////////////////////////////////////
                          ACCEPTANCE SCENARIO
    //////////////////////////////////////////////////////////////*/

    function test_darkScenario_defaultParams() public {
        _runScenario(defaultParams());
    }

    /// @dev Partial slash, an odd reward share, odd collateral seconds and fee: rounding leaves dust in the pool.
    function test_darkScenario_partialSlashLeavesDust() public {
        MarketParams memory p = defaultParams();
        p.darkSlashBps = 7777;
        p.reporterRewardBps = 1234;
        p.collateralSeconds = 86_399;
        p.feeBps = 37;
        vm.prank(admin);
        market.setParams(p);
        _runScenario(p);
        // compensationBps = 7777 * 8766 / 10000 rounds 6817.3 down: the pool keeps the rounding.
        assertGt(market.darkRecord(provider, 0).pool, 0, "dust stays in the pool");
    }

    /// @dev Timeline (t0 = START_TIME, the provider staked at t0):
    ///      t0          A leases (2e12/s, 2 days of deposit)
    ///      t0+40m      heartbeat
    ///      t0+55m      B leases (7e11+3 /s, 1 day + 1234 of deposit)
    ///      t0+1h30m    heartbeat
    ///      t0+2h10m    C leases (1.5e12+1 /s, 3 hours + 77 of deposit)
    ///      t0+2h20m    heartbeat
    ///      t0+3h       provider withdraws A and B (alive)
    ///      t0+3h20m    heartbeat
    ///      t0+4h30m    last heartbeat (darkAt)
    ///      darkAt+1h   a report still reverts; one second later the reporter reports
    ///      +1 day      A closes its lease
    ///      +2 days     a stranger closes B's lease; the provider withdraws all three
    ///      +3 days     the reporter closes C's lease
    function _runScenario(MarketParams memory p) internal {
        uint256 t0 = START_TIME;
        Totals memory t;
        Leg[] memory legs = new Leg[](3);
        legs[0].publisher = pubA;
        legs[0].price = 2e12;
        legs[0].deposit = 2e12 * 2 days;
        legs[1].publisher = pubB;
        legs[1].price = 7e11 + 3;
        legs[1].deposit = (7e11 + 3) * 1 days + 1234;
        legs[2].publisher = pubC;
        legs[2].price = 1.5e12 + 1;
        legs[2].deposit = (1.5e12 + 1) * 3 hours + 77;

        // Leases start while the provider heartbeats.
        _open(legs[0], 0);
        vm.warp(t0 + 40 minutes);
        _heartbeat(provider);
        vm.warp(t0 + 55 minutes);
        _open(legs[1], 1);
        vm.warp(t0 + 90 minutes);
        _heartbeat(provider);
        vm.warp(t0 + 130 minutes);
        _open(legs[2], 2);
        vm.warp(t0 + 140 minutes);
        _heartbeat(provider);

        // The provider withdraws from A and B while alive.
        vm.warp(t0 + 3 hours);
        {
            legs[0].withdrawnEarly = _accrued(legs[0].price, legs[0].deposit, legs[0].startedAt, block.timestamp);
            legs[1].withdrawnEarly = _accrued(legs[1].price, legs[1].deposit, legs[1].startedAt, block.timestamp);
            uint256 gross = legs[0].withdrawnEarly + legs[1].withdrawnEarly;
            uint256 fee = gross * p.feeBps / BPS;
            uint256[] memory ids = new uint256[](2);
            ids[0] = legs[0].leaseId;
            ids[1] = legs[1].leaseId;
            vm.prank(provider);
            assertEq(market.withdraw(ids), gross - fee, "early withdrawal");
            t.providerNet += gross - fee;
            t.fees += fee;
        }

        vm.warp(t0 + 200 minutes);
        _heartbeat(provider);
        vm.warp(t0 + 260 minutes); // on time: 60 minutes after the previous one (70 would leave a dark gap)
        _heartbeat(provider);
        t.darkAt = block.timestamp;

        // Expected amounts, from the parameters alone.
        t.compensationBps = uint256(p.darkSlashBps) * (BPS - p.reporterRewardBps) / BPS;
        uint256 totalCompensation;
        for (uint256 i; i < 3; ++i) {
            Leg memory leg = legs[i];
            leg.collateral = uint256(leg.price) * p.collateralSeconds;
            leg.earned = _accrued(leg.price, leg.deposit, leg.startedAt, t.darkAt);
            assertLt(leg.earned, leg.deposit, "every lease still has funds at darkAt");
            leg.refund = leg.deposit - leg.earned;
            leg.compensation = leg.collateral * t.compensationBps / BPS;
            t.collateral += leg.collateral;
            t.deposits += leg.deposit;
            totalCompensation += leg.compensation;
        }
        t.slashed = t.collateral * p.darkSlashBps / BPS;
        t.reward = t.slashed * p.reporterRewardBps / BPS;
        t.pool = t.slashed - t.reward;
        assertLe(totalCompensation, t.pool, "the pool covers every share");
        _assertStake(STAKE - t.collateral, t.collateral, t.darkAt, 0, false);

        _report(p, t);

        // A closes its own lease a day later: the time since darkAt costs it nothing.
        vm.warp(block.timestamp + 1 days);
        _expectDarkClose(legs[0], pubA, t.darkAt, legs[0].earned - legs[0].withdrawnEarly);
        _close(pubA, legs[0].leaseId);

        // A stranger closes B's lease.
        vm.warp(block.timestamp + 1 days);
        _expectDarkClose(legs[1], stranger, t.darkAt, legs[1].earned - legs[1].withdrawnEarly);
        _close(stranger, legs[1].leaseId);

        // The provider withdraws what it earned up to darkAt: A and B closed, C still running (dark).
        {
            uint256 gross =
                legs[0].earned + legs[1].earned + legs[2].earned - legs[0].withdrawnEarly - legs[1].withdrawnEarly;
            uint256 fee = gross * p.feeBps / BPS;
            uint256[] memory ids = new uint256[](3);
            ids[0] = legs[0].leaseId;
            ids[1] = legs[1].leaseId;
            ids[2] = legs[2].leaseId;
            vm.expectEmit(true, false, false, true, address(market));
            emit IPodnetMarket.ProviderWithdrew(provider, gross, fee, gross - fee);
            vm.prank(provider);
            assertEq(market.withdraw(ids), gross - fee, "late withdrawal");
            t.providerNet += gross - fee;
            t.fees += fee;
            // Nothing more, ever.
            vm.warp(block.timestamp + 30 days);
            vm.prank(provider);
            assertEq(market.withdraw(ids), 0, "nothing after darkAt");
        }

        // The reporter closes C's lease, whose earnings were already withdrawn.
        vm.warp(block.timestamp + 1 days);
        _expectDarkClose(legs[2], reporter, t.darkAt, 0);
        _close(reporter, legs[2].leaseId);

        // Every publisher received exactly its refund and its share of the collateral.
        for (uint256 i; i < 3; ++i) {
            uint256 received = token.balanceOf(legs[i].publisher) - (PUBLISHER_FUNDS - legs[i].deposit);
            assertEq(received, legs[i].refund + legs[i].compensation, "publisher receives refund + compensation");
            t.paidToPublishers += received;
            Lease memory lease = market.getLease(legs[i].leaseId);
            assertEq(uint8(lease.status), uint8(LeaseStatus.Closed), "closed");
            assertEq(lease.endedAt, t.darkAt, "ended at darkAt");
            assertEq(lease.balance, 0, "nothing left in escrow");
            assertEq(lease.collateral, 0, "collateral spent");
        }
        assertEq(token.balanceOf(reporter), t.reward, "reporter closing a lease gains nothing more");

        // The provider got exactly what it earned up to darkAt, less the fee of each withdrawal.
        assertEq(token.balanceOf(provider), t.providerNet, "provider");

        // The market holds exactly the stake left, the pool's dust and the fees.
        uint256 dust = t.pool - totalCompensation;
        assertEq(market.darkRecord(provider, 0).pool, dust, "pool dust");
        assertEq(market.accruedFees(), t.fees, "fees");
        uint256 marketBalance = token.balanceOf(address(market));
        assertEq(marketBalance, (STAKE - t.slashed) + dust + t.fees, "market holds stake + dust + fees");
        assertEq(
            marketBalance,
            STAKE + t.deposits - t.reward - t.paidToPublishers - t.providerNet,
            "tokens in = tokens out + tokens held"
        );
        _assertStake(STAKE - t.slashed, 0, t.darkAt, 1, true);
    }

    /// @dev Silence: exactly at the threshold the provider still counts as alive; one second later the reporter
    ///      reports it and receives exactly its reward.
    function _report(MarketParams memory p, Totals memory t) internal {
        vm.warp(t.darkAt + p.heartbeatThreshold);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPodnetMarket.MarketProviderAlive.selector, provider, t.darkAt, t.darkAt + p.heartbeatThreshold + 1
            )
        );
        vm.prank(reporter);
        market.reportDark(provider);

        vm.warp(t.darkAt + p.heartbeatThreshold + 1);
        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.ProviderReportedDark(
            provider,
            reporter,
            0,
            uint40(t.darkAt),
            t.slashed,
            t.reward,
            t.collateral - t.slashed,
            uint40(block.timestamp + p.jailCooldown)
        );
        vm.prank(reporter);
        assertEq(market.reportDark(provider), t.reward, "reward returned");
        assertEq(token.balanceOf(reporter), t.reward, "reporter receives exactly its reward");
        _assertStake(STAKE - t.slashed, 0, t.darkAt, 1, true);
        DarkRecord memory record = market.darkRecord(provider, 0);
        assertEq(record.darkAt, t.darkAt, "record darkAt");
        assertEq(record.compensationBps, t.compensationBps, "record compensationBps");
        assertEq(record.pool, t.pool, "record pool");
    }

    /// @dev `owed`: what the lease still holds for the provider (earned up to darkAt, not yet withdrawn).
    function _expectDarkClose(Leg memory leg, address closer, uint256 darkAt, uint256 owed) internal {
        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.LeaseClosed(leg.leaseId, closer, CloseReason.ProviderDark, darkAt, owed, leg.refund, 0, 0);
        if (leg.compensation != 0) {
            vm.expectEmit(true, true, false, true, address(market));
            emit IPodnetMarket.CompensationPaid(leg.leaseId, leg.publisher, leg.compensation);
        }
    }

    function _assertStake(uint256 free, uint256 locked, uint256 lastHeartbeat, uint256 epoch, bool jailed)
        internal
        view
    {
        Stake memory s = market.stakeOf(provider);
        assertEq(s.free, free, "free");
        assertEq(s.locked, locked, "locked");
        assertEq(s.lastHeartbeat, lastHeartbeat, "lastHeartbeat");
        assertEq(s.epoch, epoch, "epoch");
        assertEq(s.jailed, jailed, "jailed");
    }

    /// @dev The default scenario's amounts, written out by hand, so that a change in the formulas above cannot
    ///      hide a change in the contract.
    function test_darkScenario_literalAmounts() public {
        _runScenario(defaultParams());
        // Each publisher ends with its funds less what the provider earned to darkAt plus 90% of its collateral (the
        // deposit comes back as refund except for the earned part). darkAt = t0 + 15600 s.
        // A: 2e12/s for 15600 s; share = 90% of 2e12 * 86400 = 2e12 * 77760.
        assertEq(token.balanceOf(pubA), PUBLISHER_FUNDS - 2e12 * 15_600 + 2e12 * 77_760, "A");
        // B: (7e11+3)/s for 12300 s (from t0+55m); the odd 1234 of its deposit comes back.
        assertEq(token.balanceOf(pubB), PUBLISHER_FUNDS - (7e11 + 3) * 12_300 + (7e11 + 3) * 77_760, "B");
        // C: (1.5e12+1)/s for 7800 s (from t0+2h10m); the odd 77 of its deposit comes back.
        assertEq(token.balanceOf(pubC), PUBLISHER_FUNDS - (1.5e12 + 1) * 7800 + (1.5e12 + 1) * 77_760, "C");
        // Reporter: 10% of all collateral, (2e12 + 7e11 + 3 + 1.5e12 + 1) * 86400 = 4_200_000_000_004 * 86400.
        assertEq(token.balanceOf(reporter), 36_288_000_000_034_560, "reporter");
    }

    /*//////////////////////////////////////////////////////////////
                                  FUZZ
    //////////////////////////////////////////////////////////////*/

    struct FuzzInput {
        uint8 count;
        uint96[3] prices;
        uint256[3] depositSeconds;
        uint256[3] depositExtra;
        uint256[3] startGaps;
        uint256 silentAfterLastStart;
        bool withdrawAfterDarkAt;
        uint256 withdrawDelay;
        uint256 reportDelay;
        uint16 darkSlashBps;
        uint16 reporterRewardBps;
        uint40 collateralSeconds;
        uint16 feeBps;
    }

    function test_fuzz_darkScenario_conservesTokens(FuzzInput memory input) public {
        MarketParams memory p = defaultParams();
        p.darkSlashBps = uint16(bound(input.darkSlashBps, 0, BPS));
        p.reporterRewardBps = uint16(bound(input.reporterRewardBps, 0, BPS));
        p.collateralSeconds = uint40(bound(input.collateralSeconds, 0, 3 days));
        p.feeBps = uint16(bound(input.feeBps, 0, 1000));
        vm.prank(admin);
        market.setParams(p);

        Totals memory t;
        Leg[] memory legs = _fuzzOpenLeases(input, p, t);

        // Last heartbeat: some time after the last lease started (leases may run out before it).
        vm.warp(block.timestamp + bound(input.silentAfterLastStart, 0, 4 days));
        _heartbeat(provider);
        t.darkAt = block.timestamp;
        uint256 reportAt = t.darkAt + p.heartbeatThreshold + 1 + bound(input.reportDelay, 0, 2 days);

        // Maybe the provider withdraws after its last heartbeat, before the report: that money is its own.
        if (input.withdrawAfterDarkAt) {
            vm.warp(t.darkAt + bound(input.withdrawDelay, 0, reportAt - t.darkAt));
            for (uint256 i; i < legs.length; ++i) {
                legs[i].withdrawnEarly = _accrued(legs[i].price, legs[i].deposit, legs[i].startedAt, block.timestamp);
            }
            _fuzzWithdraw(legs, p, t, true);
        }

        vm.warp(reportAt);
        vm.prank(reporter);
        t.reward = market.reportDark(provider);
        t.slashed = t.collateral * p.darkSlashBps / BPS;
        assertEq(t.reward, t.slashed * p.reporterRewardBps / BPS, "reward");
        assertEq(token.balanceOf(reporter), t.reward, "reporter");
        t.pool = t.slashed - t.reward;
        t.compensationBps = uint256(p.darkSlashBps) * (BPS - p.reporterRewardBps) / BPS;

        // Every publisher's lease is closed by a stranger; each receives its refund and share.
        vm.warp(block.timestamp + 1 days);
        for (uint256 i; i < legs.length; ++i) {
            _fuzzClose(legs[i], t);
        }

        // The provider withdraws the rest of what it earned up to darkAt.
        _fuzzWithdraw(legs, p, t, false);
        assertEq(token.balanceOf(provider), t.providerNet, "provider");
        assertEq(_sumMarketHeld(legs), 0, "escrow empty");

        // Conservation: the market holds exactly the stake left, the pool's dust and the fees.
        assertEq(market.darkRecord(provider, 0).pool, t.pool, "dust");
        assertEq(market.accruedFees(), t.fees, "fees");
        uint256 marketBalance = token.balanceOf(address(market));
        assertEq(marketBalance, STAKE - t.slashed + t.pool + t.fees, "market holds stake + dust + fees");
        assertEq(
            marketBalance,
            STAKE + t.deposits - t.reward - t.paidToPublishers - t.providerNet,
            "tokens in = tokens out + tokens held"
        );
        Stake memory s = market.stakeOf(provider);
        assertEq(s.free, STAKE - t.slashed, "free");
        assertEq(s.locked, 0, "locked");
    }

    function _fuzzOpenLeases(FuzzInput memory input, MarketParams memory p, Totals memory t)
        internal
        returns (Leg[] memory legs)
    {
        legs = new Leg[](bound(input.count, 1, 3));
        address[3] memory pubs = [pubA, pubB, pubC];
        for (uint256 i; i < legs.length; ++i) {
            vm.warp(block.timestamp + bound(input.startGaps[i], 0, 2 hours));
            _heartbeat(provider);
            Leg memory leg = legs[i];
            leg.publisher = pubs[i];
            leg.price = uint96(bound(input.prices[i], 1, 1e13));
            uint256 paidSeconds = bound(input.depositSeconds[i], p.minLeaseDuration, 3 days);
            leg.deposit = uint96(uint256(leg.price) * paidSeconds + bound(input.depositExtra[i], 0, leg.price));
            _open(leg, i);
            leg.collateral = uint256(leg.price) * p.collateralSeconds;
            t.deposits += leg.deposit;
            t.collateral += leg.collateral;
        }
    }

    /// @dev The provider withdraws all leases: before the report what they accrued so far (`withdrawnEarly`), after
    ///      it the rest of what they earned.
    function _fuzzWithdraw(Leg[] memory legs, MarketParams memory p, Totals memory t, bool early) internal {
        uint256 gross;
        uint256[] memory ids = new uint256[](legs.length);
        for (uint256 i; i < legs.length; ++i) {
            ids[i] = legs[i].leaseId;
            gross += early ? legs[i].withdrawnEarly : legs[i].earned - legs[i].withdrawnEarly;
        }
        uint256 fee = gross * p.feeBps / BPS;
        vm.prank(provider);
        assertEq(market.withdraw(ids), gross - fee, "provider withdrawal");
        t.providerNet += gross - fee;
        t.fees += fee;
    }

    function _fuzzClose(Leg memory leg, Totals memory t) internal {
        // The lease earned up to darkAt, or up to a later withdrawal, and never more than its deposit.
        leg.earned = _accrued(leg.price, leg.deposit, leg.startedAt, t.darkAt);
        if (leg.withdrawnEarly > leg.earned) leg.earned = leg.withdrawnEarly;
        leg.refund = leg.deposit - leg.earned;
        leg.compensation = leg.collateral * t.compensationBps / BPS;
        assertLe(leg.compensation, t.pool, "the pool covers the share");
        t.pool -= leg.compensation;

        uint256 before = token.balanceOf(leg.publisher);
        _close(stranger, leg.leaseId);
        uint256 received = token.balanceOf(leg.publisher) - before;
        assertEq(received, leg.refund + leg.compensation, "publisher receives refund + compensation");
        assertLe(received, uint256(leg.deposit) + leg.compensation, "never above deposit + collateral share");
        assertLe(received, uint256(leg.deposit) + leg.collateral, "never above deposit + collateral");
        t.paidToPublishers += received;
    }
}
