// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPodnetMarket} from "../src/interfaces/IPodnetMarket.sol";
import {
    Bid,
    BidStatus,
    CloseReason,
    Lease,
    LeaseStatus,
    MarketParams,
    Order,
    OrderStatus,
    Requirements,
    Resources,
    Stake
} from "../src/types/MarketTypes.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";

/// @notice The reverse market: orders, bids, matching, cancellation and bid release.
contract PodnetMarketOrderTest is MarketFixture {
    uint256 internal constant STAKE = 1000 * TOKEN;
    uint96 internal constant MAX_PRICE = 2 * PRICE;
    bytes32 internal constant GPU_A100 = "gpu=a100";

    address internal provider3;
    uint256 internal provider3Key;

    function setUp() public override {
        super.setUp();
        _onboard(provider, STAKE);
        _onboard(provider2, STAKE);
    }

    /*//////////////////////////////////////////////////////////////
                                HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev What a bid at `price` on an order at MAX_PRICE reserves: at least the collateral of a bid at
    ///      minBidCollateralBps of the maximum.
    function _reservation(uint96 price) internal view returns (uint96) {
        uint96 floor = uint96(uint256(MAX_PRICE) * market.params().minBidCollateralBps / 10_000);
        return (price > floor ? price : floor) * market.params().collateralSeconds;
    }

    function _deadline() internal view returns (uint40) {
        return uint40(block.timestamp + 1 hours);
    }

    /// @dev `publisher` orders SPEC with a one-hour bid window and custom requirements.
    function _orderWith(Requirements memory requirements, bool autoAccept) internal returns (uint256 orderId) {
        vm.prank(publisher);
        orderId =
            market.createOrder(SPEC, defaultResources(), MAX_PRICE, DEPOSIT, _deadline(), requirements, autoAccept);
    }

    function _setParams(MarketParams memory p) internal {
        vm.prank(admin);
        market.setParams(p);
    }

    function _onboardProvider3(uint256 amount) internal {
        (provider3, provider3Key) = makeAddrAndKey("provider3");
        _onboard(provider3, amount);
    }

    function _assertStake(address who, uint256 free, uint256 locked) internal view {
        Stake memory s = market.stakeOf(who);
        assertEq(s.free, free, "free stake");
        assertEq(s.locked, locked, "locked stake");
    }

    function _expiry(uint256 orderId) internal view returns (uint256) {
        Order memory order = market.getOrder(orderId);
        return uint256(order.bidDeadline) + order.acceptWindow;
    }

    /*//////////////////////////////////////////////////////////////
                              CREATE ORDER
    //////////////////////////////////////////////////////////////*/

    function test_createOrder_storesOrder() public {
        uint40 deadline = _deadline();
        uint256 orderId = _orderWith(_requirements(uint128(200 * TOKEN), REGION_EU), true);

        assertEq(orderId, 1);
        assertEq(market.orderCount(), 1);
        Order memory order = market.getOrder(orderId);
        assertEq(order.publisher, publisher);
        assertEq(order.bidDeadline, deadline);
        assertEq(uint8(order.status), uint8(OrderStatus.Open));
        assertTrue(order.autoAccept);
        assertEq(order.bidCount, 0);
        assertEq(order.bestBidder, address(0));
        assertEq(order.bestPrice, 0);
        assertEq(order.maxPricePerSecond, MAX_PRICE);
        assertEq(order.deposit, DEPOSIT);
        assertEq(order.leaseId, 0);
        assertEq(order.resources.cpuMillis, defaultResources().cpuMillis);
        assertEq(order.resources.memoryMiB, defaultResources().memoryMiB);
        assertEq(order.resources.storageMiB, defaultResources().storageMiB);
        assertEq(order.minStake, 200 * TOKEN);
        assertEq(order.specHash, SPEC);

        bytes32[] memory attributes = market.orderAttributes(orderId);
        assertEq(attributes.length, 1);
        assertEq(attributes[0], REGION_EU);
    }

    function test_createOrder_movesDepositIntoMarket() public {
        uint256 publisherBefore = token.balanceOf(publisher);
        uint256 marketBefore = token.balanceOf(address(market));

        _order(MAX_PRICE, DEPOSIT, true);

        assertEq(token.balanceOf(publisher), publisherBefore - DEPOSIT);
        assertEq(token.balanceOf(address(market)), marketBefore + DEPOSIT);
    }

    function test_createOrder_emitsOrderCreated() public {
        uint40 deadline = _deadline();
        Requirements memory requirements = _requirements(uint128(200 * TOKEN), REGION_EU);

        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.OrderCreated(
            1, publisher, SPEC, defaultResources(), MAX_PRICE, DEPOSIT, deadline, false, requirements
        );
        vm.prank(publisher);
        market.createOrder(SPEC, defaultResources(), MAX_PRICE, DEPOSIT, deadline, requirements, false);
    }

    function test_createOrder_withoutAttributes() public {
        uint256 orderId = _orderWith(_requirements(0, bytes32(0)), false);

        assertEq(market.orderAttributes(orderId).length, 0);
        assertFalse(market.getOrder(orderId).autoAccept);
    }

    function test_createOrder_idsIncrement() public {
        uint256 first = _order(MAX_PRICE, DEPOSIT, true);
        uint256 second = _order(MAX_PRICE, DEPOSIT, true);

        assertEq(first, 1);
        assertEq(second, 2);
        assertEq(market.orderCount(), 2);
    }

    function test_createOrder_acceptsDepositOfExactlyMinimum() public {
        uint96 minimum = MAX_PRICE * market.params().minLeaseDuration;
        uint256 orderId = _order(MAX_PRICE, minimum, true);

        assertEq(market.getOrder(orderId).deposit, minimum);
    }

    function test_createOrder_acceptsDeadlineAtLatest() public {
        uint40 latest = uint40(block.timestamp + market.params().maxBidWindow);
        vm.prank(publisher);
        uint256 orderId =
            market.createOrder(SPEC, defaultResources(), MAX_PRICE, DEPOSIT, latest, _requirements(0, REGION_EU), true);

        assertEq(market.getOrder(orderId).bidDeadline, latest);
    }

    function test_createOrder_accepts16Attributes() public {
        bytes32[] memory attributes = new bytes32[](16);
        for (uint256 i; i < 16; ++i) {
            attributes[i] = bytes32(i + 1);
        }
        uint256 orderId = _orderWith(Requirements({minStake: 0, attributes: attributes}), true);

        assertEq(market.orderAttributes(orderId), attributes);
    }

    function test_createOrder_revertsWhenSpecHashZero() public {
        vm.expectRevert(IPodnetMarket.MarketZeroSpecHash.selector);
        vm.prank(publisher);
        market.createOrder(
            bytes32(0), defaultResources(), MAX_PRICE, DEPOSIT, _deadline(), _requirements(0, REGION_EU), true
        );
    }

    function test_createOrder_revertsWhenCpuZero() public {
        Resources memory resources = defaultResources();
        resources.cpuMillis = 0;

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketInvalidResources.selector, resources));
        vm.prank(publisher);
        market.createOrder(SPEC, resources, MAX_PRICE, DEPOSIT, _deadline(), _requirements(0, REGION_EU), true);
    }

    function test_createOrder_revertsWhenMemoryZero() public {
        Resources memory resources = defaultResources();
        resources.memoryMiB = 0;

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketInvalidResources.selector, resources));
        vm.prank(publisher);
        market.createOrder(SPEC, resources, MAX_PRICE, DEPOSIT, _deadline(), _requirements(0, REGION_EU), true);
    }

    function test_createOrder_revertsWhenMaxPriceZero() public {
        vm.expectRevert(IPodnetMarket.MarketZeroPrice.selector);
        _order(0, DEPOSIT, true);
    }

    function test_createOrder_revertsWhenDepositZero() public {
        vm.expectRevert(IPodnetMarket.MarketZeroAmount.selector);
        _order(MAX_PRICE, 0, true);
    }

    function test_createOrder_revertsWhenDepositBelowMinimum() public {
        uint256 minimum = uint256(MAX_PRICE) * market.params().minLeaseDuration;

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketDepositTooLow.selector, minimum - 1, minimum));
        _order(MAX_PRICE, uint96(minimum - 1), true);
    }

    function test_createOrder_revertsWhenDeadlineIsNow() public {
        uint40 deadline = uint40(block.timestamp);
        uint256 latest = block.timestamp + market.params().maxBidWindow;

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketInvalidBidDeadline.selector, deadline, latest));
        vm.prank(publisher);
        market.createOrder(SPEC, defaultResources(), MAX_PRICE, DEPOSIT, deadline, _requirements(0, REGION_EU), true);
    }

    function test_createOrder_revertsWhenDeadlineInPast() public {
        uint40 deadline = uint40(block.timestamp - 1);
        uint256 latest = block.timestamp + market.params().maxBidWindow;

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketInvalidBidDeadline.selector, deadline, latest));
        vm.prank(publisher);
        market.createOrder(SPEC, defaultResources(), MAX_PRICE, DEPOSIT, deadline, _requirements(0, REGION_EU), true);
    }

    function test_createOrder_revertsWhenDeadlineBeyondMaxBidWindow() public {
        uint256 latest = block.timestamp + market.params().maxBidWindow;
        uint40 deadline = uint40(latest + 1);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketInvalidBidDeadline.selector, deadline, latest));
        vm.prank(publisher);
        market.createOrder(SPEC, defaultResources(), MAX_PRICE, DEPOSIT, deadline, _requirements(0, REGION_EU), true);
    }

    function test_createOrder_revertsWhenTooManyAttributes() public {
        bytes32[] memory attributes = new bytes32[](17);
        for (uint256 i; i < 17; ++i) {
            attributes[i] = bytes32(i + 1);
        }
        Requirements memory requirements = Requirements({minStake: 0, attributes: attributes});

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketTooManyAttributes.selector, 17, 16));
        vm.prank(publisher);
        market.createOrder(SPEC, defaultResources(), MAX_PRICE, DEPOSIT, _deadline(), requirements, true);
    }

    /*//////////////////////////////////////////////////////////////
                               PLACE BID
    //////////////////////////////////////////////////////////////*/

    function test_placeBid_reservesStake() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        uint96 reserved = _reservation(PRICE);
        uint256 marketBefore = token.balanceOf(address(market));

        _bid(provider, orderId, PRICE);

        _assertStake(provider, STAKE - reserved, reserved);
        assertEq(token.balanceOf(address(market)), marketBefore, "no tokens move");
    }

    function test_placeBid_storesBid() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        skip(10 minutes);

        _bid(provider, orderId, PRICE);

        Bid memory bid = market.getBid(orderId, provider);
        assertEq(bid.pricePerSecond, PRICE);
        assertEq(bid.reserved, uint256(PRICE) * 1 days);
        assertEq(bid.placedAt, block.timestamp);
        assertEq(uint8(bid.status), uint8(BidStatus.Active));

        Order memory order = market.getOrder(orderId);
        assertEq(order.bidCount, 1);
        assertEq(order.bestBidder, provider);
        assertEq(order.bestPrice, PRICE);
    }

    function test_placeBid_emitsBidPlaced() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        uint96 reserved = _reservation(PRICE);

        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.BidPlaced(orderId, provider, PRICE, reserved);
        _bid(provider, orderId, PRICE);
    }

    function test_placeBid_lowerBidBecomesBest() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);

        _bid(provider, orderId, PRICE);
        _bid(provider2, orderId, PRICE - 1);

        Order memory order = market.getOrder(orderId);
        assertEq(order.bidCount, 2);
        assertEq(order.bestBidder, provider2);
        assertEq(order.bestPrice, PRICE - 1);
    }

    function test_placeBid_higherBidDoesNotReplaceBest() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);

        _bid(provider, orderId, PRICE);
        _bid(provider2, orderId, PRICE + 1);

        Order memory order = market.getOrder(orderId);
        assertEq(order.bidCount, 2);
        assertEq(order.bestBidder, provider);
        assertEq(order.bestPrice, PRICE);
    }

    function test_placeBid_equalBidDoesNotReplaceBest() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);

        _bid(provider, orderId, PRICE);
        skip(1);
        _bid(provider2, orderId, PRICE);

        Order memory order = market.getOrder(orderId);
        assertEq(order.bidCount, 2);
        assertEq(order.bestBidder, provider);
        assertEq(order.bestPrice, PRICE);
    }

    function test_placeBid_acceptsMaxPrice() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);

        _bid(provider, orderId, MAX_PRICE);

        assertEq(market.getBid(orderId, provider).pricePerSecond, MAX_PRICE);
    }

    function test_placeBid_worksOneSecondBeforeDeadline() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        vm.warp(market.getOrder(orderId).bidDeadline - 1);

        _bid(provider, orderId, PRICE);

        assertEq(uint8(market.getBid(orderId, provider).status), uint8(BidStatus.Active));
    }

    function test_placeBid_countsLockedStakeAsBonded() public {
        // provider3 has exactly the minimum bonded; after one bid part of it is locked, yet it may still bid.
        _onboardProvider3(100 * TOKEN);
        uint256 first = _order(MAX_PRICE, DEPOSIT, true);
        uint256 second = _order(MAX_PRICE, DEPOSIT, true);

        _bid(provider3, first, PRICE);
        _bid(provider3, second, PRICE);

        uint96 reserved = _reservation(PRICE);
        _assertStake(provider3, 100 * TOKEN - 2 * uint256(reserved), 2 * uint256(reserved));
    }

    function test_placeBid_revertsWhenOrderNotFound() public {
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketOrderNotFound.selector, 99));
        _bid(provider, 99, PRICE);
    }

    function test_placeBid_revertsWhenOrderMatched() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        vm.prank(publisher);
        market.acceptBid(orderId, provider);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketOrderNotOpen.selector, orderId, OrderStatus.Matched));
        _bid(provider2, orderId, PRICE);
    }

    function test_placeBid_revertsWhenOrderCancelled() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        vm.prank(publisher);
        market.cancelOrder(orderId);

        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketOrderNotOpen.selector, orderId, OrderStatus.Cancelled)
        );
        _bid(provider, orderId, PRICE);
    }

    function test_placeBid_revertsWhenBiddingClosed() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        uint40 deadline = market.getOrder(orderId).bidDeadline;
        vm.warp(deadline);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBiddingClosed.selector, orderId, deadline));
        _bid(provider, orderId, PRICE);
    }

    function test_placeBid_revertsWhenPriceZero() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);

        vm.expectRevert(IPodnetMarket.MarketZeroPrice.selector);
        _bid(provider, orderId, 0);
    }

    function test_placeBid_revertsWhenPriceAboveMax() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBidAboveMax.selector, MAX_PRICE + 1, MAX_PRICE));
        _bid(provider, orderId, MAX_PRICE + 1);
    }

    function test_placeBid_revertsWhenAlreadyBid() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketAlreadyBid.selector, orderId, provider));
        _bid(provider, orderId, PRICE - 1);
    }

    function test_placeBid_revertsWhenProviderPaused() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        vm.prank(provider);
        registry.pause();

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderNotActive.selector, provider));
        _bid(provider, orderId, PRICE);
    }

    function test_placeBid_revertsWhenProviderNotRegistered() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderNotActive.selector, stranger));
        _bid(stranger, orderId, PRICE);
    }

    function test_placeBid_revertsWhenStakeBelowOrderMinimum() public {
        uint128 minStake = uint128(STAKE + 1);
        uint256 orderId = _orderWith(_requirements(minStake, REGION_EU), true);

        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketStakeBelowMinimum.selector, provider, STAKE, minStake)
        );
        _bid(provider, orderId, PRICE);
    }

    function test_placeBid_revertsWhenStakeBelowProviderMinimum() public {
        // The order asks for less than the market's minimum: the market's minimum applies.
        _onboardProvider3(100 * TOKEN - 1);
        uint256 orderId = _orderWith(_requirements(uint128(10 * TOKEN), REGION_EU), true);

        vm.expectRevert(
            abi.encodeWithSelector(
                IPodnetMarket.MarketStakeBelowMinimum.selector, provider3, 100 * TOKEN - 1, 100 * TOKEN
            )
        );
        _bid(provider3, orderId, PRICE);
    }

    function test_placeBid_revertsWhenFreeStakeBelowReservation() public {
        // 100 TOKEN bonded meets the minimum but does not cover one day of collateral at 2e15 per second.
        _onboardProvider3(100 * TOKEN);
        uint96 price = 2e15;
        vm.prank(publisher);
        uint256 orderId = market.createOrder(
            SPEC, defaultResources(), price, price * 1 days, _deadline(), _requirements(0, REGION_EU), true
        );

        vm.expectRevert(
            abi.encodeWithSelector(
                IPodnetMarket.MarketInsufficientFreeStake.selector, provider3, 100 * TOKEN, uint256(price) * 1 days
            )
        );
        _bid(provider3, orderId, price);
    }

    function test_placeBid_revertsWhenAttributeMissing() public {
        bytes32[] memory attributes = new bytes32[](3);
        attributes[0] = REGION_EU;
        attributes[1] = GPU_A100;
        attributes[2] = "gpu=h100";
        uint256 orderId = _orderWith(Requirements({minStake: 0, attributes: attributes}), true);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketMissingAttribute.selector, provider, GPU_A100));
        _bid(provider, orderId, PRICE);
    }

    /*//////////////////////////////////////////////////////////////
                               ACCEPT BID
    //////////////////////////////////////////////////////////////*/

    function test_acceptBid_createsLeaseFromBid() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE - 1);
        _bid(provider2, orderId, PRICE);
        uint96 reserved = _reservation(PRICE);
        uint256 marketBefore = token.balanceOf(address(market));
        skip(5 minutes);

        // Before the deadline, and not the best bid: the publisher may pick any active bid.
        vm.prank(publisher);
        uint256 leaseId = market.acceptBid(orderId, provider2);

        assertEq(leaseId, 1);
        assertEq(market.leaseCount(), 1);
        Lease memory lease = market.getLease(leaseId);
        assertEq(lease.publisher, publisher);
        assertEq(lease.provider, provider2);
        assertEq(lease.pricePerSecond, PRICE);
        assertEq(lease.balance, DEPOSIT);
        assertEq(lease.collateral, reserved);
        assertEq(lease.startedAt, block.timestamp);
        assertEq(lease.settledAt, block.timestamp);
        assertEq(lease.endedAt, 0);
        assertEq(uint8(lease.status), uint8(LeaseStatus.Active));
        assertEq(lease.specHash, SPEC);

        Order memory order = market.getOrder(orderId);
        assertEq(uint8(order.status), uint8(OrderStatus.Matched));
        assertEq(order.leaseId, leaseId);
        assertEq(uint8(market.getBid(orderId, provider2).status), uint8(BidStatus.Won));
        assertEq(uint8(market.getBid(orderId, provider).status), uint8(BidStatus.Active));

        // The reservation became the collateral: the winner's stake totals do not change.
        _assertStake(provider2, STAKE - reserved, reserved);
        assertEq(token.balanceOf(address(market)), marketBefore, "deposit stays in the market");
    }

    function test_acceptBid_emitsLeaseCreatedAndOrderMatched() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE);
        uint96 reserved = _reservation(PRICE);

        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.LeaseCreated(
            1, publisher, provider, orderId, SPEC, defaultResources(), PRICE, DEPOSIT, reserved, bytes32(0)
        );
        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.OrderMatched(orderId, provider, 1, PRICE, publisher);
        vm.prank(publisher);
        market.acceptBid(orderId, provider);
    }

    function test_acceptBid_revertsWhenWinnerSilent() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE);
        uint256 lastHeartbeat = market.stakeOf(provider).lastHeartbeat;
        vm.warp(lastHeartbeat + market.params().heartbeatThreshold + 1);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketProviderSilent.selector, provider, lastHeartbeat));
        vm.prank(publisher);
        market.acceptBid(orderId, provider);
    }

    function test_acceptBid_worksExactlyAtHeartbeatThreshold() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE);
        vm.warp(market.stakeOf(provider).lastHeartbeat + market.params().heartbeatThreshold);

        vm.prank(publisher);
        uint256 leaseId = market.acceptBid(orderId, provider);
        assertEq(market.getLease(leaseId).provider, provider);
    }

    function test_acceptBid_worksOneSecondBeforeExpiry() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE);
        vm.warp(_expiry(orderId) - 1);
        _heartbeat(provider);

        vm.prank(publisher);
        uint256 leaseId = market.acceptBid(orderId, provider);

        assertEq(market.getOrder(orderId).leaseId, leaseId);
    }

    function test_acceptBid_revertsWhenNotPublisher() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNotOrderPublisher.selector, orderId, stranger));
        vm.prank(stranger);
        market.acceptBid(orderId, provider);
    }

    function test_acceptBid_revertsWhenProviderDidNotBid() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBidNotFound.selector, orderId, provider2));
        vm.prank(publisher);
        market.acceptBid(orderId, provider2);
    }

    function test_acceptBid_revertsWhenOrderNotFound() public {
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketOrderNotFound.selector, 7));
        vm.prank(publisher);
        market.acceptBid(7, provider);
    }

    function test_acceptBid_revertsWhenOrderExpired() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE);
        uint256 expiry = _expiry(orderId);
        vm.warp(expiry);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketOrderExpired.selector, orderId, expiry));
        vm.prank(publisher);
        market.acceptBid(orderId, provider);
    }

    function test_acceptBid_expiryIgnoresLaterAcceptWindowChange() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE);
        uint256 expiry = _expiry(orderId);
        assertEq(market.getOrder(orderId).acceptWindow, market.params().acceptWindow, "accept window kept");

        MarketParams memory p = defaultParams();
        p.acceptWindow = 30 days;
        _setParams(p);
        vm.warp(expiry);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketOrderExpired.selector, orderId, expiry));
        vm.prank(publisher);
        market.acceptBid(orderId, provider);
        // The bid is releasable at the order's own expiry, whatever governance set since.
        market.releaseBid(orderId, provider);
        assertEq(uint8(market.getBid(orderId, provider).status), uint8(BidStatus.Released));
    }

    function test_finalizeOrder_bidStaysBindingAfterProviderPauses() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        vm.prank(provider);
        registry.pause();
        vm.warp(market.getOrder(orderId).bidDeadline);

        uint256 leaseId = market.finalizeOrder(orderId, _noBidders());
        assertEq(market.getLease(leaseId).provider, provider);
        assertEq(market.getLease(leaseId).collateral, _reservation(PRICE));
    }

    function test_acceptBid_bidStaysBindingAfterProviderUnstakes() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE);
        uint256 free = market.stakeOf(provider).free;
        vm.prank(provider);
        market.unstake(free);

        vm.prank(publisher);
        uint256 leaseId = market.acceptBid(orderId, provider);
        // The reservation backs the lease even though bonded stake is now below minProviderStake.
        _assertStake(provider, 0, _reservation(PRICE));
        assertEq(market.getLease(leaseId).collateral, _reservation(PRICE));
    }

    function test_acceptBid_revertsWhenAlreadyMatched() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE);
        _bid(provider2, orderId, PRICE);
        vm.prank(publisher);
        market.acceptBid(orderId, provider);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketOrderNotOpen.selector, orderId, OrderStatus.Matched));
        vm.prank(publisher);
        market.acceptBid(orderId, provider2);
    }

    function test_acceptBid_revertsWhenOrderCancelled() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE);
        vm.prank(publisher);
        market.cancelOrder(orderId);

        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketOrderNotOpen.selector, orderId, OrderStatus.Cancelled)
        );
        vm.prank(publisher);
        market.acceptBid(orderId, provider);
    }

    /*//////////////////////////////////////////////////////////////
                             FINALIZE ORDER
    //////////////////////////////////////////////////////////////*/

    function test_finalizeOrder_picksLowestBid() public {
        _onboardProvider3(STAKE);
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        _bid(provider2, orderId, PRICE / 2);
        _bid(provider3, orderId, PRICE / 2 + 1);
        vm.warp(market.getOrder(orderId).bidDeadline);

        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.OrderMatched(orderId, provider2, 1, PRICE / 2, stranger);
        vm.prank(stranger);
        uint256 leaseId = market.finalizeOrder(orderId, _noBidders());

        Lease memory lease = market.getLease(leaseId);
        assertEq(lease.provider, provider2);
        assertEq(lease.publisher, publisher);
        assertEq(lease.pricePerSecond, PRICE / 2);
        assertEq(lease.balance, DEPOSIT);
        assertEq(lease.collateral, _reservation(PRICE / 2));
        Order memory order = market.getOrder(orderId);
        assertEq(uint8(order.status), uint8(OrderStatus.Matched));
        assertEq(order.leaseId, leaseId);
        assertEq(uint8(market.getBid(orderId, provider2).status), uint8(BidStatus.Won));
    }

    function test_finalizeOrder_tieGoesToEarliestBid() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        skip(1);
        _bid(provider2, orderId, PRICE);
        vm.warp(market.getOrder(orderId).bidDeadline);

        uint256 leaseId = market.finalizeOrder(orderId, _noBidders());

        assertEq(market.getLease(leaseId).provider, provider);
        assertEq(uint8(market.getBid(orderId, provider2).status), uint8(BidStatus.Active));
    }

    function test_finalizeOrder_worksOneSecondBeforeExpiry() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        vm.warp(_expiry(orderId) - 1);
        _heartbeat(provider);

        vm.prank(stranger);
        uint256 leaseId = market.finalizeOrder(orderId, _noBidders());

        assertEq(market.getLease(leaseId).provider, provider);
    }

    function test_finalizeOrder_revertsWhenBiddingOpen() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        uint40 deadline = market.getOrder(orderId).bidDeadline;
        vm.warp(deadline - 1);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBiddingOpen.selector, orderId, deadline));
        market.finalizeOrder(orderId, _noBidders());
    }

    function test_finalizeOrder_revertsWhenAutoAcceptDisabled() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE);
        vm.warp(market.getOrder(orderId).bidDeadline);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketAutoAcceptDisabled.selector, orderId));
        vm.prank(publisher);
        market.finalizeOrder(orderId, _noBidders());
    }

    function test_finalizeOrder_revertsWhenNoBids() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        vm.warp(market.getOrder(orderId).bidDeadline);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNoBids.selector, orderId));
        market.finalizeOrder(orderId, _noBidders());
    }

    function test_finalizeOrder_revertsWhenOrderExpired() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        uint256 expiry = _expiry(orderId);
        vm.warp(expiry);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketOrderExpired.selector, orderId, expiry));
        market.finalizeOrder(orderId, _noBidders());
    }

    function test_finalizeOrder_revertsWhenAlreadyMatched() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        vm.warp(market.getOrder(orderId).bidDeadline);
        market.finalizeOrder(orderId, _noBidders());

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketOrderNotOpen.selector, orderId, OrderStatus.Matched));
        market.finalizeOrder(orderId, _noBidders());
    }

    /*//////////////////////////////////////////////////////////////
                              CANCEL ORDER
    //////////////////////////////////////////////////////////////*/

    function test_cancelOrder_refundsPublisher() public {
        uint256 publisherBefore = token.balanceOf(publisher);
        uint256 marketBefore = token.balanceOf(address(market));
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);

        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.OrderCancelled(orderId, DEPOSIT);
        vm.prank(publisher);
        market.cancelOrder(orderId);

        assertEq(token.balanceOf(publisher), publisherBefore);
        assertEq(token.balanceOf(address(market)), marketBefore);
        assertEq(uint8(market.getOrder(orderId).status), uint8(OrderStatus.Cancelled));
        // The bid is not released by the cancellation itself.
        assertEq(uint8(market.getBid(orderId, provider).status), uint8(BidStatus.Active));
    }

    function test_cancelOrder_worksAfterExpiry() public {
        uint256 publisherBefore = token.balanceOf(publisher);
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        vm.warp(_expiry(orderId) + 1 days);

        vm.prank(publisher);
        market.cancelOrder(orderId);

        assertEq(token.balanceOf(publisher), publisherBefore);
        assertEq(uint8(market.getOrder(orderId).status), uint8(OrderStatus.Cancelled));
    }

    function test_cancelOrder_revertsWhenNotPublisher() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNotOrderPublisher.selector, orderId, stranger));
        vm.prank(stranger);
        market.cancelOrder(orderId);
    }

    function test_cancelOrder_revertsWhenOrderNotFound() public {
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketOrderNotFound.selector, 1));
        vm.prank(publisher);
        market.cancelOrder(1);
    }

    function test_cancelOrder_revertsWhenMatched() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        vm.prank(publisher);
        market.acceptBid(orderId, provider);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketOrderNotOpen.selector, orderId, OrderStatus.Matched));
        vm.prank(publisher);
        market.cancelOrder(orderId);
    }

    function test_cancelOrder_revertsWhenAlreadyCancelled() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        vm.prank(publisher);
        market.cancelOrder(orderId);

        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketOrderNotOpen.selector, orderId, OrderStatus.Cancelled)
        );
        vm.prank(publisher);
        market.cancelOrder(orderId);
    }

    /*//////////////////////////////////////////////////////////////
                              RELEASE BID
    //////////////////////////////////////////////////////////////*/

    function test_releaseBid_afterMatch() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        _bid(provider2, orderId, PRICE + 1);
        vm.prank(publisher);
        market.acceptBid(orderId, provider);
        uint96 reserved = _reservation(PRICE + 1);
        _assertStake(provider2, STAKE - reserved, reserved);

        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.BidReleased(orderId, provider2, reserved);
        vm.prank(stranger);
        market.releaseBid(orderId, provider2);

        _assertStake(provider2, STAKE, 0);
        assertEq(uint8(market.getBid(orderId, provider2).status), uint8(BidStatus.Released));
        // The winner's collateral stays locked.
        uint96 winnerReserved = _reservation(PRICE);
        _assertStake(provider, STAKE - winnerReserved, winnerReserved);
    }

    function test_releaseBid_afterCancel() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        vm.prank(publisher);
        market.cancelOrder(orderId);
        uint96 reserved = _reservation(PRICE);

        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.BidReleased(orderId, provider, reserved);
        vm.prank(provider);
        market.releaseBid(orderId, provider);

        _assertStake(provider, STAKE, 0);
        assertEq(uint8(market.getBid(orderId, provider).status), uint8(BidStatus.Released));
    }

    function test_releaseBid_atExpiry() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE);
        vm.warp(_expiry(orderId));

        vm.prank(stranger);
        market.releaseBid(orderId, provider);

        _assertStake(provider, STAKE, 0);
        assertEq(uint8(market.getBid(orderId, provider).status), uint8(BidStatus.Released));
        assertEq(uint8(market.getOrder(orderId).status), uint8(OrderStatus.Open));
    }

    function test_releaseBid_revertsOneSecondBeforeExpiry() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE);
        vm.warp(_expiry(orderId) - 1);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBidNotReleasable.selector, orderId, provider));
        market.releaseBid(orderId, provider);
    }

    function test_releaseBid_revertsWhenOrderOpen() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBidNotReleasable.selector, orderId, provider));
        vm.prank(provider);
        market.releaseBid(orderId, provider);
    }

    function test_releaseBid_revertsForWinner() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        vm.prank(publisher);
        market.acceptBid(orderId, provider);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBidNotReleasable.selector, orderId, provider));
        vm.prank(provider);
        market.releaseBid(orderId, provider);
    }

    function test_releaseBid_revertsWhenReleasedTwice() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        vm.prank(publisher);
        market.cancelOrder(orderId);
        market.releaseBid(orderId, provider);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBidNotReleasable.selector, orderId, provider));
        market.releaseBid(orderId, provider);
        _assertStake(provider, STAKE, 0);
    }

    function test_releaseBid_revertsWhenNoBid() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        vm.prank(publisher);
        market.cancelOrder(orderId);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBidNotReleasable.selector, orderId, provider2));
        market.releaseBid(orderId, provider2);
    }

    /*//////////////////////////////////////////////////////////////
                        FULL ORDERS AND EVICTION
    //////////////////////////////////////////////////////////////*/

    function _setMaxBids(uint8 maxBids) internal {
        MarketParams memory p = defaultParams();
        p.maxBidsPerOrder = maxBids;
        _setParams(p);
    }

    /// @dev A cap of 2 bids, provider3 onboarded, and an order on which `provider` bid `first` and `provider2` then
    ///      `second`: full.
    function _fullOrder(uint96 first, uint96 second) internal returns (uint256 orderId) {
        _setMaxBids(2);
        _onboardProvider3(STAKE);
        orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, first);
        _bid(provider2, orderId, second);
    }

    function _everyone() internal view returns (address[] memory all) {
        all = new address[](3);
        (all[0], all[1], all[2]) = (provider, provider2, provider3);
    }

    function _bidWithList(address bidder, uint256 orderId, uint96 price) internal {
        address[] memory list = _standingBidders(orderId, _everyone());
        vm.prank(bidder);
        market.placeBid(orderId, price, list);
    }

    /// @dev Issue 13, finding 2a: the bid cap counted every bid and never evicted, so a full order turned away a better
    ///      bid. A full order now replaces its worst bid with a better one.
    function test_placeBid_fullOrderEvictsWorstBid() public {
        uint256 orderId = _fullOrder(MAX_PRICE, PRICE);
        uint96 worstReserved = _reservation(MAX_PRICE);

        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.BidEvicted(orderId, provider, provider3, worstReserved);
        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.BidPlaced(orderId, provider3, PRICE / 2, _reservation(PRICE / 2));
        _bidWithList(provider3, orderId, PRICE / 2);

        assertEq(uint8(market.getBid(orderId, provider).status), uint8(BidStatus.Evicted));
        _assertStake(provider, STAKE, 0);
        Order memory order = market.getOrder(orderId);
        assertEq(order.bidCount, 2);
        assertEq(order.bestBidder, provider3);
        assertEq(order.bestPrice, PRICE / 2);
    }

    function test_placeBid_fullOrderRevertsWhenNotBetterThanWorst() public {
        uint256 orderId = _fullOrder(PRICE, PRICE - 1);
        address[] memory list = _standingBidders(orderId, _everyone());
        // An equal price does not evict: the earlier bid keeps its place.
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBidNotBetter.selector, orderId, PRICE, PRICE));
        vm.prank(provider3);
        market.placeBid(orderId, PRICE, list);
    }

    function test_placeBid_fullOrderEvictsLatestOfEqualWorst() public {
        _setMaxBids(2);
        _onboardProvider3(STAKE);
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        skip(1);
        _bid(provider2, orderId, PRICE);
        _bidWithList(provider3, orderId, PRICE - 1);
        assertEq(uint8(market.getBid(orderId, provider2).status), uint8(BidStatus.Evicted), "latest of the worst");
        assertEq(uint8(market.getBid(orderId, provider).status), uint8(BidStatus.Active));
    }

    function test_placeBid_fullOrderEvictsVoidBidFirst() public {
        _setMaxBids(2);
        _onboardProvider3(STAKE);
        vm.prank(publisher);
        uint256 orderId = market.createOrder(
            SPEC, defaultResources(), MAX_PRICE, DEPOSIT, uint40(START_TIME + 1 days), _requirements(0, REGION_EU), true
        );
        _bid(provider, orderId, PRICE / 2); // the best bid, about to become void
        _bid(provider2, orderId, PRICE);
        uint256 voidReserved = _reservation(PRICE / 2);
        // provider goes silent and is reported; provider2 and provider3 stay alive.
        vm.warp(START_TIME + 50 minutes);
        _heartbeat(provider2);
        _heartbeat(provider3);
        vm.warp(START_TIME + 100 minutes);
        _heartbeat(provider2);
        _heartbeat(provider3);
        vm.prank(stranger);
        market.reportDark(provider);

        // Even at the maximum price, provider3 replaces the void bid, not provider2's live one.
        uint256 share = voidReserved * 9000 / 10_000;
        uint256 feesBefore = market.accruedFees();
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.DarkPoolSwept(provider, 0, share);
        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.BidEvicted(orderId, provider, provider3, 0);
        _bidWithList(provider3, orderId, MAX_PRICE);

        assertEq(uint8(market.getBid(orderId, provider).status), uint8(BidStatus.Evicted));
        assertEq(market.accruedFees() - feesBefore, share, "the void bid's share goes to the fees");
        Order memory order = market.getOrder(orderId);
        assertEq(order.bestBidder, provider2, "best recomputed among the rest");
        assertEq(order.bestPrice, PRICE);
        assertEq(order.bidCount, 2);
    }

    function test_placeBid_revertsWhenListIncomplete() public {
        uint256 orderId = _fullOrder(PRICE, PRICE);
        address[] memory one = new address[](1);
        one[0] = provider;
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBidListMismatch.selector, orderId, 1, 2));
        vm.prank(provider3);
        market.placeBid(orderId, PRICE / 2, one);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBidListMismatch.selector, orderId, 0, 2));
        vm.prank(provider3);
        market.placeBid(orderId, PRICE / 2, _noBidders());
    }

    function test_placeBid_revertsWhenListNotAscending() public {
        uint256 orderId = _fullOrder(PRICE, PRICE);
        address[] memory list = _standingBidders(orderId, _everyone());
        (list[0], list[1]) = (list[1], list[0]);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBidListNotAscending.selector, orderId, list[1]));
        vm.prank(provider3);
        market.placeBid(orderId, PRICE / 2, list);
        // A repeated bidder is not ascending either.
        list[1] = list[0];
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBidListNotAscending.selector, orderId, list[0]));
        vm.prank(provider3);
        market.placeBid(orderId, PRICE / 2, list);
    }

    function test_placeBid_revertsWhenListNamesNoStandingBid() public {
        uint256 orderId = _fullOrder(PRICE, PRICE);
        address[] memory list = _standingBidders(orderId, _everyone());
        address impostor = list[0] < stranger ? stranger : address(1);
        if (impostor < list[0]) list[0] = impostor;
        else list[1] = impostor;
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBidNotFound.selector, orderId, impostor));
        vm.prank(provider3);
        market.placeBid(orderId, PRICE / 2, list);
    }

    function test_placeBid_evictedBidderMayBidAgain() public {
        uint256 orderId = _fullOrder(MAX_PRICE, PRICE);
        _bidWithList(provider3, orderId, PRICE / 2);
        // provider was evicted; it comes back lower and evicts provider2.
        _bidWithList(provider, orderId, PRICE / 4);
        assertEq(uint8(market.getBid(orderId, provider).status), uint8(BidStatus.Active));
        assertEq(uint8(market.getBid(orderId, provider2).status), uint8(BidStatus.Evicted));
        assertEq(market.getOrder(orderId).bestBidder, provider);
        assertEq(market.getOrder(orderId).bidCount, 2);
    }

    function test_placeBid_notFullIgnoresList() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        address[] memory junk = new address[](2);
        (junk[0], junk[1]) = (stranger, stranger);
        vm.prank(provider);
        market.placeBid(orderId, PRICE, junk);
        assertEq(market.getOrder(orderId).bidCount, 1);
    }

    function test_fuzz_placeBid_evictsTheHighestPrice(uint96[3] memory prices, uint96 newPrice) public {
        _setMaxBids(3);
        _onboardProvider3(STAKE);
        (address provider4,) = makeAddrAndKey("provider4");
        _onboard(provider4, STAKE);
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        address[3] memory bidders = [provider, provider2, provider3];
        uint256 highest;
        for (uint256 i; i < 3; ++i) {
            prices[i] = uint96(bound(prices[i], 1, MAX_PRICE));
            _bid(bidders[i], orderId, prices[i]);
            // Equal prices: the latest placed is the worst; all placed in the same second, so the higher address.
            if (prices[i] > prices[highest] || (prices[i] == prices[highest] && bidders[i] > bidders[highest])) {
                highest = i;
            }
        }
        newPrice = uint96(bound(newPrice, 1, MAX_PRICE));
        address[] memory list = _standingBidders(orderId, _everyone());
        if (newPrice >= prices[highest]) {
            vm.expectRevert(
                abi.encodeWithSelector(IPodnetMarket.MarketBidNotBetter.selector, orderId, newPrice, prices[highest])
            );
        }
        vm.prank(provider4);
        market.placeBid(orderId, newPrice, list);
        if (newPrice >= prices[highest]) return;
        assertEq(uint8(market.getBid(orderId, bidders[highest]).status), uint8(BidStatus.Evicted));
        Order memory order = market.getOrder(orderId);
        assertEq(order.bidCount, 3);
        // The best bid is still the lowest standing price.
        uint256 lowest = newPrice;
        for (uint256 i; i < 3; ++i) {
            if (i != highest && prices[i] < lowest) lowest = prices[i];
        }
        assertEq(order.bestPrice, lowest);
        _assertStake(bidders[highest], STAKE, 0);
    }

    /*//////////////////////////////////////////////////////////////
                          MINIMUM BID COLLATERAL
    //////////////////////////////////////////////////////////////*/

    /// @dev Issue 13, finding 2b: the reservation scaled with the bid price, so a 1 wei/s bid won with 86,400 wei of
    ///      collateral. A bid now reserves at least the collateral of a bid at minBidCollateralBps of the maximum.
    function test_placeBid_reservesMinimumCollateral() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, 1);
        uint256 floor = uint256(MAX_PRICE) * market.params().minBidCollateralBps / 10_000 * 1 days;
        assertEq(market.getBid(orderId, provider).reserved, floor, "a 1 wei/s bid reserves the floor");
        assertEq(floor, uint256(PRICE) * 1 days);
        _assertStake(provider, STAKE - floor, floor);

        // The winning lease is backed by that collateral.
        vm.warp(block.timestamp + 1 hours);
        _heartbeat(provider);
        uint256 leaseId = market.finalizeOrder(orderId, _noBidders());
        assertEq(market.getLease(leaseId).collateral, floor);
        assertEq(market.getLease(leaseId).pricePerSecond, 1);
    }

    function test_placeBid_aboveFloorReservesItsOwnCollateral() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE + 1);
        assertEq(market.getBid(orderId, provider).reserved, uint256(PRICE + 1) * 1 days);
    }

    function test_fuzz_placeBid_reservationNeverBelowFloor(uint96 price, uint16 floorBps) public {
        MarketParams memory p = defaultParams();
        p.minBidCollateralBps = uint16(bound(floorBps, 0, 10_000));
        _setParams(p);
        price = uint96(bound(price, 1, MAX_PRICE));
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, price);
        uint256 floor = uint256(MAX_PRICE) * p.minBidCollateralBps / 10_000;
        uint256 expected = (price > floor ? price : floor) * uint256(p.collateralSeconds);
        assertEq(market.getBid(orderId, provider).reserved, expected);
        assertGe(market.getBid(orderId, provider).reserved, uint256(price) * p.collateralSeconds);
    }

    /*//////////////////////////////////////////////////////////////
                        FINALIZE: FALL-THROUGH
    //////////////////////////////////////////////////////////////*/

    /// @dev Issue 13, finding 2c: a silent best bidder made finalizeOrder revert for everyone. It now falls through
    ///      to the best bid that can back a lease.
    function test_finalizeOrder_fallsThroughToBestValidBid() public {
        _onboardProvider3(STAKE);
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE / 2); // best, goes silent
        _bid(provider2, orderId, MAX_PRICE);
        _bid(provider3, orderId, PRICE); // best of the live ones
        vm.warp(block.timestamp + 90 minutes); // past the 1-hour threshold
        _heartbeat(provider2);
        _heartbeat(provider3);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketBidListMismatch.selector, orderId, 0, 3));
        vm.prank(stranger);
        market.finalizeOrder(orderId, _noBidders());

        address[] memory list = _standingBidders(orderId, _everyone());
        vm.prank(stranger);
        uint256 leaseId = market.finalizeOrder(orderId, list);
        Lease memory lease = market.getLease(leaseId);
        assertEq(lease.provider, provider3);
        assertEq(lease.pricePerSecond, PRICE);
        assertEq(lease.collateral, _reservation(PRICE));
        assertEq(market.getOrder(orderId).leaseId, leaseId);
    }

    function test_finalizeOrder_bestValidIgnoresList() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        vm.warp(block.timestamp + 1 hours);
        address[] memory junk = new address[](1);
        junk[0] = stranger;
        vm.prank(stranger);
        uint256 leaseId = market.finalizeOrder(orderId, junk);
        assertEq(market.getLease(leaseId).provider, provider);
    }

    function test_finalizeOrder_revertsWhenNoValidBid() public {
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        _bid(provider2, orderId, PRICE);
        vm.warp(block.timestamp + 2 hours); // both silent
        address[] memory list = _standingBidders(orderId, _everyone());
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNoValidBid.selector, orderId));
        vm.prank(stranger);
        market.finalizeOrder(orderId, list);
    }

    function test_finalizeOrder_fallThroughTieGoesToEarliest() public {
        _onboardProvider3(STAKE);
        uint256 orderId = _order(MAX_PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE / 2); // best, goes silent
        skip(1);
        _bid(provider3, orderId, PRICE);
        skip(1);
        _bid(provider2, orderId, PRICE);
        vm.warp(block.timestamp + 90 minutes);
        _heartbeat(provider2);
        _heartbeat(provider3);
        address[] memory list = _standingBidders(orderId, _everyone());
        vm.prank(stranger);
        uint256 leaseId = market.finalizeOrder(orderId, list);
        assertEq(market.getLease(leaseId).provider, provider3, "the earlier of the equal bids");
    }

    /*//////////////////////////////////////////////////////////////
                              END TO END
    //////////////////////////////////////////////////////////////*/

    /// @dev Amounts of the end-to-end case, in memory to keep the stack small.
    struct Flow {
        uint256 publisherStart;
        uint256 orderId;
        uint256 leaseId;
        uint96 collateral;
        uint256 gross1;
        uint256 fee1;
        uint256 net1;
        uint256 gross2;
        uint256 fee2;
        uint256 net2;
        uint256 refund;
        uint256 releasableAt;
    }

    function test_order_endToEnd_threeBidsLowestWinsBalancesAddUp() public {
        _onboardProvider3(STAKE);
        Flow memory f;
        f.publisherStart = token.balanceOf(publisher);
        assertEq(token.balanceOf(address(market)), 3 * STAKE);

        f.orderId = _order(MAX_PRICE, DEPOSIT, true);
        uint96 winningPrice = (PRICE * 3) / 4;
        _bid(provider, f.orderId, PRICE + PRICE / 2);
        skip(1 minutes);
        _bid(provider2, f.orderId, PRICE);
        skip(1 minutes);
        _bid(provider3, f.orderId, winningPrice);
        assertEq(token.balanceOf(address(market)), 3 * STAKE + DEPOSIT);

        // Anyone finalizes at the deadline: the lowest bid wins.
        vm.warp(market.getOrder(f.orderId).bidDeadline);
        vm.prank(stranger);
        f.leaseId = market.finalizeOrder(f.orderId, _noBidders());
        assertEq(market.getLease(f.leaseId).provider, provider3);
        assertEq(market.getLease(f.leaseId).pricePerSecond, winningPrice);
        uint256 matchedAt = block.timestamp;

        // The losers get their reservations back, one released by a stranger, one by itself.
        vm.prank(stranger);
        market.releaseBid(f.orderId, provider);
        vm.prank(provider2);
        market.releaseBid(f.orderId, provider2);
        _assertStake(provider, STAKE, 0);
        _assertStake(provider2, STAKE, 0);
        f.collateral = _reservation(winningPrice);
        _assertStake(provider3, STAKE - f.collateral, f.collateral);

        // The winner withdraws ten hours of earnings.
        skip(10 hours);
        f.gross1 = uint256(winningPrice) * 10 hours;
        f.fee1 = f.gross1 * 100 / 10_000;
        uint256[] memory ids = new uint256[](1);
        ids[0] = f.leaseId;
        vm.prank(provider3);
        f.net1 = market.withdraw(ids);
        assertEq(f.net1, f.gross1 - f.fee1);
        assertEq(market.getLease(f.leaseId).settledAt, matchedAt + 10 hours);

        // Two hours later the publisher closes; the rest of the deposit is refunded.
        skip(2 hours);
        f.gross2 = uint256(winningPrice) * 2 hours;
        f.refund = DEPOSIT - f.gross1 - f.gross2;
        f.releasableAt = block.timestamp + DISPUTE_WINDOW;
        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.LeaseClosed(
            f.leaseId,
            publisher,
            CloseReason.Publisher,
            block.timestamp,
            f.gross2,
            f.refund,
            f.collateral,
            f.releasableAt
        );
        vm.prank(publisher);
        market.closeLease(f.leaseId);
        // The collateral stays locked for the dispute window, then anyone releases it.
        _assertStake(provider3, STAKE - f.collateral, f.collateral);
        _releaseAfterWindow(f.leaseId);
        _assertStake(provider3, STAKE, 0);

        // The winner withdraws what the closed lease still owes it.
        f.fee2 = f.gross2 * 100 / 10_000;
        vm.prank(provider3);
        f.net2 = market.withdraw(ids);
        assertEq(f.net2, f.gross2 - f.fee2);
        assertEq(market.getLease(f.leaseId).balance, 0);

        assertEq(market.accruedFees(), f.fee1 + f.fee2);
        market.withdrawFees();

        // Every token is accounted for.
        assertEq(token.balanceOf(publisher), f.publisherStart - f.gross1 - f.gross2);
        assertEq(token.balanceOf(provider3), f.net1 + f.net2);
        assertEq(token.balanceOf(treasury), f.fee1 + f.fee2);
        assertEq(f.net1 + f.net2 + f.fee1 + f.fee2 + f.refund, DEPOSIT);
        assertEq(market.accruedFees(), 0);
        assertEq(token.balanceOf(address(market)), 3 * STAKE);
        _assertStake(provider, STAKE, 0);
        _assertStake(provider2, STAKE, 0);
        _assertStake(provider3, STAKE, 0);
    }
}
