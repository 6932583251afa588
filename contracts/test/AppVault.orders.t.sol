// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAppVault} from "../src/interfaces/IAppVault.sol";
import {IPodnetMarket} from "../src/interfaces/IPodnetMarket.sol";
import {LeaseStatus, Order, OrderStatus} from "../src/types/MarketTypes.sol";
import {AppLimits} from "../src/types/VaultTypes.sol";
import {VaultFixture} from "./utils/VaultFixture.sol";

/// @notice The reverse market through the vault: orders for the app's spec, matched only into a slot.
contract AppVaultOrdersTest is VaultFixture {
    uint40 internal constant BID_WINDOW = 1 hours;

    function _vaultOrder(address by, uint96 maxPrice, uint96 deposit) internal returns (uint256 orderId) {
        vm.prank(by);
        orderId = vault.createOrder(
            defaultResources(), maxPrice, deposit, uint40(block.timestamp + BID_WINDOW), _requirements(0, 0)
        );
    }

    /// @dev For expectRevert on one call.
    function orderAs(address by, uint96 maxPrice, uint96 deposit) external returns (uint256) {
        return _vaultOrder(by, maxPrice, deposit);
    }

    /*//////////////////////////////////////////////////////////////
                               CREATEORDER
    //////////////////////////////////////////////////////////////*/

    function test_createOrder_escrowsForTheAppsSpec() public {
        uint256 before = vault.balance();
        vm.expectEmit(address(market));
        emit IPodnetMarket.OrderCreated(
            1,
            address(vault),
            SPEC,
            defaultResources(),
            PRICE,
            DEPOSIT,
            uint40(block.timestamp + BID_WINDOW),
            false,
            _requirements(0, 0)
        );
        uint256 orderId = _vaultOrder(controller, PRICE, DEPOSIT);
        Order memory order = market.getOrder(orderId);
        assertEq(order.publisher, address(vault));
        assertEq(order.specHash, SPEC);
        assertFalse(order.autoAccept, "only the vault may match its orders");
        assertEq(vault.openOrders(), 1);
        assertEq(vault.balance(), before - DEPOSIT);
        assertEq(token.allowance(address(vault), address(market)), 0, "no standing approval");
    }

    function test_createOrder_revertsAboveLimits() public {
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultPriceAboveLimit.selector, MAX_PRICE + 1, MAX_PRICE));
        this.orderAs(controller, MAX_PRICE + 1, DEPOSIT);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultDepositAboveLimit.selector, MAX_DEPOSIT + 1, MAX_DEPOSIT));
        this.orderAs(controller, PRICE, MAX_DEPOSIT + 1);
    }

    function test_createOrder_revertsForStranger() public {
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotController.selector, stranger));
        this.orderAs(stranger, PRICE, DEPOSIT);
    }

    function test_createOrder_revertsWithoutBalance() public {
        vm.prank(appOwner);
        vault.withdraw(appOwner, FUNDING);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultInsufficientBalance.selector, 0, DEPOSIT));
        this.orderAs(controller, PRICE, DEPOSIT);
    }

    /// @dev At most maxInstances orders open at once: a stolen controller key cannot park the balance in orders.
    function test_createOrder_capsOpenOrders() public {
        for (uint256 i; i < MAX_INSTANCES; ++i) {
            _vaultOrder(controller, PRICE, DEPOSIT);
        }
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultTooManyOrders.selector, MAX_INSTANCES, MAX_INSTANCES));
        this.orderAs(controller, PRICE, DEPOSIT);
        vm.prank(controller);
        vault.cancelOrder(1);
        _vaultOrder(controller, PRICE, DEPOSIT);
        assertEq(vault.openOrders(), MAX_INSTANCES);
    }

    /*//////////////////////////////////////////////////////////////
                                ACCEPTBID
    //////////////////////////////////////////////////////////////*/

    function test_acceptBid_placesLeaseIntoSlot() public {
        uint256 orderId = _vaultOrder(controller, PRICE, DEPOSIT);
        _bid(provider, orderId, PRICE / 2);
        uint256 before = vault.balance();
        vm.expectEmit(address(vault));
        emit IAppVault.SlotReplaced(1, 0, 1, controller);
        vm.prank(controller);
        uint256 leaseId = vault.acceptBid(orderId, provider, 1, 0);
        assertEq(vault.leaseOf(1), leaseId);
        assertEq(vault.openOrders(), 0);
        assertEq(vault.balance(), before, "the deposit moved inside the market");
        assertEq(market.getLease(leaseId).publisher, address(vault));
        assertEq(market.getLease(leaseId).balance, DEPOSIT);
    }

    function test_acceptBid_replacesAndClosesOldLease() public {
        uint256 old = _fill(0, 1);
        uint256 orderId = _vaultOrder(controller, PRICE, DEPOSIT);
        _bid(provider2, orderId, PRICE);
        skip(30 minutes);
        uint256 before = vault.balance();
        vm.prank(controller2);
        uint256 leaseId = vault.acceptBid(orderId, provider2, 0, old);
        assertEq(vault.leaseOf(0), leaseId);
        assertEq(uint8(market.getLease(old).status), uint8(LeaseStatus.Closed));
        assertEq(vault.balance(), before + DEPOSIT - uint256(PRICE) * 30 minutes);
    }

    /// @dev Two autoscalers each ordered for slot 0 and race to match: the second reverts and cancels its order.
    function test_acceptBid_raceLeasesOnce() public {
        uint256 first = _vaultOrder(controller, PRICE, DEPOSIT);
        uint256 second = _vaultOrder(controller2, PRICE, DEPOSIT);
        _bid(provider, first, PRICE);
        _bid(provider2, second, PRICE);
        vm.prank(controller);
        uint256 leaseId = vault.acceptBid(first, provider, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultSlotMismatch.selector, 0, 0, leaseId));
        vm.prank(controller2);
        vault.acceptBid(second, provider2, 0, 0);
        assertEq(market.leaseCount(), 1);
        assertEq(vault.openOrders(), 1);

        uint256 before = vault.balance();
        vm.prank(controller2);
        vault.cancelOrder(second);
        assertEq(vault.openOrders(), 0);
        assertEq(vault.balance(), before + DEPOSIT);
    }

    function test_acceptBid_revertsOnChangedSpec() public {
        uint256 orderId = _vaultOrder(controller, PRICE, DEPOSIT);
        _bid(provider, orderId, PRICE);
        vm.prank(appOwner);
        vault.setSpec(SPEC2);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultSpecMismatch.selector, SPEC2, SPEC));
        vm.prank(controller);
        vault.acceptBid(orderId, provider, 0, 0);
    }

    /// @dev Limits lowered after the order: the accept is checked against the limits in force.
    function test_acceptBid_revertsAboveCurrentLimits() public {
        uint256 orderId = _vaultOrder(controller, MAX_PRICE, MAX_DEPOSIT);
        _bid(provider, orderId, MAX_PRICE);
        AppLimits memory limits = defaultLimits();
        limits.maxPricePerSecond = MAX_PRICE - 1;
        vm.prank(appOwner);
        vault.setLimits(limits);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultPriceAboveLimit.selector, MAX_PRICE, MAX_PRICE - 1));
        vm.prank(controller);
        vault.acceptBid(orderId, provider, 0, 0);

        limits = defaultLimits();
        limits.maxDepositPerLease = MAX_DEPOSIT - 1;
        vm.prank(appOwner);
        vault.setLimits(limits);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultDepositAboveLimit.selector, MAX_DEPOSIT, MAX_DEPOSIT - 1));
        vm.prank(controller);
        vault.acceptBid(orderId, provider, 0, 0);
    }

    function test_acceptBid_revertsOnSlotErrors() public {
        uint256 orderId = _vaultOrder(controller, PRICE, DEPOSIT);
        _bid(provider, orderId, PRICE);
        vm.startPrank(controller);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultSlotOutOfRange.selector, 3, MAX_INSTANCES));
        vault.acceptBid(orderId, provider, 3, 0);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultSlotMismatch.selector, 0, 9, 0));
        vault.acceptBid(orderId, provider, 0, 9);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotController.selector, stranger));
        vm.prank(stranger);
        vault.acceptBid(orderId, provider, 0, 0);
    }

    /// @dev Someone else's order cannot be matched into the app's slot (the market checks the publisher).
    function test_acceptBid_revertsOnForeignOrder() public {
        uint256 foreign = _order(PRICE, DEPOSIT, false);
        _bid(provider, foreign, PRICE);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNotOrderPublisher.selector, foreign, address(vault)));
        vm.prank(controller);
        vault.acceptBid(foreign, provider, 0, 0);
    }

    /// @dev Hostile: an order with auto-accept could be matched by anyone with the market's finalizeOrder, outside the
    ///      vault: the app would pay for a lease in no slot, which no autoscaler counts and no CAS protects. The
    ///      vault's orders never auto-accept.
    function test_createOrder_strangerCannotMatchOutsideASlot() public {
        uint256 orderId = _vaultOrder(controller, PRICE, DEPOSIT);
        _bid(provider, orderId, PRICE);
        skip(BID_WINDOW);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketAutoAcceptDisabled.selector, orderId));
        vm.prank(stranger);
        market.finalizeOrder(orderId, _noBidders());
        assertEq(uint8(market.getOrder(orderId).status), uint8(OrderStatus.Open));
    }

    /*//////////////////////////////////////////////////////////////
                               CANCELORDER
    //////////////////////////////////////////////////////////////*/

    function test_cancelOrder_refundsTheApp() public {
        uint256 orderId = _vaultOrder(controller, PRICE, DEPOSIT);
        uint256 before = vault.balance();
        vm.prank(controller2);
        vault.cancelOrder(orderId);
        assertEq(vault.balance(), before + DEPOSIT);
        assertEq(vault.openOrders(), 0);
    }

    function test_cancelOrder_reverts() public {
        uint256 orderId = _vaultOrder(controller, PRICE, DEPOSIT);
        uint256 foreign = _order(PRICE, DEPOSIT, false);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotController.selector, stranger));
        vm.prank(stranger);
        vault.cancelOrder(orderId);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNotOrderPublisher.selector, foreign, address(vault)));
        vm.prank(controller);
        vault.cancelOrder(foreign);
        vm.prank(controller);
        vault.cancelOrder(orderId);
        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketOrderNotOpen.selector, orderId, OrderStatus.Cancelled)
        );
        vm.prank(controller);
        vault.cancelOrder(orderId);
        assertEq(vault.openOrders(), 0);
    }

    /// @dev An expired order still counts until cancelled, and cancelling it refunds the deposit.
    function test_cancelOrder_expiredOrder() public {
        uint256 orderId = _vaultOrder(controller, PRICE, DEPOSIT);
        skip(BID_WINDOW + market.params().acceptWindow);
        assertEq(vault.openOrders(), 1);
        vm.prank(controller);
        vault.cancelOrder(orderId);
        assertEq(vault.openOrders(), 0);
    }
}
