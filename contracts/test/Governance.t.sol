// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Deploy} from "../script/Deploy.s.sol";
import {AppVault} from "../src/AppVault.sol";
import {AppVaultFactory} from "../src/AppVaultFactory.sol";
import {PodnetLaunch} from "../script/PodnetLaunch.sol";
import {DisputeCourt} from "../src/DisputeCourt.sol";
import {PodnetMarket} from "../src/PodnetMarket.sol";
import {ProviderRegistry} from "../src/ProviderRegistry.sol";
import {PodnetTestToken} from "../src/dev/PodnetTestToken.sol";
import {IDisputeCourt} from "../src/interfaces/IDisputeCourt.sol";
import {IPodnetMarket} from "../src/interfaces/IPodnetMarket.sol";
import {CourtParams, DisputeStatus, PodnetRoles} from "../src/types/CourtTypes.sol";
import {MarketParams, Pricing, ProviderProfile, Quote, Resources} from "../src/types/MarketTypes.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";
import {IAccessManaged} from "@openzeppelin/contracts/access/manager/IAccessManaged.sol";
import {IAccessManager} from "@openzeppelin/contracts/access/manager/IAccessManager.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {Test} from "forge-std/Test.sol";

/// @notice Runs the deploy script (contracts/script/Deploy.s.sol) and checks that after it only the timelock governs:
///         the deployer keeps no power, and every parameter or role change goes schedule -> delay -> execute.
contract GovernanceTest is Test {
    uint256 internal constant START_TIME = 1_800_000_000;
    uint256 internal constant DELAY = 2 days;
    uint256 internal constant TOKEN = 1e18;
    uint96 internal constant PRICE = 1e12;
    uint96 internal constant DEPOSIT = PRICE * 1 days;
    /// @dev TimelockController.OperationState.Ready as the state bitmap in TimelockUnexpectedOperationState.
    bytes32 internal constant READY_STATE = bytes32(uint256(1) << 2);
    uint64 internal constant ADMIN_ROLE = 0;
    uint64 internal constant PUBLIC_ROLE = type(uint64).max;

    uint256 internal deployerKey;
    address internal deployer;
    address internal governor = makeAddr("governor");
    address internal arbiter = makeAddr("arbiter");
    address internal treasury = makeAddr("treasury");
    address internal newArbiter = makeAddr("newArbiter");
    address internal publisher = makeAddr("publisher");
    address internal stranger = makeAddr("stranger");
    address internal provider;
    uint256 internal providerKey;

    PodnetTestToken internal token;
    AccessManager internal manager;
    TimelockController internal timelock;
    ProviderRegistry internal registry;
    PodnetMarket internal market;
    DisputeCourt internal court;
    AppVaultFactory internal vaultFactory;
    Deploy internal script;

    uint256 internal saltNonce;

    function setUp() public {
        vm.warp(START_TIME);
        (deployer, deployerKey) = makeAddrAndKey("deployer");
        (provider, providerKey) = makeAddrAndKey("provider");

        vm.setEnv("DEPLOYER_PRIVATE_KEY", vm.toString(deployerKey));
        vm.setEnv("GOVERNOR", vm.toString(governor));
        vm.setEnv("ARBITER", vm.toString(arbiter));
        vm.setEnv("TREASURY", vm.toString(treasury));
        vm.setEnv("TIMELOCK_DELAY", vm.toString(DELAY));
        vm.setEnv("PAYMENT_TOKEN", vm.toString(address(0)));

        script = new Deploy();
        Deploy.Deployment memory d = script.run();
        token = PodnetTestToken(address(d.token));
        manager = d.manager;
        timelock = d.timelock;
        registry = d.registry;
        market = d.market;
        court = d.court;
        vaultFactory = d.vaultFactory;
    }

    /*//////////////////////////////////////////////////////////////
                                HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev The governor schedules `data` on `target` with `delay`; returns the operation's id and salt.
    function _schedule(address target, bytes memory data, uint256 delay) internal returns (bytes32 id, bytes32 salt) {
        salt = bytes32(++saltNonce);
        id = timelock.hashOperation(target, 0, data, bytes32(0), salt);
        vm.prank(governor);
        timelock.schedule(target, 0, data, bytes32(0), salt, delay);
    }

    function _execute(address target, bytes memory data, bytes32 salt) internal {
        vm.prank(governor);
        timelock.execute(target, 0, data, bytes32(0), salt);
    }

    /// @dev Schedules and, after the delay, executes `data` on `target`.
    function _govern(address target, bytes memory data) internal {
        (, bytes32 salt) = _schedule(target, data, DELAY);
        skip(DELAY);
        _execute(target, data, salt);
    }

    function _otherMarketParams() internal pure returns (MarketParams memory p) {
        p = MarketParams({
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

    function _otherCourtParams() internal pure returns (CourtParams memory) {
        return CourtParams({disputeBond: uint96(3 * TOKEN), answerWindow: 1 days, rulingWindow: 1 days});
    }

    function _profile() internal pure returns (ProviderProfile memory profile) {
        profile = ProviderProfile({
            endpoint: "https://provider.example:8443",
            metadataURI: "ipfs://bafy-provider-metadata",
            encryptionKey: keccak256("x25519 public key"),
            pricing: Pricing({perCpuMilli: 1e8, perMemoryMiB: 1e8, perStorageMiB: 1e7, flat: 1e9}),
            capacity: Resources({cpuMillis: 8000, memoryMiB: 16_384, storageMiB: 102_400}),
            attributes: new bytes32[](0)
        });
    }

    /// @dev Onboards `provider`, leases from it as `publisher` and opens a dispute that the provider answers, so an
    ///      arbiter may rule at once.
    function _answeredDispute() internal returns (uint256 disputeId) {
        vm.prank(provider);
        registry.register(_profile());
        token.mint(provider, 1000 * TOKEN);
        vm.startPrank(provider);
        token.approve(address(market), type(uint256).max);
        market.stake(1000 * TOKEN);
        vm.stopPrank();

        token.mint(publisher, 1000 * TOKEN);
        vm.startPrank(publisher);
        token.approve(address(market), type(uint256).max);
        token.approve(address(court), type(uint256).max);
        vm.stopPrank();

        Quote memory quote = Quote({
            provider: provider,
            publisher: publisher,
            specHash: keccak256("pod.yaml v1"),
            resources: Resources({cpuMillis: 500, memoryMiB: 512, storageMiB: 1024}),
            pricePerSecond: PRICE,
            validUntil: uint40(block.timestamp + 10 minutes),
            attestationHash: keccak256("attestation"),
            nonce: 0
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(providerKey, market.hashQuote(quote));
        vm.prank(publisher);
        uint256 leaseId = market.createLease(quote, abi.encodePacked(r, s, v), DEPOSIT);

        vm.prank(publisher);
        disputeId = court.openDispute(leaseId, "ipfs://bafy-evidence");
        vm.prank(provider);
        court.answerDispute(disputeId, "ipfs://bafy-answer");
    }

    function _expectManagedUnauthorized(address caller) internal {
        vm.expectRevert(abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, caller));
    }

    function _expectManagerUnauthorized(address caller, uint64 roleId) internal {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessManager.AccessManagerUnauthorizedAccount.selector, caller, roleId)
        );
    }

    function _isMember(uint64 roleId, address account) internal view returns (bool isMember) {
        (isMember,) = manager.hasRole(roleId, account);
    }

    /*//////////////////////////////////////////////////////////////
                              DEPLOYMENT
    //////////////////////////////////////////////////////////////*/

    function test_deploy_timelockIsSoleAdmin() public view {
        assertEq(manager.ADMIN_ROLE(), ADMIN_ROLE);
        assertEq(manager.PUBLIC_ROLE(), PUBLIC_ROLE);
        uint64 adminRole = ADMIN_ROLE;
        (bool timelockIsAdmin, uint32 timelockDelay) = manager.hasRole(adminRole, address(timelock));
        assertTrue(timelockIsAdmin, "timelock admin");
        assertEq(timelockDelay, 0);
        assertFalse(_isMember(adminRole, deployer), "deployer admin");
        assertFalse(_isMember(adminRole, governor), "governor admin");
        assertFalse(_isMember(adminRole, address(script)), "script admin");
    }

    function test_deploy_timelockRoles() public view {
        assertEq(timelock.getMinDelay(), DELAY);
        assertTrue(timelock.hasRole(timelock.PROPOSER_ROLE(), governor));
        assertTrue(timelock.hasRole(timelock.EXECUTOR_ROLE(), governor));
        assertTrue(timelock.hasRole(timelock.CANCELLER_ROLE(), governor));
        assertTrue(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), address(timelock)));
        assertFalse(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), deployer));
        assertFalse(timelock.hasRole(timelock.PROPOSER_ROLE(), deployer));
        assertFalse(timelock.hasRole(timelock.EXECUTOR_ROLE(), deployer));
        // Execution is not open to anyone.
        assertFalse(timelock.hasRole(timelock.EXECUTOR_ROLE(), address(0)));
    }

    function test_deploy_wiresContractsAndRoles() public view {
        assertEq(market.authority(), address(manager));
        assertEq(court.authority(), address(manager));
        assertEq(address(court.market()), address(market));
        assertEq(address(market.token()), address(token));
        assertEq(address(market.registry()), address(registry));
        assertEq(market.treasury(), treasury);
        assertGt(address(token).code.length, 0);

        assertEq(
            manager.getTargetFunctionRole(address(market), IPodnetMarket.holdCollateral.selector), PodnetRoles.COURT
        );
        assertEq(
            manager.getTargetFunctionRole(address(market), IPodnetMarket.settleDispute.selector), PodnetRoles.COURT
        );
        assertEq(manager.getTargetFunctionRole(address(court), IDisputeCourt.slash.selector), PodnetRoles.ARBITER);
        assertEq(manager.getTargetFunctionRole(address(court), IDisputeCourt.dismiss.selector), PodnetRoles.ARBITER);
        assertEq(manager.getTargetFunctionRole(address(market), IPodnetMarket.setParams.selector), 0);
        assertEq(manager.getTargetFunctionRole(address(court), IDisputeCourt.setParams.selector), 0);
        assertEq(manager.getRoleAdmin(PodnetRoles.COURT), ADMIN_ROLE);
        assertEq(manager.getRoleAdmin(PodnetRoles.ARBITER), ADMIN_ROLE);

        assertTrue(_isMember(PodnetRoles.COURT, address(court)));
        assertTrue(_isMember(PodnetRoles.ARBITER, arbiter));
        assertFalse(_isMember(PodnetRoles.ARBITER, deployer));
        assertFalse(_isMember(PodnetRoles.COURT, deployer));
    }

    /// @dev The app vault factory sits on the deployed market and court; nothing about it is governed (each app
    ///      belongs to its owner), so the deploy leaves no role on it.
    function test_deploy_createsAppVaultFactory() public view {
        assertEq(address(vaultFactory.market()), address(market));
        assertEq(address(vaultFactory.court()), address(court));
        AppVault implementation = AppVault(vaultFactory.implementation());
        assertEq(implementation.factory(), address(vaultFactory));
        assertEq(address(implementation.token()), address(token));
        assertEq(implementation.owner(), address(0));
    }

    function test_deploy_launchParams() public view {
        MarketParams memory expected = PodnetLaunch.marketParams();
        MarketParams memory actual = market.params();
        assertEq(keccak256(abi.encode(actual)), keccak256(abi.encode(expected)));
        assertEq(actual.feeBps, 100);
        assertEq(actual.heartbeatThreshold, 10 minutes);
        CourtParams memory courtExpected = PodnetLaunch.courtParams();
        CourtParams memory courtActual = court.params();
        assertEq(courtActual.disputeBond, courtExpected.disputeBond);
        assertEq(courtActual.answerWindow, courtExpected.answerWindow);
        assertEq(courtActual.rulingWindow, courtExpected.rulingWindow);
    }

    /*//////////////////////////////////////////////////////////////
                        NO DIRECT GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    function test_deployer_cannotCallGovernedFunctions() public {
        MarketParams memory p = _otherMarketParams();
        _expectManagedUnauthorized(deployer);
        vm.prank(deployer);
        market.setParams(p);

        _expectManagedUnauthorized(deployer);
        vm.prank(deployer);
        market.setTreasury(deployer);

        CourtParams memory cp = _otherCourtParams();
        _expectManagedUnauthorized(deployer);
        vm.prank(deployer);
        court.setParams(cp);

        _expectManagerUnauthorized(deployer, ADMIN_ROLE);
        vm.prank(deployer);
        manager.grantRole(PodnetRoles.ARBITER, deployer, 0);

        _expectManagerUnauthorized(deployer, ADMIN_ROLE);
        vm.prank(deployer);
        manager.grantRole(ADMIN_ROLE, deployer, 0);

        bytes4[] memory selectors = new bytes4[](1);
        selectors[0] = IPodnetMarket.setParams.selector;
        _expectManagerUnauthorized(deployer, ADMIN_ROLE);
        vm.prank(deployer);
        manager.setTargetFunctionRole(address(market), selectors, PUBLIC_ROLE);

        assertEq(market.treasury(), treasury);
        assertEq(market.params().feeBps, 100);
    }

    function test_governor_cannotBypassTimelock() public {
        MarketParams memory p = _otherMarketParams();
        _expectManagedUnauthorized(governor);
        vm.prank(governor);
        market.setParams(p);

        _expectManagerUnauthorized(governor, ADMIN_ROLE);
        vm.prank(governor);
        manager.grantRole(PodnetRoles.ARBITER, governor, 0);

        // The timelock's own delay changes only through the timelock.
        vm.expectRevert(abi.encodeWithSelector(TimelockController.TimelockUnauthorizedCaller.selector, governor));
        vm.prank(governor);
        timelock.updateDelay(0);
    }

    function test_schedule_revertsForNonProposer() public {
        bytes memory data = abi.encodeCall(IPodnetMarket.setTreasury, (deployer));
        address[2] memory callers = [deployer, stranger];
        for (uint256 i; i < callers.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAccessControl.AccessControlUnauthorizedAccount.selector, callers[i], timelock.PROPOSER_ROLE()
                )
            );
            vm.prank(callers[i]);
            timelock.schedule(address(market), 0, data, bytes32(0), bytes32(0), DELAY);
        }
    }

    function test_schedule_revertsBelowMinDelay() public {
        bytes memory data = abi.encodeCall(IPodnetMarket.setTreasury, (stranger));
        vm.expectRevert(abi.encodeWithSelector(TimelockController.TimelockInsufficientDelay.selector, DELAY - 1, DELAY));
        vm.prank(governor);
        timelock.schedule(address(market), 0, data, bytes32(0), bytes32(0), DELAY - 1);
    }

    function test_execute_revertsForNonExecutor() public {
        bytes memory data = abi.encodeCall(IPodnetMarket.setTreasury, (stranger));
        (, bytes32 salt) = _schedule(address(market), data, DELAY);
        skip(DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, timelock.EXECUTOR_ROLE()
            )
        );
        vm.prank(stranger);
        timelock.execute(address(market), 0, data, bytes32(0), salt);
        assertEq(market.treasury(), treasury);
    }

    /*//////////////////////////////////////////////////////////////
                         TIMELOCKED CHANGES
    //////////////////////////////////////////////////////////////*/

    function test_timelock_marketSetParamsAfterDelay() public {
        MarketParams memory p = _otherMarketParams();
        bytes memory data = abi.encodeCall(IPodnetMarket.setParams, (p));
        (bytes32 id, bytes32 salt) = _schedule(address(market), data, DELAY);
        assertTrue(timelock.isOperationPending(id));
        assertEq(timelock.getTimestamp(id), START_TIME + DELAY);

        // Right after scheduling, and one second before the delay ends: not ready.
        vm.expectRevert(
            abi.encodeWithSelector(TimelockController.TimelockUnexpectedOperationState.selector, id, READY_STATE)
        );
        _execute(address(market), data, salt);
        vm.warp(START_TIME + DELAY - 1);
        vm.expectRevert(
            abi.encodeWithSelector(TimelockController.TimelockUnexpectedOperationState.selector, id, READY_STATE)
        );
        _execute(address(market), data, salt);
        assertEq(market.params().feeBps, 100, "unchanged before the delay");

        // Exactly at the delay it executes and the new parameters are in force.
        vm.warp(START_TIME + DELAY);
        vm.expectEmit(false, false, false, true, address(market));
        emit IPodnetMarket.ParamsUpdated(p);
        _execute(address(market), data, salt);
        assertEq(keccak256(abi.encode(market.params())), keccak256(abi.encode(p)));
        assertTrue(timelock.isOperationDone(id));

        // It cannot run twice.
        vm.expectRevert(
            abi.encodeWithSelector(TimelockController.TimelockUnexpectedOperationState.selector, id, READY_STATE)
        );
        _execute(address(market), data, salt);
    }

    function test_timelock_setTreasuryAfterDelay() public {
        bytes memory data = abi.encodeCall(IPodnetMarket.setTreasury, (stranger));
        (bytes32 id, bytes32 salt) = _schedule(address(market), data, DELAY);
        vm.warp(START_TIME + DELAY - 1);
        vm.expectRevert(
            abi.encodeWithSelector(TimelockController.TimelockUnexpectedOperationState.selector, id, READY_STATE)
        );
        _execute(address(market), data, salt);
        assertEq(market.treasury(), treasury);

        vm.warp(START_TIME + DELAY);
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.TreasuryUpdated(stranger);
        _execute(address(market), data, salt);
        assertEq(market.treasury(), stranger);
    }

    function test_timelock_courtSetParamsAfterDelay() public {
        CourtParams memory p = _otherCourtParams();
        bytes memory data = abi.encodeCall(IDisputeCourt.setParams, (p));
        (bytes32 id, bytes32 salt) = _schedule(address(court), data, DELAY);
        vm.warp(START_TIME + DELAY - 1);
        vm.expectRevert(
            abi.encodeWithSelector(TimelockController.TimelockUnexpectedOperationState.selector, id, READY_STATE)
        );
        _execute(address(court), data, salt);
        assertEq(court.params().disputeBond, 10 * TOKEN);

        vm.warp(START_TIME + DELAY);
        vm.expectEmit(false, false, false, true, address(court));
        emit IDisputeCourt.CourtParamsUpdated(p);
        _execute(address(court), data, salt);
        CourtParams memory actual = court.params();
        assertEq(actual.disputeBond, p.disputeBond);
        assertEq(actual.answerWindow, p.answerWindow);
        assertEq(actual.rulingWindow, p.rulingWindow);
    }

    function test_timelock_longerDelayThanMinimum() public {
        bytes memory data = abi.encodeCall(IPodnetMarket.setTreasury, (stranger));
        (bytes32 id, bytes32 salt) = _schedule(address(market), data, DELAY + 1 days);
        vm.warp(START_TIME + DELAY + 1 days - 1);
        vm.expectRevert(
            abi.encodeWithSelector(TimelockController.TimelockUnexpectedOperationState.selector, id, READY_STATE)
        );
        _execute(address(market), data, salt);
        skip(1);
        _execute(address(market), data, salt);
        assertEq(market.treasury(), stranger);
    }

    function test_timelock_cancelledChangeNeverApplies() public {
        bytes memory data = abi.encodeCall(IPodnetMarket.setTreasury, (stranger));
        (bytes32 id, bytes32 salt) = _schedule(address(market), data, DELAY);
        vm.prank(governor);
        timelock.cancel(id);
        skip(DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(TimelockController.TimelockUnexpectedOperationState.selector, id, READY_STATE)
        );
        _execute(address(market), data, salt);
        assertEq(market.treasury(), treasury);
    }

    function test_timelock_grantArbiterLetsItRule() public {
        uint256 disputeId = _answeredDispute();
        _expectManagedUnauthorized(newArbiter);
        vm.prank(newArbiter);
        court.slash(disputeId, 1);

        bytes memory data = abi.encodeCall(IAccessManager.grantRole, (PodnetRoles.ARBITER, newArbiter, 0));
        (bytes32 id, bytes32 salt) = _schedule(address(manager), data, DELAY);
        vm.warp(START_TIME + DELAY - 1);
        vm.expectRevert(
            abi.encodeWithSelector(TimelockController.TimelockUnexpectedOperationState.selector, id, READY_STATE)
        );
        _execute(address(manager), data, salt);
        assertFalse(_isMember(PodnetRoles.ARBITER, newArbiter));

        vm.warp(START_TIME + DELAY);
        _execute(address(manager), data, salt);
        assertTrue(_isMember(PodnetRoles.ARBITER, newArbiter));

        uint256 publisherBefore = token.balanceOf(publisher);
        uint256 collateral = uint256(PRICE) * 1 days;
        vm.expectEmit(true, true, false, true, address(court));
        emit IDisputeCourt.DisputeSlashed(disputeId, newArbiter, collateral, collateral);
        vm.prank(newArbiter);
        court.slash(disputeId, collateral);
        assertEq(uint8(court.getDispute(disputeId).status), uint8(DisputeStatus.Slashed));
        assertEq(token.balanceOf(publisher), publisherBefore + collateral + 10 * TOKEN);
    }

    function test_timelock_revokeArbiter() public {
        uint256 disputeId = _answeredDispute();
        bytes memory data = abi.encodeCall(IAccessManager.revokeRole, (PodnetRoles.ARBITER, arbiter));
        (bytes32 id, bytes32 salt) = _schedule(address(manager), data, DELAY);

        vm.warp(START_TIME + DELAY - 1);
        vm.expectRevert(
            abi.encodeWithSelector(TimelockController.TimelockUnexpectedOperationState.selector, id, READY_STATE)
        );
        _execute(address(manager), data, salt);
        (bool canRule,) = manager.canCall(arbiter, address(court), IDisputeCourt.dismiss.selector);
        assertTrue(canRule, "still an arbiter during the delay");

        vm.warp(START_TIME + DELAY);
        _execute(address(manager), data, salt);
        assertFalse(_isMember(PodnetRoles.ARBITER, arbiter));

        _expectManagedUnauthorized(arbiter);
        vm.prank(arbiter);
        court.dismiss(disputeId);
        _expectManagedUnauthorized(arbiter);
        vm.prank(arbiter);
        court.slash(disputeId, 1);
        assertEq(uint8(court.getDispute(disputeId).status), uint8(DisputeStatus.Open));
    }

    /*//////////////////////////////////////////////////////////////
                              COURT ROLE
    //////////////////////////////////////////////////////////////*/

    function test_courtRole_cannotBeTakenDirectly() public {
        address[4] memory callers = [deployer, governor, arbiter, stranger];
        for (uint256 i; i < callers.length; ++i) {
            _expectManagerUnauthorized(callers[i], ADMIN_ROLE);
            vm.prank(callers[i]);
            manager.grantRole(PodnetRoles.COURT, callers[i], 0);
            assertFalse(_isMember(PodnetRoles.COURT, callers[i]));
        }
        // Nor can the hooks be opened up to another role.
        bytes4[] memory hooks = new bytes4[](1);
        hooks[0] = IPodnetMarket.holdCollateral.selector;
        _expectManagerUnauthorized(stranger, ADMIN_ROLE);
        vm.prank(stranger);
        manager.setTargetFunctionRole(address(market), hooks, PUBLIC_ROLE);
    }

    function test_courtRole_hooksOnlyForCourt() public {
        address[5] memory callers = [deployer, governor, arbiter, stranger, address(timelock)];
        for (uint256 i; i < callers.length; ++i) {
            _expectManagedUnauthorized(callers[i]);
            vm.prank(callers[i]);
            market.holdCollateral(1);
            _expectManagedUnauthorized(callers[i]);
            vm.prank(callers[i]);
            market.settleDispute(1, 1);
        }
        (bool courtCan,) = manager.canCall(address(court), address(market), IPodnetMarket.holdCollateral.selector);
        assertTrue(courtCan);
    }

    function test_courtRole_timelockAdminIsNotCourt() public {
        // Even a timelocked call to a dispute hook fails: the admin role does not include COURT.
        bytes memory data = abi.encodeCall(IPodnetMarket.holdCollateral, (1));
        (, bytes32 salt) = _schedule(address(market), data, DELAY);
        skip(DELAY);
        _expectManagedUnauthorized(address(timelock));
        _execute(address(market), data, salt);
    }

    function test_courtRole_renouncedOnlyByItsHolder() public {
        vm.expectRevert(IAccessManager.AccessManagerBadConfirmation.selector);
        vm.prank(stranger);
        manager.renounceRole(PodnetRoles.COURT, address(court));
        _expectManagerUnauthorized(stranger, ADMIN_ROLE);
        vm.prank(stranger);
        manager.revokeRole(PodnetRoles.COURT, address(court));
        assertTrue(_isMember(PodnetRoles.COURT, address(court)));
    }
}
