// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {DisputeStatus} from "../../src/types/CourtTypes.sol";
import {MarketFixture} from "../utils/MarketFixture.sol";

/// @notice Gas of the liveness, dark-provider and dispute calls, recorded into contracts/snapshots/*.json.
/// @dev Runs in the `gas` profile (isolate = true): each call is its own transaction, so storage is cold the way it
///      is for a user. setUp warms up what any participant already has after its first lease and dispute: the
///      provider has heartbeated, the market, court, reporter and publisher hold tokens, the court has a dispute in
///      flight (so a bond balance and a dispute count) and the publisher an allowance for the court. Each test
///      measures the steady-state call.
///      Targets: heartbeat <= 31k, reportDark <= 90k, claim (close of a dark lease) <= 90k per lease,
///      openDispute <= 130k, resolve (slash or dismiss) <= 130k.
contract GuaranteesGasTest is MarketFixture {
    string internal constant EVIDENCE = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
    string internal constant ANSWER = "ipfs://bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

    function setUp() public override {
        super.setUp();
        _onboard(provider, 10_000 * TOKEN);
        _onboard(provider2, 10_000 * TOKEN);
        vm.prank(publisher);
        token.approve(address(court), type(uint256).max);

        // Warm-up as in MarketGas: a first lease and a withdrawal (nonce word, balances, accrued fees non-zero).
        _lease(PRICE, DEPOSIT, 0);
        skip(10 minutes);
        uint256[] memory ids = new uint256[](1);
        ids[0] = 1;
        vm.prank(provider);
        market.withdraw(ids);

        // A standing dispute (another lease of the same publisher): the court holds a bond and has a dispute
        // count, as it does in steady state with disputes in flight.
        vm.prank(publisher);
        uint256 disputeId = court.openDispute(1, EVIDENCE);
        vm.prank(provider);
        court.answerDispute(disputeId, ANSWER);

        // The provider has heartbeated before.
        _heartbeat(provider);
    }

    /// @dev `count` more leases from `provider`, using quote nonces 1..count.
    function _leases(uint256 count) internal returns (uint256[] memory ids) {
        ids = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            ids[i] = _lease(PRICE, DEPOSIT, i + 1);
        }
    }

    /// @dev Reports `provider` dark, as `stranger`, at the first second it is reportable.
    function _reportDark() internal {
        vm.warp(uint256(market.stakeOf(provider).lastHeartbeat) + market.params().heartbeatThreshold + 1);
        vm.prank(stranger);
        market.reportDark(provider);
    }

    /// @dev A new lease with an open dispute that the provider answered: the arbiter may rule at once.
    function _answeredDispute() internal returns (uint256 disputeId) {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.prank(publisher);
        disputeId = court.openDispute(leaseId, EVIDENCE);
        vm.prank(provider);
        court.answerDispute(disputeId, ANSWER);
        skip(1 hours);
    }

    /*//////////////////////////////////////////////////////////////
                           LIVENESS AND DARK
    //////////////////////////////////////////////////////////////*/

    function test_gas_heartbeat() public {
        skip(5 minutes);
        _heartbeat(provider);
        vm.snapshotGasLastCall("PodnetMarket", "heartbeat");
        assertEq(market.stakeOf(provider).lastHeartbeat, block.timestamp);
    }

    function test_gas_reportDark() public {
        // Two running leases; the report is O(1) whatever their number.
        _leases(2);
        vm.warp(uint256(market.stakeOf(provider).lastHeartbeat) + market.params().heartbeatThreshold + 1);
        vm.prank(stranger);
        market.reportDark(provider);
        vm.snapshotGasLastCall("PodnetMarket", "reportDark");
        assertTrue(market.stakeOf(provider).jailed);
        assertEq(market.stakeOf(provider).locked, 0);
    }

    /// @dev A provider reported dark leaves jail after the cooldown, with its remaining free stake.
    function test_gas_unjail() public {
        _reportDark();
        vm.warp(market.darkRecord(provider, 0).jailedUntil);
        vm.prank(provider);
        market.unjail();
        vm.snapshotGasLastCall("PodnetMarket", "unjail");
        assertFalse(market.stakeOf(provider).jailed);
    }

    function test_gas_reportDark_10leases() public {
        _leases(10);
        vm.warp(uint256(market.stakeOf(provider).lastHeartbeat) + market.params().heartbeatThreshold + 1);
        vm.prank(stranger);
        market.reportDark(provider);
        vm.snapshotGasLastCall("PodnetMarket", "reportDark_10leases");
        assertTrue(market.stakeOf(provider).jailed);
    }

    /// @dev Claim per lease: anyone closes a lease of a dark provider; the publisher receives its refund and its
    ///      compensation. The provider has three dark leases, so the pool stays non-zero after this claim (the last
    ///      claim of an epoch is cheaper: it clears the pool).
    function test_gas_claim() public {
        uint256[] memory ids = _leases(2);
        _reportDark();
        vm.prank(stranger);
        market.closeLease(ids[0]);
        vm.snapshotGasLastCall("PodnetMarket", "claim");
        assertEq(market.getLease(ids[0]).collateral, 0);
        assertGt(market.darkRecord(provider, 0).pool, 0);
    }

    /*//////////////////////////////////////////////////////////////
                                DISPUTES
    //////////////////////////////////////////////////////////////*/

    function test_gas_openDispute() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.prank(publisher);
        court.openDispute(leaseId, EVIDENCE);
        vm.snapshotGasLastCall("DisputeCourt", "openDispute");
        assertTrue(market.getLease(leaseId).disputed);
    }

    function test_gas_answerDispute() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.prank(publisher);
        uint256 disputeId = court.openDispute(leaseId, EVIDENCE);
        vm.prank(provider);
        court.answerDispute(disputeId, ANSWER);
        vm.snapshotGasLastCall("DisputeCourt", "answerDispute");
        assertTrue(court.getDispute(disputeId).answered);
    }

    function test_gas_resolve_slash() public {
        uint256 disputeId = _answeredDispute();
        vm.prank(arbiter);
        court.slash(disputeId, uint256(PRICE) * 1 hours);
        vm.snapshotGasLastCall("DisputeCourt", "resolve_slash");
        assertEq(uint8(court.getDispute(disputeId).status), uint8(DisputeStatus.Slashed));
    }

    function test_gas_resolve_slashClosedLease() public {
        uint256 disputeId = _answeredDispute();
        uint256 leaseId = court.getDispute(disputeId).leaseId;
        vm.prank(publisher);
        market.closeLease(leaseId);
        vm.prank(arbiter);
        court.slash(disputeId, uint256(PRICE) * 1 hours);
        vm.snapshotGasLastCall("DisputeCourt", "resolve_slashClosedLease");
        assertEq(market.getLease(leaseId).collateral, 0);
    }

    function test_gas_resolve_dismiss() public {
        uint256 disputeId = _answeredDispute();
        vm.prank(arbiter);
        court.dismiss(disputeId);
        vm.snapshotGasLastCall("DisputeCourt", "resolve_dismiss");
        assertEq(uint8(court.getDispute(disputeId).status), uint8(DisputeStatus.Dismissed));
    }

    function test_gas_lapse() public {
        uint256 disputeId = _answeredDispute();
        vm.warp(uint256(court.getDispute(disputeId).ruleBy) + 1);
        vm.prank(stranger);
        court.lapse(disputeId);
        vm.snapshotGasLastCall("DisputeCourt", "lapse");
        assertEq(uint8(court.getDispute(disputeId).status), uint8(DisputeStatus.Lapsed));
    }
}
