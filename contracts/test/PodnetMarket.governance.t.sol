// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PodnetMarket} from "../src/PodnetMarket.sol";
import {IPodnetMarket} from "../src/interfaces/IPodnetMarket.sol";
import {IProviderRegistry} from "../src/interfaces/IProviderRegistry.sol";
import {MarketParams} from "../src/types/MarketTypes.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {ReleaseBuild} from "./utils/ReleaseBuild.sol";
import {IAccessManaged} from "@openzeppelin/contracts/access/manager/IAccessManaged.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

contract PodnetMarketGovernanceTest is MarketFixture {
    uint40 internal constant MAX_DURATION = 365 days;
    uint64 internal constant GOVERNOR_ROLE = 7;

    address internal governor = makeAddr("governor");
    address internal newTreasury = makeAddr("newTreasury");

    /*//////////////////////////////////////////////////////////////
                                HELPERS
    //////////////////////////////////////////////////////////////*/

    function _otherParams() internal pure returns (MarketParams memory) {
        return MarketParams({
            feeBps: 250,
            unbondingDelay: 14 days,
            collateralSeconds: 2 days,
            minLeaseDuration: 30 minutes,
            maxBidWindow: 2 days,
            acceptWindow: 12 hours,
            maxBidsPerOrder: 5,
            reporterRewardBps: 500,
            darkSlashBps: 5000,
            minProviderStake: uint96(500 * TOKEN),
            heartbeatThreshold: 30 minutes,
            jailCooldown: 3 days,
            disputeWindow: 1 days,
            minBidCollateralBps: 2500
        });
    }

    function _assertParams(MarketParams memory actual, MarketParams memory expected) internal pure {
        assertEq(actual.feeBps, expected.feeBps, "feeBps");
        assertEq(actual.unbondingDelay, expected.unbondingDelay, "unbondingDelay");
        assertEq(actual.collateralSeconds, expected.collateralSeconds, "collateralSeconds");
        assertEq(actual.minLeaseDuration, expected.minLeaseDuration, "minLeaseDuration");
        assertEq(actual.maxBidWindow, expected.maxBidWindow, "maxBidWindow");
        assertEq(actual.acceptWindow, expected.acceptWindow, "acceptWindow");
        assertEq(actual.maxBidsPerOrder, expected.maxBidsPerOrder, "maxBidsPerOrder");
        assertEq(actual.minProviderStake, expected.minProviderStake, "minProviderStake");
        assertEq(actual.reporterRewardBps, expected.reporterRewardBps, "reporterRewardBps");
        assertEq(actual.darkSlashBps, expected.darkSlashBps, "darkSlashBps");
        assertEq(actual.heartbeatThreshold, expected.heartbeatThreshold, "heartbeatThreshold");
        assertEq(actual.jailCooldown, expected.jailCooldown, "jailCooldown");
        assertEq(actual.disputeWindow, expected.disputeWindow, "disputeWindow");
        assertEq(actual.minBidCollateralBps, expected.minBidCollateralBps, "minBidCollateralBps");
    }

    function _expectInvalidParams(MarketParams memory p, string memory name, uint256 value) internal {
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketInvalidParameter.selector, name, value));
        vm.prank(admin);
        market.setParams(p);
    }

    /// @dev A lease of one day at PRICE, fully withdrawn by the provider: accrues the fee on DEPOSIT.
    function _accrueFees() internal returns (uint256 fee) {
        _onboard(provider, 1000 * TOKEN);
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.warp(block.timestamp + 1 days);
        uint256[] memory ids = new uint256[](1);
        ids[0] = leaseId;
        vm.prank(provider);
        market.withdraw(ids);
        fee = uint256(DEPOSIT) * 100 / 10_000;
        assertEq(market.accruedFees(), fee);
    }

    /// @dev Runs the market's constructor on `code` (the release build's, read before an expected event or revert is
    ///      set, so that what is expected is the constructor's).
    function _deploy(bytes memory code, address token_, address registry_, address treasury_, MarketParams memory p)
        internal
        returns (PodnetMarket)
    {
        return PodnetMarket(ReleaseBuild.create(code, _marketArgs(token_, registry_, treasury_, p)));
    }

    /*//////////////////////////////////////////////////////////////
                               SET PARAMS
    //////////////////////////////////////////////////////////////*/

    function test_setParams_revertsForNonAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, stranger));
        vm.prank(stranger);
        market.setParams(_otherParams());
        _assertParams(market.params(), defaultParams());
    }

    function test_setParams_revertsForTreasury() public {
        vm.expectRevert(abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, treasury));
        vm.prank(treasury);
        market.setParams(_otherParams());
    }

    function test_setParams_adminUpdatesAndEmits() public {
        MarketParams memory p = _otherParams();
        vm.expectEmit(false, false, false, true, address(market));
        emit IPodnetMarket.ParamsUpdated(p);
        vm.prank(admin);
        market.setParams(p);
        _assertParams(market.params(), p);
    }

    function test_setParams_acceptsUpperBounds() public {
        MarketParams memory p = MarketParams({
            feeBps: 1000,
            unbondingDelay: MAX_DURATION,
            collateralSeconds: MAX_DURATION,
            minLeaseDuration: MAX_DURATION,
            maxBidWindow: MAX_DURATION,
            acceptWindow: MAX_DURATION,
            maxBidsPerOrder: type(uint8).max,
            reporterRewardBps: 10_000,
            darkSlashBps: 10_000,
            minProviderStake: type(uint96).max,
            heartbeatThreshold: MAX_DURATION,
            jailCooldown: MAX_DURATION,
            disputeWindow: 90 days,
            minBidCollateralBps: 10_000
        });
        vm.prank(admin);
        market.setParams(p);
        _assertParams(market.params(), p);
    }

    function test_setParams_acceptsLowerBounds() public {
        MarketParams memory p = MarketParams({
            feeBps: 0,
            unbondingDelay: 0,
            collateralSeconds: 0,
            minLeaseDuration: 0,
            maxBidWindow: 1,
            acceptWindow: 1,
            maxBidsPerOrder: 1,
            reporterRewardBps: 0,
            darkSlashBps: 0,
            minProviderStake: 0,
            heartbeatThreshold: 1,
            jailCooldown: 1 hours,
            disputeWindow: 0,
            minBidCollateralBps: 0
        });
        vm.prank(admin);
        market.setParams(p);
        _assertParams(market.params(), p);
    }

    function test_setParams_revertsWhenFeeTooHigh() public {
        MarketParams memory p = defaultParams();
        p.feeBps = 1001;
        _expectInvalidParams(p, "feeBps", 1001);
    }

    function test_setParams_revertsWhenUnbondingDelayTooLong() public {
        MarketParams memory p = defaultParams();
        p.unbondingDelay = MAX_DURATION + 1;
        _expectInvalidParams(p, "unbondingDelay", MAX_DURATION + 1);
    }

    function test_setParams_revertsWhenCollateralSecondsTooLong() public {
        MarketParams memory p = defaultParams();
        p.collateralSeconds = MAX_DURATION + 1;
        _expectInvalidParams(p, "collateralSeconds", MAX_DURATION + 1);
    }

    function test_setParams_revertsWhenMinLeaseDurationTooLong() public {
        MarketParams memory p = defaultParams();
        p.minLeaseDuration = MAX_DURATION + 1;
        _expectInvalidParams(p, "minLeaseDuration", MAX_DURATION + 1);
    }

    function test_setParams_revertsWhenMaxBidWindowZero() public {
        MarketParams memory p = defaultParams();
        p.maxBidWindow = 0;
        _expectInvalidParams(p, "maxBidWindow", 0);
    }

    function test_setParams_revertsWhenMaxBidWindowTooLong() public {
        MarketParams memory p = defaultParams();
        p.maxBidWindow = MAX_DURATION + 1;
        _expectInvalidParams(p, "maxBidWindow", MAX_DURATION + 1);
    }

    function test_setParams_revertsWhenAcceptWindowZero() public {
        MarketParams memory p = defaultParams();
        p.acceptWindow = 0;
        _expectInvalidParams(p, "acceptWindow", 0);
    }

    function test_setParams_revertsWhenAcceptWindowTooLong() public {
        MarketParams memory p = defaultParams();
        p.acceptWindow = MAX_DURATION + 1;
        _expectInvalidParams(p, "acceptWindow", MAX_DURATION + 1);
    }

    function test_setParams_revertsWhenMaxBidsPerOrderZero() public {
        MarketParams memory p = defaultParams();
        p.maxBidsPerOrder = 0;
        _expectInvalidParams(p, "maxBidsPerOrder", 0);
        _assertParams(market.params(), defaultParams());
    }

    function test_setParams_revertsWhenJailCooldownTooShort() public {
        MarketParams memory p = defaultParams();
        p.jailCooldown = 1 hours - 1;
        _expectInvalidParams(p, "jailCooldown", 1 hours - 1);
    }

    function test_setParams_revertsWhenMinBidCollateralAboveMax() public {
        MarketParams memory p = defaultParams();
        p.minBidCollateralBps = 10_001;
        _expectInvalidParams(p, "minBidCollateralBps", 10_001);
    }

    function test_setParams_revertsWhenDisputeWindowTooLong() public {
        MarketParams memory p = defaultParams();
        p.disputeWindow = 90 days + 1;
        _expectInvalidParams(p, "disputeWindow", 90 days + 1);
    }

    function test_setParams_revertsWhenJailCooldownTooLong() public {
        MarketParams memory p = defaultParams();
        p.jailCooldown = MAX_DURATION + 1;
        _expectInvalidParams(p, "jailCooldown", uint256(MAX_DURATION) + 1);
    }

    function test_setParams_reportsFirstInvalidParameter() public {
        MarketParams memory p = defaultParams();
        p.feeBps = 5000;
        p.maxBidsPerOrder = 0;
        _expectInvalidParams(p, "feeBps", 5000);
    }

    function test_setParams_delegatedRoleCanCall() public {
        bytes4[] memory selectors = new bytes4[](2);
        selectors[0] = IPodnetMarket.setParams.selector;
        selectors[1] = IPodnetMarket.setTreasury.selector;
        vm.startPrank(admin);
        manager.setTargetFunctionRole(address(market), selectors, GOVERNOR_ROLE);
        manager.grantRole(GOVERNOR_ROLE, governor, 0);
        vm.stopPrank();

        vm.prank(governor);
        market.setParams(_otherParams());
        _assertParams(market.params(), _otherParams());
        vm.prank(governor);
        market.setTreasury(newTreasury);
        assertEq(market.treasury(), newTreasury);

        vm.expectRevert(abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, stranger));
        vm.prank(stranger);
        market.setParams(defaultParams());
    }

    /*//////////////////////////////////////////////////////////////
                              SET TREASURY
    //////////////////////////////////////////////////////////////*/

    function test_setTreasury_revertsForNonAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, stranger));
        vm.prank(stranger);
        market.setTreasury(stranger);
        assertEq(market.treasury(), treasury);
    }

    function test_setTreasury_adminUpdatesAndEmits() public {
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.TreasuryUpdated(newTreasury);
        vm.prank(admin);
        market.setTreasury(newTreasury);
        assertEq(market.treasury(), newTreasury);
    }

    function test_setTreasury_revertsWhenZero() public {
        vm.expectRevert(IPodnetMarket.MarketZeroAddress.selector);
        vm.prank(admin);
        market.setTreasury(address(0));
        assertEq(market.treasury(), treasury);
    }

    function test_setTreasury_accessCheckedBeforeZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, stranger));
        vm.prank(stranger);
        market.setTreasury(address(0));
    }

    /*//////////////////////////////////////////////////////////////
                             WITHDRAW FEES
    //////////////////////////////////////////////////////////////*/

    function test_withdrawFees_revertsWhenNothingAccrued() public {
        vm.expectRevert(IPodnetMarket.MarketZeroAmount.selector);
        market.withdrawFees();
    }

    function test_withdrawFees_sendsToTreasury() public {
        uint256 fee = _accrueFees();
        uint256 marketBefore = token.balanceOf(address(market));

        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.FeesWithdrawn(treasury, fee);
        vm.prank(stranger);
        uint256 amount = market.withdrawFees();

        assertEq(amount, fee);
        assertEq(token.balanceOf(treasury), fee);
        assertEq(token.balanceOf(address(market)), marketBefore - fee);
        assertEq(market.accruedFees(), 0);
        assertEq(token.balanceOf(stranger), 1_000_000 * TOKEN, "caller gets nothing");
    }

    function test_withdrawFees_secondCallReverts() public {
        _accrueFees();
        market.withdrawFees();
        vm.expectRevert(IPodnetMarket.MarketZeroAmount.selector);
        market.withdrawFees();
    }

    function test_withdrawFees_goesToCurrentTreasury() public {
        uint256 fee = _accrueFees();
        vm.prank(admin);
        market.setTreasury(newTreasury);

        market.withdrawFees();
        assertEq(token.balanceOf(newTreasury), fee);
        assertEq(token.balanceOf(treasury), 0);
    }

    function test_withdrawFees_unaffectedByFeeChange() public {
        uint256 fee = _accrueFees();
        MarketParams memory p = defaultParams();
        p.feeBps = 0;
        vm.prank(admin);
        market.setParams(p);
        assertEq(market.withdrawFees(), fee);
    }

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    function test_constructor_setsState() public view {
        assertEq(address(market.token()), address(token));
        assertEq(address(market.registry()), address(registry));
        assertEq(market.treasury(), treasury);
        assertEq(market.authority(), address(manager));
        assertEq(market.accruedFees(), 0);
        assertEq(market.leaseCount(), 0);
        assertEq(market.orderCount(), 0);
        _assertParams(market.params(), defaultParams());
        assertEq(market.MAX_FEE_BPS(), 1000);
        assertEq(market.MAX_DURATION_PARAM(), MAX_DURATION);
    }

    function test_constructor_emitsParamsAndTreasury() public {
        bytes memory code = ReleaseBuild.creationCode("PodnetMarket");
        vm.expectEmit(false, false, false, true);
        emit IPodnetMarket.ParamsUpdated(_otherParams());
        vm.expectEmit(true, false, false, true);
        emit IPodnetMarket.TreasuryUpdated(newTreasury);
        PodnetMarket deployed = _deploy(code, address(token), address(registry), newTreasury, _otherParams());
        _assertParams(deployed.params(), _otherParams());
        assertEq(deployed.treasury(), newTreasury);
    }

    function test_constructor_revertsWhenTokenZero() public {
        bytes memory code = ReleaseBuild.creationCode("PodnetMarket");
        vm.expectRevert(IPodnetMarket.MarketZeroAddress.selector);
        _deploy(code, address(0), address(registry), treasury, defaultParams());
    }

    function test_constructor_revertsWhenRegistryZero() public {
        bytes memory code = ReleaseBuild.creationCode("PodnetMarket");
        vm.expectRevert(IPodnetMarket.MarketZeroAddress.selector);
        _deploy(code, address(token), address(0), treasury, defaultParams());
    }

    function test_constructor_revertsWhenTreasuryZero() public {
        bytes memory code = ReleaseBuild.creationCode("PodnetMarket");
        vm.expectRevert(IPodnetMarket.MarketZeroAddress.selector);
        _deploy(code, address(token), address(registry), address(0), defaultParams());
    }

    function test_constructor_revertsWhenParamsInvalid() public {
        bytes memory code = ReleaseBuild.creationCode("PodnetMarket");
        MarketParams memory p = defaultParams();
        p.acceptWindow = 0;
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketInvalidParameter.selector, "acceptWindow", 0));
        _deploy(code, address(token), address(registry), treasury, p);
    }

    /*//////////////////////////////////////////////////////////////
                                  FUZZ
    //////////////////////////////////////////////////////////////*/

    function test_fuzz_setParams_validRoundTrips(MarketParams memory p) public {
        p.feeBps = uint16(bound(p.feeBps, 0, 1000));
        p.unbondingDelay = uint40(bound(p.unbondingDelay, 0, MAX_DURATION));
        p.collateralSeconds = uint40(bound(p.collateralSeconds, 0, MAX_DURATION));
        p.minLeaseDuration = uint40(bound(p.minLeaseDuration, 0, MAX_DURATION));
        p.maxBidWindow = uint40(bound(p.maxBidWindow, 1, MAX_DURATION));
        p.acceptWindow = uint40(bound(p.acceptWindow, 1, MAX_DURATION));
        p.maxBidsPerOrder = uint8(bound(p.maxBidsPerOrder, 1, type(uint8).max));
        p.reporterRewardBps = uint16(bound(p.reporterRewardBps, 0, 10_000));
        p.darkSlashBps = uint16(bound(p.darkSlashBps, 0, 10_000));
        p.heartbeatThreshold = uint40(bound(p.heartbeatThreshold, 1, MAX_DURATION));
        p.jailCooldown = uint40(bound(p.jailCooldown, 1 hours, MAX_DURATION));
        p.disputeWindow = uint40(bound(p.disputeWindow, 0, 90 days));
        p.minBidCollateralBps = uint16(bound(p.minBidCollateralBps, 0, 10_000));
        vm.prank(admin);
        market.setParams(p);
        _assertParams(market.params(), p);
    }

    function test_fuzz_setParams_revertsWhenFeeAboveMax(uint16 feeBps) public {
        feeBps = uint16(bound(feeBps, 1001, type(uint16).max));
        MarketParams memory p = defaultParams();
        p.feeBps = feeBps;
        _expectInvalidParams(p, "feeBps", feeBps);
    }

    function test_fuzz_setParams_revertsWhenDurationAboveMax(uint40 duration, uint8 which) public {
        duration = uint40(bound(duration, uint256(MAX_DURATION) + 1, type(uint40).max));
        MarketParams memory p = defaultParams();
        string memory name;
        which = uint8(bound(which, 0, 4));
        if (which == 0) (p.unbondingDelay, name) = (duration, "unbondingDelay");
        else if (which == 1) (p.collateralSeconds, name) = (duration, "collateralSeconds");
        else if (which == 2) (p.minLeaseDuration, name) = (duration, "minLeaseDuration");
        else if (which == 3) (p.maxBidWindow, name) = (duration, "maxBidWindow");
        else (p.acceptWindow, name) = (duration, "acceptWindow");
        _expectInvalidParams(p, name, duration);
    }

    function test_fuzz_setParams_revertsForAnyNonAdmin(address caller) public {
        vm.assume(caller != admin && caller != address(vm));
        vm.expectRevert(abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, caller));
        vm.prank(caller);
        market.setParams(_otherParams());
    }
}
