// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAppVault} from "../src/interfaces/IAppVault.sol";
import {IPodnetMarket} from "../src/interfaces/IPodnetMarket.sol";
import {CloseReason, Lease, LeaseStatus, Quote} from "../src/types/MarketTypes.sol";
import {AppLimits} from "../src/types/VaultTypes.sol";
import {VaultFixture} from "./utils/VaultFixture.sol";

/// @notice Instance slots: replaceSlot (compare-and-swap), clearSlot, topUp and updateLeaseSpec, the limits, and the
///         money that comes back to the app (refunds, dark-provider compensation).
contract AppVaultSlotsTest is VaultFixture {
    /*//////////////////////////////////////////////////////////////
                               REPLACESLOT
    //////////////////////////////////////////////////////////////*/

    function test_replaceSlot_fillsEmptySlot() public {
        uint256 before = vault.balance();
        vm.expectEmit(address(vault));
        emit IAppVault.SlotReplaced(0, 0, 1, controller);
        uint256 leaseId = _fill(0, 1);
        assertEq(leaseId, 1);
        assertEq(vault.leaseOf(0), leaseId);
        Lease memory lease = market.getLease(leaseId);
        assertEq(lease.publisher, address(vault), "the vault is the publisher");
        assertEq(lease.provider, provider);
        assertEq(lease.specHash, SPEC);
        assertEq(lease.balance, DEPOSIT);
        assertEq(vault.balance(), before - DEPOSIT);
        assertEq(token.allowance(address(vault), address(market)), 0, "no standing approval");
    }

    function test_replaceSlot_ownerMayFill() public {
        uint256 leaseId = _replace(vault, appOwner, 2, 0, provider, PRICE, DEPOSIT, 1);
        assertEq(vault.leaseOf(2), leaseId);
    }

    /// @dev Replacing an active lease closes it in the same call: its unspent funds come back, exactly.
    function test_replaceSlot_closesOldLeaseAndTakesItsRefund() public {
        uint256 old = _fill(0, 1);
        skip(1 hours);
        uint256 before = vault.balance();
        uint256 refund = DEPOSIT - uint256(PRICE) * 1 hours;
        vm.expectEmit(address(market));
        emit IPodnetMarket.LeaseClosed(
            old,
            address(vault),
            CloseReason.Publisher,
            block.timestamp,
            uint256(PRICE) * 1 hours,
            refund,
            market.getLease(old).collateral,
            block.timestamp + DISPUTE_WINDOW
        );
        vm.expectEmit(address(vault));
        emit IAppVault.SlotReplaced(0, old, old + 1, controller2);
        uint256 replacement = _replace(vault, controller2, 0, old, provider2, PRICE, DEPOSIT, 1);
        assertEq(uint8(market.getLease(old).status), uint8(LeaseStatus.Closed));
        assertEq(vault.leaseOf(0), replacement);
        assertEq(vault.balance(), before + refund - DEPOSIT);
    }

    /// @dev The old lease already ended (the provider closed it): nothing to close, the slot is replaced.
    function test_replaceSlot_oldLeaseAlreadyClosed() public {
        uint256 old = _fill(0, 1);
        skip(1 hours);
        vm.prank(provider);
        market.closeLease(old);
        uint256 before = vault.balance();
        uint256 replacement = _replace(vault, controller, 0, old, provider2, PRICE, DEPOSIT, 1);
        assertEq(vault.leaseOf(0), replacement);
        assertEq(vault.balance(), before - DEPOSIT);
    }

    /// @dev The replacement can be paid from the old lease's refund.
    function test_replaceSlot_paysFromOldRefund() public {
        uint256 old = _fill(0, 1);
        uint256 left = vault.balance();
        vm.prank(appOwner);
        vault.withdraw(appOwner, left);
        skip(1 hours);
        uint96 deposit = DEPOSIT - PRICE * 1 hours;
        _replace(vault, controller, 0, old, provider2, PRICE, deposit, 1);
        assertEq(vault.balance(), 0);
    }

    /// @dev A dark provider's lease: the replacement closes it and the app receives the refund up to darkAt plus its
    ///      share of the slashed collateral.
    function test_replaceSlot_collectsDarkCompensation() public {
        uint256 old = _fill(0, 1);
        uint256 collateral = market.getLease(old).collateral;
        uint256 darkAt = market.stakeOf(provider).lastHeartbeat;
        vm.warp(darkAt + market.params().heartbeatThreshold + 1);
        _heartbeat(provider2);
        vm.prank(stranger);
        market.reportDark(provider);
        uint256 compensation = collateral * market.darkRecord(provider, 0).compensationBps / 10_000;
        uint256 before = vault.balance();
        vm.expectEmit(address(market));
        emit IPodnetMarket.CompensationPaid(old, address(vault), compensation);
        _replace(vault, controller, 0, old, provider2, PRICE, DEPOSIT, 1);
        // The lease accrued only up to darkAt (it started there): everything comes back, plus the compensation.
        assertEq(vault.balance(), before + DEPOSIT + compensation - DEPOSIT);
        assertGt(compensation, 0);
    }

    function test_replaceSlot_revertsForStrangerAndRemovedController() public {
        Quote memory quote = _vaultQuote(vault, provider, PRICE, 1);
        bytes memory signature = _sign(providerKey, quote);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotController.selector, stranger));
        vm.prank(stranger);
        vault.replaceSlot(0, 0, quote, signature, DEPOSIT);

        vm.prank(appOwner);
        vault.setController(controller, false);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotController.selector, controller));
        vm.prank(controller);
        vault.replaceSlot(0, 0, quote, signature, DEPOSIT);
    }

    function test_replaceSlot_revertsOutsideTheSlots() public {
        Quote memory quote = _vaultQuote(vault, provider, PRICE, 1);
        bytes memory signature = _sign(providerKey, quote);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultSlotOutOfRange.selector, MAX_INSTANCES, MAX_INSTANCES));
        vm.prank(controller);
        vault.replaceSlot(MAX_INSTANCES, 0, quote, signature, DEPOSIT);
    }

    function test_replaceSlot_revertsOnStaleExpectation() public {
        uint256 leaseId = _fill(0, 1);
        Quote memory quote = _vaultQuote(vault, provider2, PRICE, 1);
        bytes memory signature = _sign(provider2Key, quote);
        vm.startPrank(controller);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultSlotMismatch.selector, 0, 0, leaseId));
        vault.replaceSlot(0, 0, quote, signature, DEPOSIT);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultSlotMismatch.selector, 1, leaseId, 0));
        vault.replaceSlot(1, leaseId, quote, signature, DEPOSIT);
        vm.stopPrank();
    }

    function test_replaceSlot_revertsOnOtherSpec() public {
        Quote memory quote = _vaultQuote(vault, provider, PRICE, 1);
        quote.specHash = SPEC2;
        bytes memory signature = _sign(providerKey, quote);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultSpecMismatch.selector, SPEC, SPEC2));
        vm.prank(controller);
        vault.replaceSlot(0, 0, quote, signature, DEPOSIT);
    }

    function test_replaceSlot_revertsAboveLimits() public {
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultPriceAboveLimit.selector, MAX_PRICE + 1, MAX_PRICE));
        this.replaceAs(controller, 0, 0, provider, MAX_PRICE + 1, DEPOSIT, 1);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultDepositAboveLimit.selector, MAX_DEPOSIT + 1, MAX_DEPOSIT));
        this.replaceAs(controller, 0, 0, provider, PRICE, MAX_DEPOSIT + 1, 1);
        // Exactly at the limits is fine.
        this.replaceAs(controller, 0, 0, provider, MAX_PRICE, MAX_DEPOSIT, 1);
    }

    function test_replaceSlot_revertsWithoutBalance() public {
        vm.prank(appOwner);
        vault.withdraw(appOwner, FUNDING - DEPOSIT + 1);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultInsufficientBalance.selector, DEPOSIT - 1, DEPOSIT));
        this.replaceAs(controller, 0, 0, provider, PRICE, DEPOSIT, 1);
    }

    /// @dev The quote must name the vault (or nobody): a quote made out to someone else is refused by the market.
    function test_replaceSlot_revertsOnQuoteForAnotherPublisher() public {
        Quote memory quote = _quote(provider, PRICE, 1);
        bytes memory signature = _sign(providerKey, quote);
        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketQuoteWrongPublisher.selector, publisher, address(vault))
        );
        vm.prank(controller);
        vault.replaceSlot(0, 0, quote, signature, DEPOSIT);
    }

    /// @dev A failing lease leaves everything as it was: the old lease is not closed, the slot keeps it.
    function test_replaceSlot_failedLeaseClosesNothing() public {
        uint256 old = _fill(0, 1);
        uint256 before = vault.balance();
        Quote memory quote = _vaultQuote(vault, provider2, PRICE, 1);
        bytes memory badSignature = _sign(providerKey, quote); // not provider2's
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketInvalidQuoteSignature.selector, provider2));
        vm.prank(controller);
        vault.replaceSlot(0, old, quote, badSignature, DEPOSIT);
        assertEq(uint8(market.getLease(old).status), uint8(LeaseStatus.Active));
        assertEq(vault.leaseOf(0), old);
        assertEq(vault.balance(), before);
    }

    /*//////////////////////////////////////////////////////////////
                           RACES (COMPARE-AND-SWAP)
    //////////////////////////////////////////////////////////////*/

    /// @dev Two autoscalers see slot 0 empty and both try to fill it: the second reverts, one lease exists.
    function test_replaceSlot_raceToFillLeasesOnce() public {
        uint256 first = _replace(vault, controller, 0, 0, provider, PRICE, DEPOSIT, 1);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultSlotMismatch.selector, 0, 0, first));
        this.replaceAs(controller2, 0, 0, provider2, PRICE, DEPOSIT, 1);
        assertEq(market.leaseCount(), 1);
        assertEq(vault.leaseOf(0), first);
    }

    /// @dev Both see the same dead lease and race to replace it: one replacement, the dead lease closed once.
    function test_replaceSlot_raceToReplaceLeasesOnce() public {
        uint256 dead = _fill(0, 1);
        skip(1 hours);
        uint256 replacement = _replace(vault, controller, 0, dead, provider2, PRICE, DEPOSIT, 1);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultSlotMismatch.selector, 0, dead, replacement));
        this.replaceAs(controller2, 0, dead, provider2, PRICE, DEPOSIT, 2);
        assertEq(market.leaseCount(), 2);
        assertEq(vault.leaseOf(0), replacement);
    }

    /// @dev Different slots do not interfere: two autoscalers filling slots 0 and 1 both succeed.
    function test_replaceSlot_differentSlotsDoNotRace() public {
        _replace(vault, controller, 0, 0, provider, PRICE, DEPOSIT, 1);
        _replace(vault, controller2, 1, 0, provider2, PRICE, DEPOSIT, 1);
        assertEq(vault.leaseOf(0), 1);
        assertEq(vault.leaseOf(1), 2);
    }

    /// @dev For expectRevert on one call: the helper's own pranks and signing happen before the measured call.
    function replaceAs(
        address by,
        uint256 slot,
        uint256 expected,
        address quoteProvider,
        uint96 price,
        uint96 deposit,
        uint256 nonce
    ) external returns (uint256) {
        return _replace(vault, by, slot, expected, quoteProvider, price, deposit, nonce);
    }

    /*//////////////////////////////////////////////////////////////
                                 FUZZ
    //////////////////////////////////////////////////////////////*/

    /// @dev Any price and deposit: the lease starts iff both are within the limits (and the market's minimum
    ///      deposit holds); otherwise the vault names the limit and nothing moves.
    function test_fuzz_replaceSlot_enforcesLimits(uint96 price, uint96 deposit, uint96 maxPrice, uint96 maxDeposit)
        public
    {
        price = uint96(bound(price, 1, 10 * PRICE));
        maxPrice = uint96(bound(maxPrice, 1, 10 * PRICE));
        maxDeposit = uint96(bound(maxDeposit, 0, 50 * uint256(DEPOSIT)));
        // At least the market's minimum (an hour at the price), at most the vault's balance.
        deposit = uint96(bound(deposit, uint256(price) * 1 hours, 50 * uint256(DEPOSIT)));
        vm.prank(appOwner);
        vault.setLimits(AppLimits({maxPricePerSecond: maxPrice, maxDepositPerLease: maxDeposit, maxInstances: 1}));
        uint256 before = vault.balance();

        bytes memory refusal;
        if (price > maxPrice) {
            refusal = abi.encodeWithSelector(IAppVault.VaultPriceAboveLimit.selector, price, maxPrice);
        } else if (deposit > maxDeposit) {
            refusal = abi.encodeWithSelector(IAppVault.VaultDepositAboveLimit.selector, deposit, maxDeposit);
        }
        if (refusal.length != 0) {
            vm.expectRevert(refusal);
            this.replaceAs(controller, 0, 0, provider, price, deposit, 1);
            assertEq(vault.balance(), before);
            assertEq(vault.leaseOf(0), 0);
        } else {
            uint256 leaseId = this.replaceAs(controller, 0, 0, provider, price, deposit, 1);
            assertEq(market.getLease(leaseId).balance, deposit);
            assertEq(vault.balance(), before - deposit);
        }
    }

    /*//////////////////////////////////////////////////////////////
                                CLEARSLOT
    //////////////////////////////////////////////////////////////*/

    function test_clearSlot_emptiesAndRefunds() public {
        uint256 leaseId = _fill(1, 1);
        skip(2 hours);
        uint256 before = vault.balance();
        vm.expectEmit(address(vault));
        emit IAppVault.SlotCleared(1, leaseId, controller);
        vm.prank(controller);
        vault.clearSlot(1, leaseId);
        assertEq(vault.leaseOf(1), 0);
        assertEq(uint8(market.getLease(leaseId).status), uint8(LeaseStatus.Closed));
        assertEq(vault.balance(), before + DEPOSIT - uint256(PRICE) * 2 hours);
    }

    function test_clearSlot_closedLeaseJustEmpties() public {
        uint256 leaseId = _fill(0, 1);
        vm.prank(provider);
        market.closeLease(leaseId);
        uint256 before = vault.balance();
        vm.prank(controller);
        vault.clearSlot(0, leaseId);
        assertEq(vault.leaseOf(0), 0);
        assertEq(vault.balance(), before);
    }

    /// @dev After the owner lowers maxInstances, the slots above it can still be cleared (not refilled).
    function test_clearSlot_worksAboveLoweredMaxInstances() public {
        uint256 leaseId = _fill(2, 1);
        AppLimits memory limits = defaultLimits();
        limits.maxInstances = 1;
        vm.prank(appOwner);
        vault.setLimits(limits);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultSlotOutOfRange.selector, 2, 1));
        this.replaceAs(controller, 2, leaseId, provider2, PRICE, DEPOSIT, 1);
        vm.prank(controller);
        vault.clearSlot(2, leaseId);
        assertEq(vault.leaseOf(2), 0);
    }

    function test_clearSlot_reverts() public {
        uint256 leaseId = _fill(0, 1);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultSlotEmpty.selector, 1));
        vm.prank(controller);
        vault.clearSlot(1, 0);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultSlotMismatch.selector, 0, leaseId + 1, leaseId));
        vm.prank(controller);
        vault.clearSlot(0, leaseId + 1);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotController.selector, stranger));
        vm.prank(stranger);
        vault.clearSlot(0, leaseId);
        assertEq(vault.leaseOf(0), leaseId);
    }

    /*//////////////////////////////////////////////////////////////
                                 TOPUP
    //////////////////////////////////////////////////////////////*/

    function test_topUp_paysTheSlotsLease() public {
        uint256 leaseId = _fill(0, 1);
        uint256 before = vault.balance();
        vm.expectEmit(address(market));
        emit IPodnetMarket.LeaseToppedUp(leaseId, address(vault), PRICE * 1 hours, DEPOSIT + PRICE * 1 hours);
        vm.prank(controller);
        vault.topUp(0, leaseId, PRICE * 1 hours);
        assertEq(market.getLease(leaseId).balance, DEPOSIT + PRICE * 1 hours);
        assertEq(vault.balance(), before - PRICE * 1 hours);
        assertEq(token.allowance(address(vault), address(market)), 0, "no standing approval");
    }

    /// @dev The cap counts unspent funds only: a provider that has not withdrawn what it earned does not block a
    ///      top-up of a lease that is running low. Exactly up to the cap passes, one more unit does not.
    function test_topUp_capsUnspentEscrowNotEarnings() public {
        uint256 leaseId = _fill(0, 1);
        skip(20 hours);
        uint96 unspent = DEPOSIT - PRICE * 20 hours;
        uint96 room = MAX_DEPOSIT - unspent;
        vm.expectRevert(
            abi.encodeWithSelector(IAppVault.VaultEscrowAboveLimit.selector, leaseId, MAX_DEPOSIT + 1, MAX_DEPOSIT)
        );
        vm.prank(controller);
        vault.topUp(0, leaseId, room + 1);
        vm.prank(controller);
        vault.topUp(0, leaseId, room);
        (uint256 earned,) = market.withdrawable(leaseId);
        assertEq(market.getLease(leaseId).balance - earned, MAX_DEPOSIT);
    }

    function test_topUp_revertsOnLeaseNotInSlot() public {
        uint256 leaseId = _fill(0, 1);
        uint256 foreign = _lease(PRICE, DEPOSIT, 60);
        vm.startPrank(controller);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultSlotMismatch.selector, 0, foreign, leaseId));
        vault.topUp(0, foreign, PRICE);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultSlotMismatch.selector, 1, leaseId, 0));
        vault.topUp(1, leaseId, PRICE);
        vm.stopPrank();
    }

    function test_topUp_revertsForStranger() public {
        uint256 leaseId = _fill(0, 1);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotController.selector, stranger));
        vm.prank(stranger);
        vault.topUp(0, leaseId, PRICE);
    }

    function test_topUp_revertsWithoutBalance() public {
        uint256 leaseId = _fill(0, 1);
        uint256 left = vault.balance();
        vm.prank(appOwner);
        vault.withdraw(appOwner, left);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultInsufficientBalance.selector, 0, PRICE));
        vm.prank(controller);
        vault.topUp(0, leaseId, PRICE);
    }

    function test_topUp_revertsOnExhaustedLease() public {
        uint256 leaseId = _fill(0, 1);
        skip(1 days);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketLeaseOutOfFunds.selector, leaseId, block.timestamp));
        vm.prank(controller);
        vault.topUp(0, leaseId, PRICE);
    }

    function test_fuzz_topUp_capsUnspent(uint256 elapsed, uint96 amount) public {
        uint256 leaseId = _fill(0, 1);
        elapsed = bound(elapsed, 0, 1 days - 1);
        skip(elapsed);
        uint256 unspent = DEPOSIT - uint256(PRICE) * elapsed;
        amount = uint96(bound(amount, 1, 3 * uint256(DEPOSIT)));
        uint256 before = vault.balance();
        if (unspent + amount > MAX_DEPOSIT) {
            vm.expectRevert(
                abi.encodeWithSelector(IAppVault.VaultEscrowAboveLimit.selector, leaseId, unspent + amount, MAX_DEPOSIT)
            );
            vm.prank(controller);
            vault.topUp(0, leaseId, amount);
            assertEq(vault.balance(), before);
        } else {
            vm.prank(controller);
            vault.topUp(0, leaseId, amount);
            assertEq(vault.balance(), before - amount);
        }
    }

    /*//////////////////////////////////////////////////////////////
                             UPDATELEASESPEC
    //////////////////////////////////////////////////////////////*/

    function test_updateLeaseSpec_pointsLeaseAtCurrentSpec() public {
        uint256 leaseId = _fill(0, 1);
        vm.prank(appOwner);
        vault.setSpec(SPEC2);
        vm.expectEmit(address(market));
        emit IPodnetMarket.LeaseSpecUpdated(leaseId, SPEC2);
        vm.prank(controller);
        vault.updateLeaseSpec(0, leaseId);
        assertEq(market.getLease(leaseId).specHash, SPEC2);
    }

    function test_updateLeaseSpec_reverts() public {
        uint256 leaseId = _fill(0, 1);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultSlotMismatch.selector, 1, leaseId, 0));
        vm.prank(controller);
        vault.updateLeaseSpec(1, leaseId);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotController.selector, stranger));
        vm.prank(stranger);
        vault.updateLeaseSpec(0, leaseId);
    }
}
