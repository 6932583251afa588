// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AppVault} from "../src/AppVault.sol";
import {IAppVault} from "../src/interfaces/IAppVault.sol";
import {IDisputeCourt} from "../src/interfaces/IDisputeCourt.sol";
import {DisputeStatus} from "../src/types/CourtTypes.sol";
import {PermitSignature} from "../src/types/MarketTypes.sol";
import {AppLimits} from "../src/types/VaultTypes.sol";
import {Permits} from "./utils/Permits.sol";
import {VaultFixture} from "./utils/VaultFixture.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

/// @notice The owner's side of a vault (ownership, controllers, limits, spec, withdrawals, disputes) and funding.
contract AppVaultAdminTest is VaultFixture {
    string internal constant EVIDENCE = "ipfs://bafy-evidence";

    /*//////////////////////////////////////////////////////////////
                                 SETUP
    //////////////////////////////////////////////////////////////*/

    function test_initialize_setsTheApp() public view {
        assertEq(vault.owner(), appOwner);
        assertEq(vault.pendingOwner(), address(0));
        assertEq(vault.specHash(), SPEC);
        assertEq(vault.configHash(), CONFIG);
        AppLimits memory limits = vault.limits();
        assertEq(limits.maxPricePerSecond, MAX_PRICE);
        assertEq(limits.maxDepositPerLease, MAX_DEPOSIT);
        assertEq(limits.maxInstances, MAX_INSTANCES);
        assertTrue(vault.isController(controller));
        assertTrue(vault.isController(controller2));
        assertFalse(vault.isController(appOwner));
        assertTrue(vault.isAuthorized(appOwner));
        assertFalse(vault.isAuthorized(stranger));
        assertFalse(vault.isAuthorized(address(0)));
        assertEq(vault.balance(), FUNDING);
        assertEq(address(vault.market()), address(market));
        assertEq(address(vault.court()), address(court));
        assertEq(address(vault.token()), address(token));
        assertEq(vault.factory(), address(factory));
        assertEq(vault.openOrders(), 0);
        assertEq(vault.leaseOf(0), 0);
    }

    function test_initialize_revertsForAnyoneButTheFactory() public {
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotFactory.selector, appOwner));
        vm.prank(appOwner);
        vault.initialize(appOwner, SPEC, CONFIG, defaultLimits(), new address[](0));
    }

    function test_initialize_revertsTwice() public {
        vm.expectRevert(IAppVault.VaultAlreadyInitialized.selector);
        vm.prank(address(factory));
        vault.initialize(stranger, SPEC, CONFIG, defaultLimits(), new address[](0));
    }

    /*//////////////////////////////////////////////////////////////
                               OWNERSHIP
    //////////////////////////////////////////////////////////////*/

    function test_transferOwnership_takesTwoSteps() public {
        address newOwner = makeAddr("newOwner");
        vm.expectEmit(address(vault));
        emit IAppVault.OwnershipTransferStarted(appOwner, newOwner);
        vm.prank(appOwner);
        vault.transferOwnership(newOwner);
        assertEq(vault.owner(), appOwner);
        assertEq(vault.pendingOwner(), newOwner);

        vm.expectEmit(address(vault));
        emit IAppVault.OwnershipTransferred(appOwner, newOwner);
        vm.prank(newOwner);
        vault.acceptOwnership();
        assertEq(vault.owner(), newOwner);
        assertEq(vault.pendingOwner(), address(0));
        // The old owner has no power left; controllers stay.
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotOwner.selector, appOwner));
        vm.prank(appOwner);
        vault.withdraw(appOwner, 1);
        assertTrue(vault.isController(controller));
    }

    function test_transferOwnership_revertsForNonOwner() public {
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotOwner.selector, controller));
        vm.prank(controller);
        vault.transferOwnership(controller);
    }

    function test_acceptOwnership_revertsForOthers() public {
        vm.prank(appOwner);
        vault.transferOwnership(makeAddr("newOwner"));
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotPendingOwner.selector, stranger));
        vm.prank(stranger);
        vault.acceptOwnership();
    }

    function test_transferOwnership_toZeroCancels() public {
        address newOwner = makeAddr("newOwner");
        vm.startPrank(appOwner);
        vault.transferOwnership(newOwner);
        vault.transferOwnership(address(0));
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotPendingOwner.selector, newOwner));
        vm.prank(newOwner);
        vault.acceptOwnership();
        assertEq(vault.owner(), appOwner);
    }

    /*//////////////////////////////////////////////////////////////
                        CONTROLLERS, LIMITS, SPEC
    //////////////////////////////////////////////////////////////*/

    function test_setController_addsAndRemoves() public {
        address third = makeAddr("third controller");
        vm.expectEmit(address(vault));
        emit IAppVault.ControllerSet(third, true);
        vm.prank(appOwner);
        vault.setController(third, true);
        assertTrue(vault.isController(third));

        vm.expectEmit(address(vault));
        emit IAppVault.ControllerSet(controller, false);
        vm.prank(appOwner);
        vault.setController(controller, false);
        assertFalse(vault.isController(controller));
        assertFalse(vault.isAuthorized(controller));
    }

    /// @dev A controller cannot add another key (or itself again once removed).
    function test_setController_revertsForController() public {
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotOwner.selector, controller));
        vm.prank(controller);
        vault.setController(stranger, true);
    }

    function test_setController_revertsOnZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultZeroAddress.selector, "controller"));
        vm.prank(appOwner);
        vault.setController(address(0), true);
    }

    function test_setLimits_replacesLimits() public {
        AppLimits memory limits = AppLimits({maxPricePerSecond: 7, maxDepositPerLease: 8, maxInstances: 9});
        vm.expectEmit(address(vault));
        emit IAppVault.LimitsSet(7, 8, 9);
        vm.prank(appOwner);
        vault.setLimits(limits);
        AppLimits memory stored = vault.limits();
        assertEq(stored.maxPricePerSecond, 7);
        assertEq(stored.maxDepositPerLease, 8);
        assertEq(stored.maxInstances, 9);
    }

    /// @dev A controller cannot raise its own limits.
    function test_setLimits_revertsForController() public {
        AppLimits memory limits = defaultLimits();
        limits.maxPricePerSecond = type(uint96).max;
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotOwner.selector, controller));
        vm.prank(controller);
        vault.setLimits(limits);
    }

    function test_setSpec_updatesSpec() public {
        vm.expectEmit(address(vault));
        emit IAppVault.SpecUpdated(SPEC2);
        vm.prank(appOwner);
        vault.setSpec(SPEC2);
        assertEq(vault.specHash(), SPEC2);
    }

    function test_setSpec_revertsOnZeroOrNonOwner() public {
        vm.expectRevert(IAppVault.VaultZeroSpecHash.selector);
        vm.prank(appOwner);
        vault.setSpec(bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotOwner.selector, controller));
        vm.prank(controller);
        vault.setSpec(SPEC2);
    }

    function test_setConfig_updatesConfig() public {
        vm.expectEmit(address(vault));
        emit IAppVault.ConfigUpdated(CONFIG2);
        vm.prank(appOwner);
        vault.setConfig(CONFIG2);
        assertEq(vault.configHash(), CONFIG2);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotOwner.selector, controller));
        vm.prank(controller);
        vault.setConfig(CONFIG);
    }

    /*//////////////////////////////////////////////////////////////
                                FUNDING
    //////////////////////////////////////////////////////////////*/

    function test_fund_anyoneAddsToTheBalance() public {
        vm.prank(stranger);
        token.approve(address(vault), 5 * TOKEN);
        vm.expectEmit(address(vault));
        emit IAppVault.Funded(stranger, 5 * TOKEN);
        vm.prank(stranger);
        vault.fund(5 * TOKEN);
        assertEq(vault.balance(), FUNDING + 5 * TOKEN);
        assertEq(token.allowance(stranger, address(vault)), 0);
    }

    function test_fund_revertsOnZeroAmount() public {
        vm.expectRevert(IAppVault.VaultZeroAmount.selector);
        vm.prank(stranger);
        vault.fund(0);
    }

    function test_fund_revertsWithoutAllowance() public {
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(vault), 0, TOKEN)
        );
        vm.prank(stranger);
        vault.fund(TOKEN);
    }

    function _permitFor(uint256 key, address who, uint256 value) internal view returns (PermitSignature memory p) {
        p.deadline = block.timestamp + 1 hours;
        (p.v, p.r, p.s) = vm.sign(key, Permits.digest(token, who, address(vault), value, p.deadline));
    }

    function test_fundWithPermit_fundsInOneCall() public {
        (address who, uint256 key) = makeAddrAndKey("permit funder");
        token.mint(who, 10 * TOKEN);
        PermitSignature memory permit = _permitFor(key, who, 10 * TOKEN);
        vm.expectEmit(address(vault));
        emit IAppVault.Funded(who, 10 * TOKEN);
        vm.prank(who);
        vault.fundWithPermit(10 * TOKEN, permit);
        assertEq(vault.balance(), FUNDING + 10 * TOKEN);
        assertEq(token.allowance(who, address(vault)), 0);
    }

    /// @dev Someone submits the permit first: the funding still goes through on the allowance it set.
    function test_fundWithPermit_survivesFrontRunPermit() public {
        (address who, uint256 key) = makeAddrAndKey("permit funder");
        token.mint(who, 10 * TOKEN);
        PermitSignature memory p = _permitFor(key, who, 10 * TOKEN);
        vm.prank(stranger);
        token.permit(who, address(vault), 10 * TOKEN, p.deadline, p.v, p.r, p.s);
        vm.prank(who);
        vault.fundWithPermit(10 * TOKEN, p);
        assertEq(vault.balance(), FUNDING + 10 * TOKEN);
    }

    function test_fundWithPermit_revertsOnBadPermit() public {
        (address who,) = makeAddrAndKey("permit funder");
        (, uint256 wrongKey) = makeAddrAndKey("wrong signer");
        token.mint(who, 10 * TOKEN);
        PermitSignature memory permit = _permitFor(wrongKey, who, 10 * TOKEN);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultPermitFailed.selector, who, 0, 10 * TOKEN));
        vm.prank(who);
        vault.fundWithPermit(10 * TOKEN, permit);
    }

    /*//////////////////////////////////////////////////////////////
                                WITHDRAW
    //////////////////////////////////////////////////////////////*/

    function test_withdraw_ownerTakesFunds() public {
        address to = makeAddr("owner's wallet");
        vm.expectEmit(address(vault));
        emit IAppVault.Withdrawn(to, 3 * TOKEN);
        vm.prank(appOwner);
        vault.withdraw(to, 3 * TOKEN);
        assertEq(token.balanceOf(to), 3 * TOKEN);
        assertEq(vault.balance(), FUNDING - 3 * TOKEN);
    }

    function test_withdraw_wholeBalance() public {
        vm.prank(appOwner);
        vault.withdraw(appOwner, FUNDING);
        assertEq(vault.balance(), 0);
    }

    /// @dev A controller key spends only on leases: it can never take money out.
    function test_withdraw_revertsForController() public {
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotOwner.selector, controller));
        vm.prank(controller);
        vault.withdraw(controller, 1);
    }

    function test_withdraw_revertsOnBadInput() public {
        vm.startPrank(appOwner);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultZeroAddress.selector, "to"));
        vault.withdraw(address(0), 1);
        vm.expectRevert(IAppVault.VaultZeroAmount.selector);
        vault.withdraw(appOwner, 0);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultInsufficientBalance.selector, FUNDING, FUNDING + 1));
        vault.withdraw(appOwner, FUNDING + 1);
        vm.stopPrank();
        assertEq(vault.balance(), FUNDING);
    }

    /*//////////////////////////////////////////////////////////////
                                DISPUTES
    //////////////////////////////////////////////////////////////*/

    function test_openDispute_paysBondFromBalanceAndSlashReturnsToApp() public {
        uint256 leaseId = _fill(0, 1);
        uint256 bond = court.params().disputeBond;
        uint256 before = vault.balance();
        vm.expectEmit(address(court));
        emit IDisputeCourt.DisputeOpened(
            1,
            leaseId,
            address(vault),
            provider,
            bond,
            EVIDENCE,
            uint40(block.timestamp + 2 days),
            uint40(block.timestamp + 7 days)
        );
        vm.prank(appOwner);
        uint256 disputeId = vault.openDispute(leaseId, EVIDENCE);
        assertEq(vault.balance(), before - bond);
        assertEq(token.allowance(address(vault), address(court)), 0, "no standing approval for the court");

        // The arbiter slashes (more than the collateral: capped at it): the collateral and the bond come back into
        // the app's balance.
        uint256 collateral = market.getLease(leaseId).collateral;
        skip(2 days + 1);
        vm.prank(arbiter);
        court.slash(disputeId, 5 * TOKEN);
        assertEq(uint8(court.getDispute(disputeId).status), uint8(DisputeStatus.Slashed));
        assertEq(vault.balance(), before + collateral);
    }

    function test_openDispute_revertsForController() public {
        uint256 leaseId = _fill(0, 1);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotOwner.selector, controller));
        vm.prank(controller);
        vault.openDispute(leaseId, EVIDENCE);
    }

    function test_openDispute_revertsWithoutBond() public {
        uint256 leaseId = _fill(0, 1);
        uint256 left = vault.balance();
        vm.prank(appOwner);
        vault.withdraw(appOwner, left);
        uint256 bond = court.params().disputeBond;
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultInsufficientBalance.selector, 0, bond));
        vm.prank(appOwner);
        vault.openDispute(leaseId, EVIDENCE);
    }

    /// @dev Only leases the vault published: the court refuses others.
    function test_openDispute_revertsOnForeignLease() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 50);
        vm.expectRevert(abi.encodeWithSelector(IDisputeCourt.CourtNotLeasePublisher.selector, leaseId, address(vault)));
        vm.prank(appOwner);
        vault.openDispute(leaseId, EVIDENCE);
    }
}
