// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {DisputeCourt} from "../src/DisputeCourt.sol";
import {IDisputeCourt} from "../src/interfaces/IDisputeCourt.sol";
import {IPodnetMarket} from "../src/interfaces/IPodnetMarket.sol";
import {CourtParams, Dispute, DisputeStatus} from "../src/types/CourtTypes.sol";
import {CloseReason, DarkRecord, Lease, LeaseStatus, Stake} from "../src/types/MarketTypes.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {ReleaseBuild} from "./utils/ReleaseBuild.sol";
import {IAccessManaged} from "@openzeppelin/contracts/access/manager/IAccessManaged.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

contract DisputeCourtTest is MarketFixture {
    uint256 internal constant STAKE = 1000 * TOKEN;
    /// @dev defaultParams: collateralSeconds = 1 day.
    uint96 internal constant COLLATERAL = PRICE * 1 days;
    /// @dev defaultParams: darkSlashBps 10_000, reporterRewardBps 1000 -> compensationBps 9000.
    uint256 internal constant REWARD = uint256(COLLATERAL) * 1000 / 10_000;
    uint256 internal constant COMPENSATION = uint256(COLLATERAL) * 9000 / 10_000;
    uint40 internal constant HEARTBEAT_THRESHOLD = 1 hours;

    uint96 internal constant BOND = uint96(10 * TOKEN);
    uint40 internal constant ANSWER_WINDOW = 2 days;
    uint40 internal constant RULING_WINDOW = 5 days;
    uint40 internal constant MAX_WINDOW = 90 days;
    uint256 internal constant MAX_EVIDENCE = 256;

    string internal constant EVIDENCE = "ipfs://bafy-publisher-evidence";
    string internal constant ANSWER = "ipfs://bafy-provider-answer";

    uint256 internal leaseId;

    struct Balances {
        uint256 court;
        uint256 market;
        uint256 publisher;
        uint256 provider;
        uint256 stranger;
    }

    function setUp() public override {
        super.setUp();
        _onboard(provider, STAKE);
        leaseId = _lease(PRICE, DEPOSIT, 0);
        _approveCourt(publisher);
        _approveCourt(otherPublisher);
    }

    /*//////////////////////////////////////////////////////////////
                                HELPERS
    //////////////////////////////////////////////////////////////*/

    function _approveCourt(address who) internal {
        vm.prank(who);
        token.approve(address(court), type(uint256).max);
    }

    function _open() internal returns (uint256 disputeId) {
        vm.prank(publisher);
        disputeId = court.openDispute(leaseId, EVIDENCE);
    }

    function _answer(uint256 disputeId) internal {
        vm.prank(provider);
        court.answerDispute(disputeId, ANSWER);
    }

    function _slash(uint256 disputeId, uint256 amount) internal {
        vm.prank(arbiter);
        court.slash(disputeId, amount);
    }

    function _dismiss(uint256 disputeId) internal {
        vm.prank(arbiter);
        court.dismiss(disputeId);
    }

    function _close(address who) internal {
        vm.prank(who);
        market.closeLease(leaseId);
    }

    /// @dev Reports `provider` dark (by `stranger`) at the first second it is reportable.
    function _reportDark() internal {
        vm.warp(uint256(market.stakeOf(provider).lastHeartbeat) + HEARTBEAT_THRESHOLD + 1);
        vm.prank(stranger);
        market.reportDark(provider);
    }

    function _evidence(uint256 length) internal pure returns (string memory) {
        bytes memory b = new bytes(length);
        for (uint256 i; i < length; ++i) {
            b[i] = "e";
        }
        return string(b);
    }

    function _balances() internal view returns (Balances memory b) {
        b.court = token.balanceOf(address(court));
        b.market = token.balanceOf(address(market));
        b.publisher = token.balanceOf(publisher);
        b.provider = token.balanceOf(provider);
        b.stranger = token.balanceOf(stranger);
    }

    function _assertStatus(uint256 disputeId, DisputeStatus expected) internal view {
        assertEq(uint8(court.getDispute(disputeId).status), uint8(expected), "dispute status");
    }

    function _assertStake(uint256 free, uint256 locked) internal view {
        Stake memory s = market.stakeOf(provider);
        assertEq(s.free, free, "free stake");
        assertEq(s.locked, locked, "locked stake");
    }

    function _assertParams(CourtParams memory actual, CourtParams memory expected) internal pure {
        assertEq(actual.disputeBond, expected.disputeBond, "disputeBond");
        assertEq(actual.answerWindow, expected.answerWindow, "answerWindow");
        assertEq(actual.rulingWindow, expected.rulingWindow, "rulingWindow");
    }

    function _expectUnauthorized(address caller) internal {
        vm.expectRevert(abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, caller));
    }

    function _expectInvalidParam(CourtParams memory p, string memory name, uint256 value) internal {
        vm.expectRevert(abi.encodeWithSelector(IDisputeCourt.CourtInvalidParameter.selector, name, value));
        vm.prank(admin);
        court.setParams(p);
    }

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    function test_constructor_setsState() public view {
        assertEq(address(court.market()), address(market));
        assertEq(court.authority(), address(manager));
        _assertParams(court.params(), defaultCourtParams());
        assertEq(court.disputeCount(), 0);
        assertEq(court.MAX_EVIDENCE_LENGTH(), MAX_EVIDENCE);
        assertEq(court.MAX_WINDOW(), MAX_WINDOW);
    }

    function test_constructor_emitsParams() public {
        CourtParams memory p = defaultCourtParams();
        bytes memory code = ReleaseBuild.creationCode("DisputeCourt");
        vm.expectEmit(false, false, false, true, vm.computeCreateAddress(address(this), vm.getNonce(address(this))));
        emit IDisputeCourt.CourtParamsUpdated(p);
        ReleaseBuild.create(code, abi.encode(market, manager, p));
    }

    function test_constructor_revertsOnZeroMarket() public {
        bytes memory code = ReleaseBuild.creationCode("DisputeCourt");
        vm.expectRevert(IDisputeCourt.CourtZeroAddress.selector);
        ReleaseBuild.create(code, abi.encode(address(0), manager, defaultCourtParams()));
    }

    function test_constructor_revertsOnInvalidParams() public {
        bytes memory code = ReleaseBuild.creationCode("DisputeCourt");
        CourtParams memory p = defaultCourtParams();
        p.answerWindow = 0;
        vm.expectRevert(abi.encodeWithSelector(IDisputeCourt.CourtInvalidParameter.selector, "answerWindow", 0));
        ReleaseBuild.create(code, abi.encode(market, manager, p));

        p = defaultCourtParams();
        p.rulingWindow = MAX_WINDOW + 1;
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeCourt.CourtInvalidParameter.selector, "rulingWindow", MAX_WINDOW + 1)
        );
        ReleaseBuild.create(code, abi.encode(market, manager, p));
    }

    /*//////////////////////////////////////////////////////////////
                              OPEN DISPUTE
    //////////////////////////////////////////////////////////////*/

    function test_openDispute_holdsCollateralTakesBondAndStores() public {
        Balances memory before = _balances();
        uint40 answerBy = uint40(block.timestamp) + ANSWER_WINDOW;
        uint40 ruleBy = answerBy + RULING_WINDOW;

        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.CollateralHeld(leaseId);
        vm.expectEmit(true, true, true, true, address(court));
        emit IDisputeCourt.DisputeOpened(1, leaseId, publisher, provider, BOND, EVIDENCE, answerBy, ruleBy);
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(publisher, address(court), BOND);
        vm.prank(publisher);
        uint256 disputeId = court.openDispute(leaseId, EVIDENCE);

        assertEq(disputeId, 1);
        assertEq(court.disputeCount(), 1);
        Dispute memory d = court.getDispute(disputeId);
        assertFalse(d.answered);
        assertEq(uint8(d.status), uint8(DisputeStatus.Open));
        assertEq(d.leaseId, leaseId);
        assertEq(d.bond, BOND);
        assertEq(d.answerBy, START_TIME + ANSWER_WINDOW);
        assertEq(d.ruleBy, START_TIME + ANSWER_WINDOW + RULING_WINDOW);

        Lease memory lease = market.getLease(leaseId);
        assertTrue(lease.disputed);
        assertEq(lease.collateral, COLLATERAL);
        assertEq(uint8(lease.status), uint8(LeaseStatus.Active));

        Balances memory afterOpen = _balances();
        assertEq(afterOpen.court, before.court + BOND);
        assertEq(afterOpen.publisher, before.publisher - BOND);
        assertEq(afterOpen.market, before.market);
        assertEq(afterOpen.provider, before.provider);
        _assertStake(STAKE - COLLATERAL, COLLATERAL);
    }

    function test_openDispute_idsIncrementAndBondsAccumulate() public {
        uint256 lease2 = _lease(PRICE, DEPOSIT, 1);
        uint256 first = _open();
        vm.prank(publisher);
        uint256 second = court.openDispute(lease2, EVIDENCE);
        assertEq(first, 1);
        assertEq(second, 2);
        assertEq(court.disputeCount(), 2);
        assertEq(court.getDispute(second).leaseId, lease2);
        assertEq(token.balanceOf(address(court)), 2 * uint256(BOND));
        assertTrue(market.getLease(lease2).disputed);
    }

    function test_openDispute_acceptsEvidenceBounds() public {
        uint256 lease2 = _lease(PRICE, DEPOSIT, 1);
        vm.prank(publisher);
        court.openDispute(leaseId, _evidence(1));
        vm.prank(publisher);
        court.openDispute(lease2, _evidence(MAX_EVIDENCE));
        assertEq(court.disputeCount(), 2);
    }

    function test_openDispute_revertsOnEmptyEvidence() public {
        vm.expectRevert(abi.encodeWithSelector(IDisputeCourt.CourtInvalidEvidence.selector, 0, MAX_EVIDENCE));
        vm.prank(publisher);
        court.openDispute(leaseId, "");
    }

    function test_openDispute_revertsOnTooLongEvidence() public {
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeCourt.CourtInvalidEvidence.selector, MAX_EVIDENCE + 1, MAX_EVIDENCE)
        );
        vm.prank(publisher);
        court.openDispute(leaseId, _evidence(MAX_EVIDENCE + 1));
    }

    function test_openDispute_revertsForNonPublisher() public {
        vm.expectRevert(abi.encodeWithSelector(IDisputeCourt.CourtNotLeasePublisher.selector, leaseId, stranger));
        vm.prank(stranger);
        court.openDispute(leaseId, EVIDENCE);

        vm.expectRevert(abi.encodeWithSelector(IDisputeCourt.CourtNotLeasePublisher.selector, leaseId, provider));
        vm.prank(provider);
        court.openDispute(leaseId, EVIDENCE);

        // The hold rolled back with the revert.
        assertFalse(market.getLease(leaseId).disputed);
        assertEq(court.disputeCount(), 0);
    }

    function test_openDispute_revertsOnUnknownLease() public {
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketLeaseNotFound.selector, 99));
        vm.prank(publisher);
        court.openDispute(99, EVIDENCE);
    }

    function test_openDispute_revertsOnClosedLeaseAfterDisputeWindow() public {
        _close(publisher);
        uint256 releasableAt = block.timestamp + DISPUTE_WINDOW;
        vm.warp(releasableAt);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketDisputeWindowClosed.selector, leaseId, releasableAt));
        vm.prank(publisher);
        court.openDispute(leaseId, EVIDENCE);
    }

    function test_openDispute_revertsWhileDisputed() public {
        _open();
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketLeaseDisputed.selector, leaseId));
        vm.prank(publisher);
        court.openDispute(leaseId, EVIDENCE);
        assertEq(court.disputeCount(), 1);
        assertEq(token.balanceOf(address(court)), BOND);
    }

    function test_openDispute_revertsOnDarkProvider() public {
        _reportDark();
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderWentDark.selector, provider, 0));
        vm.prank(publisher);
        court.openDispute(leaseId, EVIDENCE);
    }

    function test_openDispute_revertsWithoutAllowance() public {
        vm.prank(publisher);
        token.approve(address(court), 0);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(court), 0, BOND)
        );
        vm.prank(publisher);
        court.openDispute(leaseId, EVIDENCE);
    }

    function test_openDispute_allowedOnLeaseOutOfFunds() public {
        // The deposit pays one day; the lease is exhausted but not closed.
        vm.warp(START_TIME + 2 days);
        uint256 disputeId = _open();
        assertEq(court.getDispute(disputeId).leaseId, leaseId);
        assertTrue(market.getLease(leaseId).disputed);
    }

    function test_openDispute_againAfterRuling() public {
        uint256 first = _open();
        _answer(first);
        _dismiss(first);
        assertFalse(market.getLease(leaseId).disputed);

        uint256 second = _open();
        assertEq(second, 2);
        assertTrue(market.getLease(leaseId).disputed);
        _assertStatus(first, DisputeStatus.Dismissed);
        _assertStatus(second, DisputeStatus.Open);
    }

    function test_openDispute_zeroBondTakesNothing() public {
        CourtParams memory p = defaultCourtParams();
        p.disputeBond = 0;
        vm.prank(admin);
        court.setParams(p);
        vm.prank(publisher);
        token.approve(address(court), 0);

        uint256 publisherBefore = token.balanceOf(publisher);
        uint256 disputeId = _open();
        assertEq(court.getDispute(disputeId).bond, 0);
        assertEq(token.balanceOf(publisher), publisherBefore);
        assertEq(token.balanceOf(address(court)), 0);

        // Dismissing moves no bond either.
        uint256 providerBefore = token.balanceOf(provider);
        _answer(disputeId);
        _dismiss(disputeId);
        assertEq(token.balanceOf(provider), providerBefore);
        _assertStatus(disputeId, DisputeStatus.Dismissed);
    }

    /*//////////////////////////////////////////////////////////////
                             ANSWER DISPUTE
    //////////////////////////////////////////////////////////////*/

    function test_answerDispute_recordsAndEmits() public {
        uint256 disputeId = _open();
        skip(1 hours);
        vm.expectEmit(true, true, true, true, address(court));
        emit IDisputeCourt.DisputeAnswered(disputeId, provider, ANSWER);
        _answer(disputeId);
        Dispute memory d = court.getDispute(disputeId);
        assertTrue(d.answered);
        assertEq(uint8(d.status), uint8(DisputeStatus.Open));
    }

    function test_answerDispute_atAnswerBy() public {
        uint256 disputeId = _open();
        uint40 answerBy = court.getDispute(disputeId).answerBy;
        vm.warp(answerBy);
        _answer(disputeId);
        assertTrue(court.getDispute(disputeId).answered);
    }

    function test_answerDispute_revertsAfterAnswerBy() public {
        uint256 disputeId = _open();
        uint40 answerBy = court.getDispute(disputeId).answerBy;
        vm.warp(uint256(answerBy) + 1);
        vm.expectRevert(abi.encodeWithSelector(IDisputeCourt.CourtAnswerWindowClosed.selector, disputeId, answerBy));
        _answer(disputeId);
    }

    function test_answerDispute_revertsForNonProvider() public {
        uint256 disputeId = _open();
        vm.expectRevert(abi.encodeWithSelector(IDisputeCourt.CourtNotLeaseProvider.selector, disputeId, publisher));
        vm.prank(publisher);
        court.answerDispute(disputeId, ANSWER);

        vm.expectRevert(abi.encodeWithSelector(IDisputeCourt.CourtNotLeaseProvider.selector, disputeId, provider2));
        vm.prank(provider2);
        court.answerDispute(disputeId, ANSWER);
    }

    function test_answerDispute_revertsWhenAlreadyAnswered() public {
        uint256 disputeId = _open();
        _answer(disputeId);
        vm.expectRevert(abi.encodeWithSelector(IDisputeCourt.CourtAlreadyAnswered.selector, disputeId));
        _answer(disputeId);
    }

    function test_answerDispute_revertsOnUnknownDispute() public {
        vm.expectRevert(abi.encodeWithSelector(IDisputeCourt.CourtDisputeNotFound.selector, 1));
        _answer(1);
    }

    function test_answerDispute_revertsWhenRuled() public {
        uint256 disputeId = _open();
        _answer(disputeId);
        _slash(disputeId, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeCourt.CourtDisputeNotOpen.selector, disputeId, DisputeStatus.Slashed)
        );
        _answer(disputeId);
    }

    function test_answerDispute_revertsOnInvalidEvidence() public {
        uint256 disputeId = _open();
        vm.expectRevert(abi.encodeWithSelector(IDisputeCourt.CourtInvalidEvidence.selector, 0, MAX_EVIDENCE));
        vm.prank(provider);
        court.answerDispute(disputeId, "");

        vm.expectRevert(
            abi.encodeWithSelector(IDisputeCourt.CourtInvalidEvidence.selector, MAX_EVIDENCE + 1, MAX_EVIDENCE)
        );
        vm.prank(provider);
        court.answerDispute(disputeId, _evidence(MAX_EVIDENCE + 1));

        vm.prank(provider);
        court.answerDispute(disputeId, _evidence(MAX_EVIDENCE));
        assertTrue(court.getDispute(disputeId).answered);
    }

    function test_answerDispute_afterLeaseClosed() public {
        uint256 disputeId = _open();
        skip(10 minutes);
        _close(publisher);
        _answer(disputeId);
        assertTrue(court.getDispute(disputeId).answered);
    }

    /*//////////////////////////////////////////////////////////////
                                 SLASH
    //////////////////////////////////////////////////////////////*/

    function test_slash_revertsForNonArbiter() public {
        uint256 disputeId = _open();
        _answer(disputeId);
        address[4] memory callers = [stranger, publisher, provider, admin];
        for (uint256 i; i < callers.length; ++i) {
            _expectUnauthorized(callers[i]);
            vm.prank(callers[i]);
            court.slash(disputeId, 1);
        }
        _assertStatus(disputeId, DisputeStatus.Open);
    }

    function test_slash_revertsOnZeroAmount() public {
        uint256 disputeId = _open();
        _answer(disputeId);
        vm.expectRevert(IDisputeCourt.CourtZeroSlash.selector);
        _slash(disputeId, 0);
    }

    function test_slash_revertsOnUnknownDispute() public {
        vm.expectRevert(abi.encodeWithSelector(IDisputeCourt.CourtDisputeNotFound.selector, 7));
        _slash(7, 1);
    }

    function test_slash_revertsBeforeAnswerOrWindow() public {
        uint256 disputeId = _open();
        uint40 answerBy = court.getDispute(disputeId).answerBy;
        bytes memory tooEarly =
            abi.encodeWithSelector(IDisputeCourt.CourtRulingTooEarly.selector, disputeId, uint256(answerBy) + 1);

        vm.expectRevert(tooEarly);
        _slash(disputeId, 1);

        vm.warp(answerBy);
        vm.expectRevert(tooEarly);
        _slash(disputeId, 1);
    }

    function test_slash_fromAnswerByPlusOneWithoutAnswer() public {
        uint256 disputeId = _open();
        vm.warp(uint256(court.getDispute(disputeId).answerBy) + 1);
        _slash(disputeId, 1);
        _assertStatus(disputeId, DisputeStatus.Slashed);
    }

    function test_slash_rightAfterAnswer() public {
        uint256 disputeId = _open();
        _answer(disputeId);
        _slash(disputeId, 1);
        _assertStatus(disputeId, DisputeStatus.Slashed);
    }

    function test_slash_atAnswerByOnceAnswered() public {
        uint256 disputeId = _open();
        vm.warp(court.getDispute(disputeId).answerBy);
        _answer(disputeId);
        _slash(disputeId, 1);
        _assertStatus(disputeId, DisputeStatus.Slashed);
    }

    function test_slash_atRuleBy() public {
        uint256 disputeId = _open();
        vm.warp(court.getDispute(disputeId).ruleBy);
        _slash(disputeId, 1);
        _assertStatus(disputeId, DisputeStatus.Slashed);
    }

    function test_slash_revertsAfterRuleBy() public {
        uint256 disputeId = _open();
        _answer(disputeId);
        uint40 ruleBy = court.getDispute(disputeId).ruleBy;
        vm.warp(uint256(ruleBy) + 1);
        vm.expectRevert(abi.encodeWithSelector(IDisputeCourt.CourtRulingWindowClosed.selector, disputeId, ruleBy));
        _slash(disputeId, 1);
    }

    function test_slash_activeLeasePaysPublisherAndReturnsBond() public {
        uint256 disputeId = _open();
        _answer(disputeId);
        uint256 amount = COLLATERAL / 4;
        Balances memory before = _balances();

        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.DisputeSettled(leaseId, amount, 0);
        vm.expectEmit(true, true, true, true, address(court));
        emit IDisputeCourt.DisputeSlashed(disputeId, arbiter, amount, amount);
        _slash(disputeId, amount);

        Balances memory afterSlash = _balances();
        assertEq(afterSlash.publisher, before.publisher + amount + BOND, "publisher");
        assertEq(afterSlash.market, before.market - amount, "market");
        assertEq(afterSlash.court, before.court - BOND, "court");
        assertEq(afterSlash.court, 0, "court empty");
        assertEq(afterSlash.provider, before.provider, "provider");
        _assertStatus(disputeId, DisputeStatus.Slashed);

        // The slash came out of the lease's locked collateral; the lease keeps running with the rest.
        Lease memory lease = market.getLease(leaseId);
        assertFalse(lease.disputed);
        assertEq(lease.collateral, COLLATERAL - amount);
        assertEq(uint8(lease.status), uint8(LeaseStatus.Active));
        _assertStake(STAKE - COLLATERAL, COLLATERAL - amount);

        // Closing the lease holds the remaining collateral for the dispute window, then it is released.
        skip(1 hours);
        uint256 earned = uint256(PRICE) * 1 hours;
        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.LeaseClosed(
            leaseId,
            publisher,
            CloseReason.Publisher,
            START_TIME + 1 hours,
            earned,
            DEPOSIT - earned,
            COLLATERAL - amount,
            START_TIME + 1 hours + DISPUTE_WINDOW
        );
        _close(publisher);
        _assertStake(STAKE - COLLATERAL, COLLATERAL - amount);
        _releaseAfterWindow(leaseId);
        _assertStake(STAKE - amount, 0);
    }

    function test_slash_cappedAtCollateral() public {
        uint256 disputeId = _open();
        _answer(disputeId);
        uint256 requested = uint256(COLLATERAL) * 10;
        Balances memory before = _balances();

        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.DisputeSettled(leaseId, COLLATERAL, 0);
        vm.expectEmit(true, true, true, true, address(court));
        emit IDisputeCourt.DisputeSlashed(disputeId, arbiter, requested, COLLATERAL);
        _slash(disputeId, requested);

        Balances memory afterSlash = _balances();
        assertEq(afterSlash.publisher, before.publisher + COLLATERAL + BOND);
        assertEq(afterSlash.market, before.market - COLLATERAL);
        assertEq(afterSlash.court, 0);
        assertEq(market.getLease(leaseId).collateral, 0);
        _assertStake(STAKE - COLLATERAL, 0);

        // Nothing is left to release when the lease closes.
        _close(publisher);
        _assertStake(STAKE - COLLATERAL, 0);
    }

    function test_slash_maxAmountCappedAtCollateral() public {
        uint256 disputeId = _open();
        _answer(disputeId);
        uint256 marketBefore = token.balanceOf(address(market));
        _slash(disputeId, type(uint256).max);
        assertEq(token.balanceOf(address(market)), marketBefore - COLLATERAL);
        _assertStake(STAKE - COLLATERAL, 0);
    }

    function test_slash_fullySlashedLeaseSlashesNothingNextTime() public {
        uint256 first = _open();
        _answer(first);
        _slash(first, COLLATERAL);

        uint256 second = _open();
        _answer(second);
        Balances memory before = _balances();
        vm.expectEmit(true, true, true, true, address(court));
        emit IDisputeCourt.DisputeSlashed(second, arbiter, 1, 0);
        _slash(second, 1);
        Balances memory afterSlash = _balances();
        assertEq(afterSlash.publisher, before.publisher + BOND);
        assertEq(afterSlash.market, before.market);
    }

    function test_slash_closedLeaseReleasesRemainder() public {
        uint256 disputeId = _open();
        skip(1 hours);
        uint256 earned = uint256(PRICE) * 1 hours;

        // Closing under dispute releases no collateral.
        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.LeaseClosed(
            leaseId,
            publisher,
            CloseReason.Publisher,
            START_TIME + 1 hours,
            earned,
            DEPOSIT - earned,
            COLLATERAL,
            START_TIME + 1 hours + DISPUTE_WINDOW
        );
        _close(publisher);
        Lease memory lease = market.getLease(leaseId);
        assertTrue(lease.disputed);
        assertEq(lease.collateral, COLLATERAL);
        assertEq(uint8(lease.status), uint8(LeaseStatus.Closed));
        _assertStake(STAKE - COLLATERAL, COLLATERAL);

        _answer(disputeId);
        uint256 amount = COLLATERAL / 3;
        Balances memory before = _balances();
        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.DisputeSettled(leaseId, amount, COLLATERAL - amount);
        vm.expectEmit(true, true, true, true, address(court));
        emit IDisputeCourt.DisputeSlashed(disputeId, arbiter, amount, amount);
        _slash(disputeId, amount);

        Balances memory afterSlash = _balances();
        assertEq(afterSlash.publisher, before.publisher + amount + BOND);
        assertEq(afterSlash.market, before.market - amount);
        assertEq(afterSlash.court, 0);
        assertEq(afterSlash.provider, before.provider);
        lease = market.getLease(leaseId);
        assertFalse(lease.disputed);
        assertEq(lease.collateral, 0);
        _assertStake(STAKE - amount, 0);
    }

    function test_slash_revertsWhenNotOpen() public {
        uint256 disputeId = _open();
        _answer(disputeId);
        _slash(disputeId, 1);
        bytes memory notOpen =
            abi.encodeWithSelector(IDisputeCourt.CourtDisputeNotOpen.selector, disputeId, DisputeStatus.Slashed);
        vm.expectRevert(notOpen);
        _slash(disputeId, 1);
        vm.expectRevert(notOpen);
        _dismiss(disputeId);
        vm.warp(uint256(court.getDispute(disputeId).ruleBy) + 1);
        vm.expectRevert(notOpen);
        court.lapse(disputeId);
    }

    function testFuzz_slash_cappedAtCollateral(uint256 amount, bool closeFirst) public {
        amount = bound(amount, 1, type(uint256).max);
        uint256 disputeId = _open();
        if (closeFirst) _close(publisher);
        _answer(disputeId);
        uint256 expected = amount < COLLATERAL ? amount : COLLATERAL;
        Balances memory before = _balances();

        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.DisputeSettled(leaseId, expected, closeFirst ? COLLATERAL - expected : 0);
        vm.expectEmit(true, true, true, true, address(court));
        emit IDisputeCourt.DisputeSlashed(disputeId, arbiter, amount, expected);
        _slash(disputeId, amount);

        Balances memory afterSlash = _balances();
        assertEq(afterSlash.publisher, before.publisher + expected + BOND);
        assertEq(afterSlash.market, before.market - expected);
        assertEq(afterSlash.court, before.court - BOND);
        assertEq(afterSlash.provider, before.provider);
        if (closeFirst) {
            _assertStake(STAKE - expected, 0);
            assertEq(market.getLease(leaseId).collateral, 0);
        } else {
            _assertStake(STAKE - COLLATERAL, COLLATERAL - expected);
            assertEq(market.getLease(leaseId).collateral, COLLATERAL - expected);
        }
        Stake memory s = market.stakeOf(provider);
        assertEq(uint256(s.free) + s.locked, STAKE - expected, "bonded stake lost exactly the slash");
    }

    function testFuzz_slash_onlyWithinRulingWindow(uint256 elapsed, bool answered) public {
        uint256 disputeId = _open();
        if (answered) _answer(disputeId);
        Dispute memory d = court.getDispute(disputeId);
        elapsed = bound(elapsed, 0, uint256(ANSWER_WINDOW) + RULING_WINDOW + 1 days);
        vm.warp(START_TIME + elapsed);

        if (!answered && block.timestamp <= d.answerBy) {
            vm.expectRevert(
                abi.encodeWithSelector(IDisputeCourt.CourtRulingTooEarly.selector, disputeId, uint256(d.answerBy) + 1)
            );
        } else if (block.timestamp > d.ruleBy) {
            vm.expectRevert(abi.encodeWithSelector(IDisputeCourt.CourtRulingWindowClosed.selector, disputeId, d.ruleBy));
        }
        _slash(disputeId, 1);

        bool ruled = (answered || block.timestamp > d.answerBy) && block.timestamp <= d.ruleBy;
        _assertStatus(disputeId, ruled ? DisputeStatus.Slashed : DisputeStatus.Open);
    }

    /*//////////////////////////////////////////////////////////////
                                DISMISS
    //////////////////////////////////////////////////////////////*/

    function test_dismiss_revertsForNonArbiter() public {
        uint256 disputeId = _open();
        _answer(disputeId);
        address[4] memory callers = [stranger, publisher, provider, admin];
        for (uint256 i; i < callers.length; ++i) {
            _expectUnauthorized(callers[i]);
            vm.prank(callers[i]);
            court.dismiss(disputeId);
        }
        _assertStatus(disputeId, DisputeStatus.Open);
    }

    function test_dismiss_revertsOnUnknownDispute() public {
        vm.expectRevert(abi.encodeWithSelector(IDisputeCourt.CourtDisputeNotFound.selector, 3));
        _dismiss(3);
    }

    function test_dismiss_activeLeaseBondToProvider() public {
        uint256 disputeId = _open();
        _answer(disputeId);
        Balances memory before = _balances();

        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.DisputeSettled(leaseId, 0, 0);
        vm.expectEmit(true, true, true, true, address(court));
        emit IDisputeCourt.DisputeDismissed(disputeId, arbiter);
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(address(court), provider, BOND);
        _dismiss(disputeId);

        Balances memory afterDismiss = _balances();
        assertEq(afterDismiss.provider, before.provider + BOND);
        assertEq(afterDismiss.court, 0);
        assertEq(afterDismiss.publisher, before.publisher);
        assertEq(afterDismiss.market, before.market);
        _assertStatus(disputeId, DisputeStatus.Dismissed);

        // The lease runs on with its collateral still locked; closing it releases the collateral as usual, after
        // the dispute window.
        Lease memory lease = market.getLease(leaseId);
        assertFalse(lease.disputed);
        assertEq(lease.collateral, COLLATERAL);
        _assertStake(STAKE - COLLATERAL, COLLATERAL);
        _close(publisher);
        _releaseAfterWindow(leaseId);
        _assertStake(STAKE, 0);
    }

    function test_dismiss_closedLeaseReleasesCollateral() public {
        uint256 disputeId = _open();
        skip(30 minutes);
        _close(provider);
        _assertStake(STAKE - COLLATERAL, COLLATERAL);
        vm.warp(uint256(court.getDispute(disputeId).answerBy) + 1);
        Balances memory before = _balances();

        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.DisputeSettled(leaseId, 0, COLLATERAL);
        vm.expectEmit(true, true, true, true, address(court));
        emit IDisputeCourt.DisputeDismissed(disputeId, arbiter);
        _dismiss(disputeId);

        Balances memory afterDismiss = _balances();
        assertEq(afterDismiss.provider, before.provider + BOND);
        assertEq(afterDismiss.publisher, before.publisher);
        assertEq(afterDismiss.market, before.market);
        assertEq(afterDismiss.court, 0);
        assertEq(market.getLease(leaseId).collateral, 0);
        _assertStake(STAKE, 0);
    }

    function test_dismiss_timeEdges() public {
        uint256 disputeId = _open();
        Dispute memory d = court.getDispute(disputeId);

        vm.warp(d.answerBy);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeCourt.CourtRulingTooEarly.selector, disputeId, uint256(d.answerBy) + 1)
        );
        _dismiss(disputeId);

        vm.warp(uint256(d.ruleBy) + 1);
        vm.expectRevert(abi.encodeWithSelector(IDisputeCourt.CourtRulingWindowClosed.selector, disputeId, d.ruleBy));
        _dismiss(disputeId);

        vm.warp(d.ruleBy);
        _dismiss(disputeId);
        _assertStatus(disputeId, DisputeStatus.Dismissed);
    }

    function test_dismiss_revertsWhenNotOpen() public {
        uint256 disputeId = _open();
        _answer(disputeId);
        _dismiss(disputeId);
        bytes memory notOpen =
            abi.encodeWithSelector(IDisputeCourt.CourtDisputeNotOpen.selector, disputeId, DisputeStatus.Dismissed);
        vm.expectRevert(notOpen);
        _dismiss(disputeId);
        vm.expectRevert(notOpen);
        _slash(disputeId, 1);
        vm.expectRevert(notOpen);
        _answer(disputeId);
    }

    /*//////////////////////////////////////////////////////////////
                                 LAPSE
    //////////////////////////////////////////////////////////////*/

    function test_lapse_revertsUntilRuleBy() public {
        uint256 disputeId = _open();
        uint40 ruleBy = court.getDispute(disputeId).ruleBy;
        bytes memory notLapsed = abi.encodeWithSelector(IDisputeCourt.CourtNotLapsed.selector, disputeId, ruleBy);

        vm.expectRevert(notLapsed);
        court.lapse(disputeId);

        vm.warp(ruleBy);
        vm.expectRevert(notLapsed);
        vm.prank(stranger);
        court.lapse(disputeId);
    }

    function test_lapse_revertsOnUnknownDispute() public {
        vm.expectRevert(abi.encodeWithSelector(IDisputeCourt.CourtDisputeNotFound.selector, 1));
        court.lapse(1);
    }

    function test_lapse_activeLeaseReturnsBond() public {
        uint256 disputeId = _open();
        _answer(disputeId);
        vm.warp(uint256(court.getDispute(disputeId).ruleBy) + 1);
        Balances memory before = _balances();

        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.DisputeSettled(leaseId, 0, 0);
        vm.expectEmit(true, true, true, true, address(court));
        emit IDisputeCourt.DisputeLapsed(disputeId);
        vm.prank(stranger);
        court.lapse(disputeId);

        Balances memory afterLapse = _balances();
        assertEq(afterLapse.publisher, before.publisher + BOND);
        assertEq(afterLapse.court, 0);
        assertEq(afterLapse.provider, before.provider);
        assertEq(afterLapse.stranger, before.stranger);
        assertEq(afterLapse.market, before.market);
        _assertStatus(disputeId, DisputeStatus.Lapsed);
        assertFalse(market.getLease(leaseId).disputed);
        assertEq(market.getLease(leaseId).collateral, COLLATERAL);
        _assertStake(STAKE - COLLATERAL, COLLATERAL);
    }

    function test_lapse_closedLeaseReleasesCollateral() public {
        uint256 disputeId = _open();
        skip(1 days);
        _close(publisher);
        _assertStake(STAKE - COLLATERAL, COLLATERAL);
        vm.warp(uint256(court.getDispute(disputeId).ruleBy) + 1);
        Balances memory before = _balances();

        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.DisputeSettled(leaseId, 0, COLLATERAL);
        vm.expectEmit(true, true, true, true, address(court));
        emit IDisputeCourt.DisputeLapsed(disputeId);
        vm.prank(stranger);
        court.lapse(disputeId);

        Balances memory afterLapse = _balances();
        assertEq(afterLapse.publisher, before.publisher + BOND);
        assertEq(afterLapse.market, before.market);
        assertEq(afterLapse.court, 0);
        _assertStake(STAKE, 0);
        assertEq(market.getLease(leaseId).collateral, 0);
    }

    function test_lapse_revertsWhenNotOpen() public {
        uint256 disputeId = _open();
        vm.warp(uint256(court.getDispute(disputeId).ruleBy) + 1);
        court.lapse(disputeId);
        bytes memory notOpen =
            abi.encodeWithSelector(IDisputeCourt.CourtDisputeNotOpen.selector, disputeId, DisputeStatus.Lapsed);
        vm.expectRevert(notOpen);
        court.lapse(disputeId);
        vm.expectRevert(notOpen);
        _slash(disputeId, 1);
    }

    /*//////////////////////////////////////////////////////////////
                      DISPUTES AFTER THE LEASE ENDED
    //////////////////////////////////////////////////////////////*/

    /// @dev Issue 13, finding 1: closing a lease handed its collateral back at once and only running leases could be
    ///      disputed, so a provider that heartbeated but never served closed (or front-ran the dispute with a close)
    ///      and walked away paid. The collateral now stays locked for the dispute window after the lease ended, and
    ///      the publisher disputes the closed lease; the ruling pays it exactly.
    function test_openDispute_afterProviderClosedEarlyIsRuledAndPaysPublisher() public {
        skip(1 hours);
        _close(provider); // front-runs the publisher's dispute
        uint256 endedAt = block.timestamp;
        _assertStake(STAKE - COLLATERAL, COLLATERAL);

        skip(1 days);
        Balances memory before = _balances();
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.CollateralHeld(leaseId);
        vm.prank(publisher);
        uint256 disputeId = court.openDispute(leaseId, EVIDENCE);
        assertEq(token.balanceOf(address(court)), before.court + BOND);

        skip(ANSWER_WINDOW + 1); // the provider does not answer
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.DisputeSettled(leaseId, COLLATERAL / 2, COLLATERAL - COLLATERAL / 2);
        _slash(disputeId, COLLATERAL / 2);

        assertEq(token.balanceOf(publisher), before.publisher - BOND + COLLATERAL / 2 + BOND, "publisher: slash + bond");
        assertEq(token.balanceOf(address(court)), before.court, "court");
        assertEq(token.balanceOf(address(market)), before.market - COLLATERAL / 2, "market");
        _assertStake(STAKE - COLLATERAL / 2, 0);
        Lease memory lease = market.getLease(leaseId);
        assertEq(lease.collateral, 0);
        assertEq(lease.endedAt, endedAt);
        assertFalse(lease.disputed);
    }

    function test_closeLease_holdsCollateralForDisputeWindow() public {
        skip(1 hours);
        uint256 earned = uint256(PRICE) * 1 hours;
        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.LeaseClosed(
            leaseId,
            provider,
            CloseReason.Provider,
            block.timestamp,
            earned,
            DEPOSIT - earned,
            COLLATERAL,
            block.timestamp + DISPUTE_WINDOW
        );
        _close(provider);
        _assertStake(STAKE - COLLATERAL, COLLATERAL);
        assertEq(market.getLease(leaseId).collateral, COLLATERAL);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPodnetMarket.MarketInsufficientFreeStake.selector, provider, STAKE - COLLATERAL, STAKE
            )
        );
        vm.prank(provider);
        market.unstake(STAKE);
    }

    function test_releaseCollateral_revertsDuringDisputeWindow() public {
        _close(publisher);
        uint256 releasableAt = block.timestamp + DISPUTE_WINDOW;
        vm.warp(releasableAt - 1);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketDisputeWindowOpen.selector, leaseId, releasableAt));
        vm.prank(stranger);
        market.releaseCollateral(leaseId);
        vm.prank(publisher);
        court.openDispute(leaseId, EVIDENCE); // the last second of the window
    }

    function test_releaseCollateral_afterDisputeWindowByAnyone() public {
        _close(publisher);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.CollateralReleased(leaseId, provider, COLLATERAL);
        vm.prank(stranger);
        market.releaseCollateral(leaseId);
        _assertStake(STAKE, 0);
        assertEq(market.getLease(leaseId).collateral, 0);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketCollateralNotHeld.selector, leaseId));
        market.releaseCollateral(leaseId);
    }

    function test_releaseCollateral_revertsOnRunningOrUnknownLease() public {
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketCollateralNotHeld.selector, leaseId));
        market.releaseCollateral(leaseId);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketCollateralNotHeld.selector, 99));
        market.releaseCollateral(99);
    }

    function test_releaseCollateral_revertsWhileDisputed() public {
        _close(publisher);
        _open();
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketLeaseDisputed.selector, leaseId));
        market.releaseCollateral(leaseId);
    }

    function test_closeLease_releasesAtOnceWhenWindowAlreadyOver() public {
        // The lease ran out long ago: it was disputable all along while it stood open.
        vm.warp(START_TIME + 1 days + DISPUTE_WINDOW);
        _heartbeat(provider);
        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.CollateralReleased(leaseId, provider, COLLATERAL);
        _close(stranger);
        _assertStake(STAKE, 0);
        assertEq(market.getLease(leaseId).endedAt, START_TIME + 1 days);
    }

    function test_closeLease_outOfFundsWindowCountsFromEndedAt() public {
        vm.warp(START_TIME + 1 days + 1 hours);
        _heartbeat(provider);
        _close(stranger);
        uint256 releasableAt = START_TIME + 1 days + DISPUTE_WINDOW;
        vm.warp(releasableAt - 1);
        vm.prank(publisher);
        uint256 disputeId = court.openDispute(leaseId, EVIDENCE);
        assertEq(court.getDispute(disputeId).leaseId, leaseId);
    }

    function test_openDispute_onClosedLeaseOnlyOnce() public {
        _close(provider);
        uint256 disputeId = _open();
        _answer(disputeId);
        _dismiss(disputeId); // the rest of the collateral is released with the ruling
        _assertStake(STAKE, 0);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketCollateralNotHeld.selector, leaseId));
        vm.prank(publisher);
        court.openDispute(leaseId, EVIDENCE);
    }

    function test_releaseCollateral_darkProviderCompensatesPublisherAtOnce() public {
        _close(publisher);
        _reportDark(); // the held collateral is slashed with the rest of the locked stake
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderWentDark.selector, provider, 0));
        vm.prank(publisher);
        court.openDispute(leaseId, EVIDENCE);

        uint256 before = token.balanceOf(publisher);
        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.CollateralReleased(leaseId, provider, 0);
        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.CompensationPaid(leaseId, publisher, COMPENSATION);
        vm.prank(stranger);
        market.releaseCollateral(leaseId);
        assertEq(token.balanceOf(publisher) - before, COMPENSATION);
        assertEq(market.getLease(leaseId).collateral, 0);
        assertEq(market.darkRecord(provider, 0).pool, 0);
    }

    function test_fuzz_releaseCollateral_onlyAfterWindow(uint256 wait) public {
        wait = bound(wait, 0, 2 * uint256(DISPUTE_WINDOW));
        _close(provider);
        uint256 releasableAt = block.timestamp + DISPUTE_WINDOW;
        vm.warp(block.timestamp + wait);
        if (block.timestamp < releasableAt) {
            vm.expectRevert(
                abi.encodeWithSelector(IPodnetMarket.MarketDisputeWindowOpen.selector, leaseId, releasableAt)
            );
        }
        market.releaseCollateral(leaseId);
    }

    /*//////////////////////////////////////////////////////////////
                         CLOSING A DISPUTED LEASE
    //////////////////////////////////////////////////////////////*/

    function test_closeLease_underDisputeKeepsCollateral() public {
        _open();
        skip(2 hours);
        uint256 earned = uint256(PRICE) * 2 hours;
        Balances memory before = _balances();
        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.LeaseClosed(
            leaseId,
            provider,
            CloseReason.Provider,
            START_TIME + 2 hours,
            earned,
            DEPOSIT - earned,
            COLLATERAL,
            START_TIME + 2 hours + DISPUTE_WINDOW
        );
        _close(provider);
        assertEq(token.balanceOf(publisher), before.publisher + DEPOSIT - earned);
        Lease memory lease = market.getLease(leaseId);
        assertTrue(lease.disputed);
        assertEq(lease.collateral, COLLATERAL);
        _assertStake(STAKE - COLLATERAL, COLLATERAL);

        // The held collateral cannot be unstaked.
        vm.expectRevert(
            abi.encodeWithSelector(
                IPodnetMarket.MarketInsufficientFreeStake.selector, provider, STAKE - COLLATERAL, STAKE
            )
        );
        vm.prank(provider);
        market.unstake(STAKE);
    }

    /*//////////////////////////////////////////////////////////////
                             DARK PROVIDER
    //////////////////////////////////////////////////////////////*/

    function test_dark_activeDisputedLeaseCompensatedOnCloseRulingSlashesNothing() public {
        uint256 disputeId = _open();
        _reportDark();
        assertEq(token.balanceOf(stranger), 1_000_000 * TOKEN + REWARD, "reporter reward");
        _assertStake(STAKE - COLLATERAL, 0);

        // Anyone closes the dark lease: it ended at the last heartbeat, the publisher gets all its deposit back and
        // its compensation share.
        Balances memory before = _balances();
        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.LeaseClosed(leaseId, stranger, CloseReason.ProviderDark, START_TIME, 0, DEPOSIT, 0, 0);
        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.CompensationPaid(leaseId, publisher, COMPENSATION);
        _close(stranger);
        assertEq(token.balanceOf(publisher), before.publisher + DEPOSIT + COMPENSATION);
        assertEq(market.darkRecord(provider, 0).pool, 0);

        // The ruling slashes nothing more; the bond returns.
        vm.warp(uint256(court.getDispute(disputeId).answerBy) + 1);
        before = _balances();
        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.DisputeSettled(leaseId, 0, 0);
        vm.expectEmit(true, true, true, true, address(court));
        emit IDisputeCourt.DisputeSlashed(disputeId, arbiter, COLLATERAL, 0);
        _slash(disputeId, COLLATERAL);
        Balances memory afterSlash = _balances();
        assertEq(afterSlash.publisher, before.publisher + BOND);
        assertEq(afterSlash.market, before.market);
        assertEq(afterSlash.court, 0);
        _assertStake(STAKE - COLLATERAL, 0);
        assertFalse(market.getLease(leaseId).disputed);
    }

    function test_dark_rulingBeforeCloseSlashesNothingCloseCompensates() public {
        uint256 disputeId = _open();
        _answer(disputeId);
        _reportDark();

        Balances memory before = _balances();
        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.DisputeSettled(leaseId, 0, 0);
        vm.expectEmit(true, true, true, true, address(court));
        emit IDisputeCourt.DisputeSlashed(disputeId, arbiter, COLLATERAL, 0);
        _slash(disputeId, COLLATERAL);
        Balances memory afterSlash = _balances();
        assertEq(afterSlash.publisher, before.publisher + BOND);
        assertEq(afterSlash.market, before.market);
        // The lease keeps its (slashed) collateral figure for the dark close.
        assertEq(market.getLease(leaseId).collateral, COLLATERAL);

        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.CompensationPaid(leaseId, publisher, COMPENSATION);
        _close(stranger);
        assertEq(token.balanceOf(publisher), afterSlash.publisher + DEPOSIT + COMPENSATION);
        assertEq(market.darkRecord(provider, 0).pool, 0);
    }

    function test_dark_dismissActiveLeaseBondToProvider() public {
        uint256 disputeId = _open();
        _answer(disputeId);
        _reportDark();
        Balances memory before = _balances();
        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.DisputeSettled(leaseId, 0, 0);
        _dismiss(disputeId);
        Balances memory afterDismiss = _balances();
        assertEq(afterDismiss.provider, before.provider + BOND);
        assertEq(afterDismiss.publisher, before.publisher);
        assertEq(afterDismiss.market, before.market);
        assertEq(market.darkRecord(provider, 0).pool, COMPENSATION);
    }

    function test_dark_closedUnderDisputeSlashPaysCompensation() public {
        uint256 disputeId = _open();
        skip(10 minutes);
        _close(publisher);
        _answer(disputeId);
        _reportDark();
        // The held collateral was slashed with the rest of the locked stake.
        _assertStake(STAKE - COLLATERAL, 0);
        DarkRecord memory record = market.darkRecord(provider, 0);
        assertEq(record.pool, COLLATERAL - REWARD);
        assertEq(record.compensationBps, 9000);

        Balances memory before = _balances();
        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.DisputeSettled(leaseId, COMPENSATION, 0);
        vm.expectEmit(true, true, true, true, address(court));
        emit IDisputeCourt.DisputeSlashed(disputeId, arbiter, 1, COMPENSATION);
        _slash(disputeId, 1);

        Balances memory afterSlash = _balances();
        assertEq(afterSlash.publisher, before.publisher + COMPENSATION + BOND);
        assertEq(afterSlash.market, before.market - COMPENSATION);
        assertEq(afterSlash.court, 0);
        assertEq(market.darkRecord(provider, 0).pool, 0);
        assertEq(market.getLease(leaseId).collateral, 0);
        _assertStake(STAKE - COLLATERAL, 0);
    }

    function test_dark_closedUnderDisputeDismissPaysCompensation() public {
        uint256 disputeId = _open();
        skip(10 minutes);
        _close(publisher);
        _answer(disputeId);
        _reportDark();

        Balances memory before = _balances();
        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.DisputeSettled(leaseId, COMPENSATION, 0);
        vm.expectEmit(true, true, true, true, address(court));
        emit IDisputeCourt.DisputeDismissed(disputeId, arbiter);
        _dismiss(disputeId);

        Balances memory afterDismiss = _balances();
        assertEq(afterDismiss.publisher, before.publisher + COMPENSATION);
        assertEq(afterDismiss.provider, before.provider + BOND);
        assertEq(afterDismiss.market, before.market - COMPENSATION);
        assertEq(afterDismiss.court, 0);
        assertEq(market.darkRecord(provider, 0).pool, 0);
    }

    function test_dark_closedUnderDisputeLapsePaysCompensation() public {
        uint256 disputeId = _open();
        skip(10 minutes);
        _close(publisher);
        _reportDark();
        vm.warp(uint256(court.getDispute(disputeId).ruleBy) + 1);

        Balances memory before = _balances();
        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.DisputeSettled(leaseId, COMPENSATION, 0);
        vm.expectEmit(true, true, true, true, address(court));
        emit IDisputeCourt.DisputeLapsed(disputeId);
        court.lapse(disputeId);

        Balances memory afterLapse = _balances();
        assertEq(afterLapse.publisher, before.publisher + COMPENSATION + BOND);
        assertEq(afterLapse.market, before.market - COMPENSATION);
        assertEq(afterLapse.court, 0);
        assertEq(market.darkRecord(provider, 0).pool, 0);
        _assertStake(STAKE - COLLATERAL, 0);
    }

    function test_dark_closedUnderDisputeAfterRestakeStillPaysOldEpoch() public {
        uint256 disputeId = _open();
        skip(10 minutes);
        _close(publisher);
        _reportDark();
        // The provider comes back with fresh stake after its jail: a new epoch, no longer jailed.
        _fund(provider, 100 * TOKEN);
        vm.prank(provider);
        market.stake(100 * TOKEN);
        vm.warp(market.darkRecord(provider, 0).jailedUntil);
        vm.prank(provider);
        market.unjail();
        assertEq(market.stakeOf(provider).epoch, 1);

        vm.warp(uint256(court.getDispute(disputeId).answerBy) + 1);
        uint256 publisherBefore = token.balanceOf(publisher);
        _slash(disputeId, COLLATERAL);
        assertEq(token.balanceOf(publisher), publisherBefore + COMPENSATION + BOND);
        assertEq(market.darkRecord(provider, 0).pool, 0);
        _assertStake(STAKE - COLLATERAL + 100 * TOKEN, 0);
    }

    /*//////////////////////////////////////////////////////////////
                             MARKET HOOKS
    //////////////////////////////////////////////////////////////*/

    function test_holdCollateral_onlyCourt() public {
        address[4] memory callers = [stranger, publisher, arbiter, admin];
        for (uint256 i; i < callers.length; ++i) {
            _expectUnauthorized(callers[i]);
            vm.prank(callers[i]);
            market.holdCollateral(leaseId);
        }
        assertFalse(market.getLease(leaseId).disputed);
    }

    function test_settleDispute_onlyCourt() public {
        _open();
        address[4] memory callers = [stranger, publisher, arbiter, admin];
        for (uint256 i; i < callers.length; ++i) {
            _expectUnauthorized(callers[i]);
            vm.prank(callers[i]);
            market.settleDispute(leaseId, COLLATERAL);
        }
        assertTrue(market.getLease(leaseId).disputed);
        _assertStake(STAKE - COLLATERAL, COLLATERAL);
    }

    function test_settleDispute_revertsWhenNotDisputed() public {
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketLeaseNotDisputed.selector, leaseId));
        vm.prank(address(court));
        market.settleDispute(leaseId, 1);
    }

    /*//////////////////////////////////////////////////////////////
                               SET PARAMS
    //////////////////////////////////////////////////////////////*/

    function test_setParams_revertsForNonAdmin() public {
        CourtParams memory p = CourtParams({disputeBond: 1, answerWindow: 1 days, rulingWindow: 1 days});
        address[3] memory callers = [stranger, arbiter, publisher];
        for (uint256 i; i < callers.length; ++i) {
            _expectUnauthorized(callers[i]);
            vm.prank(callers[i]);
            court.setParams(p);
        }
        _assertParams(court.params(), defaultCourtParams());
    }

    function test_setParams_updatesAndEmits() public {
        CourtParams memory p =
            CourtParams({disputeBond: uint96(25 * TOKEN), answerWindow: 1 days, rulingWindow: 3 days});
        vm.expectEmit(false, false, false, true, address(court));
        emit IDisputeCourt.CourtParamsUpdated(p);
        vm.prank(admin);
        court.setParams(p);
        _assertParams(court.params(), p);
    }

    function test_setParams_acceptsBounds() public {
        CourtParams memory p =
            CourtParams({disputeBond: type(uint96).max, answerWindow: MAX_WINDOW, rulingWindow: MAX_WINDOW});
        vm.prank(admin);
        court.setParams(p);
        _assertParams(court.params(), p);

        p = CourtParams({disputeBond: 0, answerWindow: 1, rulingWindow: 1});
        vm.prank(admin);
        court.setParams(p);
        _assertParams(court.params(), p);
    }

    function test_setParams_revertsOnInvalidWindows() public {
        CourtParams memory p = defaultCourtParams();
        p.answerWindow = 0;
        _expectInvalidParam(p, "answerWindow", 0);
        p.answerWindow = MAX_WINDOW + 1;
        _expectInvalidParam(p, "answerWindow", MAX_WINDOW + 1);

        p = defaultCourtParams();
        p.rulingWindow = 0;
        _expectInvalidParam(p, "rulingWindow", 0);
        p.rulingWindow = MAX_WINDOW + 1;
        _expectInvalidParam(p, "rulingWindow", MAX_WINDOW + 1);

        _assertParams(court.params(), defaultCourtParams());
    }

    function test_setParams_appliesToLaterDisputesOnly() public {
        uint256 first = _open();
        CourtParams memory p =
            CourtParams({disputeBond: uint96(3 * TOKEN), answerWindow: 1 hours, rulingWindow: 1 days});
        vm.prank(admin);
        court.setParams(p);

        Dispute memory d = court.getDispute(first);
        assertEq(d.bond, BOND);
        assertEq(d.answerBy, START_TIME + ANSWER_WINDOW);
        assertEq(d.ruleBy, START_TIME + ANSWER_WINDOW + RULING_WINDOW);

        uint256 lease2 = _lease(PRICE, DEPOSIT, 1);
        vm.prank(publisher);
        uint256 second = court.openDispute(lease2, EVIDENCE);
        d = court.getDispute(second);
        assertEq(d.bond, 3 * TOKEN);
        assertEq(d.answerBy, START_TIME + 1 hours);
        assertEq(d.ruleBy, START_TIME + 1 hours + 1 days);
        assertEq(token.balanceOf(address(court)), BOND + 3 * TOKEN);

        // The first dispute's bond, not the current one, is what moves at its ruling.
        _answer(first);
        uint256 providerBefore = token.balanceOf(provider);
        _dismiss(first);
        assertEq(token.balanceOf(provider), providerBefore + BOND);
        assertEq(token.balanceOf(address(court)), 3 * TOKEN);
    }
}
