// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPodnetMarket} from "../interfaces/IPodnetMarket.sol";
import {IProviderRegistry} from "../interfaces/IProviderRegistry.sol";
import {
    Bid,
    BidStatus,
    DarkRecord,
    MarketParams,
    Order,
    OrderStatus,
    Requirements,
    Resources,
    Stake
} from "../types/MarketTypes.sol";
import {LeaseMath} from "./LeaseMath.sol";
import {MarketCore, MarketState} from "./MarketCore.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title OrderBook
/// @notice The reverse market of PodnetMarket: orders, bids, matching, cancellation and bid release.
/// @dev An external library: PodnetMarket calls it by DELEGATECALL, so it runs on the market's storage
///      (MarketState) and keeps the market under the EVM's code size limit. Token transfers stay in the market.
///      Errors and events are the market's (IPodnetMarket).
library OrderBook {
    using SafeCast for uint256;

    /// @notice Most attributes an order can require.
    uint256 internal constant MAX_ORDER_ATTRIBUTES = 16;

    /// @dev See IPodnetMarket.createOrder. The market pulls the deposit afterwards.
    function createOrder(
        MarketState storage s,
        bytes32 specHash,
        Resources calldata resources,
        uint96 maxPricePerSecond,
        uint96 deposit,
        uint40 bidDeadline,
        Requirements calldata requirements,
        bool autoAccept
    ) external returns (uint256 orderId) {
        _validateOrder(s.params, specHash, resources, maxPricePerSecond, deposit, bidDeadline, requirements);

        orderId = ++s.orderCount;
        Order storage order = s.orders[orderId];
        order.publisher = msg.sender;
        order.bidDeadline = bidDeadline;
        order.status = OrderStatus.Open;
        order.autoAccept = autoAccept;
        // forge-lint: disable-next-line(unsafe-typecast) _setParams caps it at 365 days
        order.acceptWindow = uint32(s.params.acceptWindow);
        order.maxPricePerSecond = maxPricePerSecond;
        order.deposit = deposit;
        order.resources = resources;
        order.minStake = requirements.minStake;
        order.specHash = specHash;
        if (requirements.attributes.length != 0) s.orderAttributes[orderId] = requirements.attributes;

        emit IPodnetMarket.OrderCreated(
            orderId, msg.sender, specHash, resources, maxPricePerSecond, deposit, bidDeadline, autoAccept, requirements
        );
    }

    /// @dev See IPodnetMarket.placeBid.
    function placeBid(MarketState storage s, IProviderRegistry registry, uint256 orderId, uint96 pricePerSecond)
        external
    {
        Order storage order = s.orders[orderId];
        _requireOpen(orderId, order);
        if (block.timestamp >= order.bidDeadline) {
            revert IPodnetMarket.MarketBiddingClosed(orderId, order.bidDeadline);
        }
        if (pricePerSecond == 0) revert IPodnetMarket.MarketZeroPrice();
        if (pricePerSecond > order.maxPricePerSecond) {
            revert IPodnetMarket.MarketBidAboveMax(pricePerSecond, order.maxPricePerSecond);
        }
        Bid storage bid = s.bids[orderId][msg.sender];
        if (bid.status != BidStatus.None) revert IPodnetMarket.MarketAlreadyBid(orderId, msg.sender);
        MarketParams storage p = s.params;
        if (order.bidCount >= p.maxBidsPerOrder) revert IPodnetMarket.MarketTooManyBids(orderId, p.maxBidsPerOrder);

        uint256 minStake = order.minStake > p.minProviderStake ? order.minStake : p.minProviderStake;
        Stake storage stake = MarketCore.requireCanTakeWork(s, registry, msg.sender, minStake);
        bytes32[] storage required = s.orderAttributes[orderId];
        if (required.length != 0) {
            (bool ok, bytes32 missing) = registry.hasAttributes(msg.sender, required);
            if (!ok) revert IPodnetMarket.MarketMissingAttribute(msg.sender, missing);
        }

        uint96 reserved = LeaseMath.collateralFor(pricePerSecond, p.collateralSeconds).toUint96();
        MarketCore.lockStake(stake, msg.sender, reserved);
        bid.pricePerSecond = pricePerSecond;
        bid.reserved = reserved;
        // forge-lint: disable-next-line(unsafe-typecast) unix seconds fit in uint32 until 2106
        bid.placedAt = uint32(block.timestamp);
        bid.status = BidStatus.Active;
        bid.epoch = stake.epoch;
        ++order.bidCount;
        // Strictly lower wins, so the earliest of equal bids stays best.
        if (order.bestBidder == address(0) || pricePerSecond < order.bestPrice) {
            order.bestBidder = msg.sender;
            order.bestPrice = pricePerSecond;
        }
        emit IPodnetMarket.BidPlaced(orderId, msg.sender, pricePerSecond, reserved);
    }

    /// @dev See IPodnetMarket.acceptBid.
    function acceptBid(MarketState storage s, uint256 orderId, address provider) external returns (uint256) {
        Order storage order = s.orders[orderId];
        _requireOpen(orderId, order);
        if (order.publisher != msg.sender) revert IPodnetMarket.MarketNotOrderPublisher(orderId, msg.sender);
        return _match(s, orderId, order, provider);
    }

    /// @dev See IPodnetMarket.finalizeOrder.
    function finalizeOrder(MarketState storage s, uint256 orderId) external returns (uint256) {
        Order storage order = s.orders[orderId];
        _requireOpen(orderId, order);
        if (block.timestamp < order.bidDeadline) revert IPodnetMarket.MarketBiddingOpen(orderId, order.bidDeadline);
        if (!order.autoAccept) revert IPodnetMarket.MarketAutoAcceptDisabled(orderId);
        address best = order.bestBidder;
        if (best == address(0)) revert IPodnetMarket.MarketNoBids(orderId);
        return _match(s, orderId, order, best);
    }

    /// @dev See IPodnetMarket.cancelOrder. Returns the deposit for the market to refund.
    function cancelOrder(MarketState storage s, uint256 orderId) external returns (uint256 refund) {
        Order storage order = s.orders[orderId];
        _requireOpen(orderId, order);
        if (order.publisher != msg.sender) revert IPodnetMarket.MarketNotOrderPublisher(orderId, msg.sender);
        order.status = OrderStatus.Cancelled;
        refund = order.deposit;
        emit IPodnetMarket.OrderCancelled(orderId, refund);
    }

    /// @dev See IPodnetMarket.releaseBid. A bid from before its provider was reported dark was slashed with the
    ///      rest of the provider's locked stake: releasing it frees nothing, and its share of the dark pool, which no
    ///      lease will claim, goes to the protocol fees.
    function releaseBid(MarketState storage s, uint256 orderId, address provider) external {
        Bid storage bid = s.bids[orderId][provider];
        if (bid.status != BidStatus.Active) revert IPodnetMarket.MarketBidNotReleasable(orderId, provider);
        Order storage order = s.orders[orderId];
        if (order.status == OrderStatus.Open && block.timestamp < _expiryOf(order)) {
            revert IPodnetMarket.MarketBidNotReleasable(orderId, provider);
        }
        bid.status = BidStatus.Released;
        uint96 reserved = bid.reserved;
        Stake storage stake = s.stakes[provider];
        if (bid.epoch == stake.epoch) {
            MarketCore.unlockStake(stake, reserved);
            emit IPodnetMarket.BidReleased(orderId, provider, reserved);
        } else {
            DarkRecord storage record = s.darkRecords[provider][bid.epoch];
            uint256 share = uint256(reserved) * record.compensationBps / LeaseMath.BPS;
            if (share > record.pool) share = record.pool;
            // forge-lint: disable-next-line(unsafe-typecast) share <= record.pool, a uint96
            record.pool -= uint96(share);
            // forge-lint: disable-next-line(unsafe-typecast) share <= record.pool, a uint96
            s.fees.accrued += uint128(share);
            emit IPodnetMarket.BidReleased(orderId, provider, 0);
            emit IPodnetMarket.DarkPoolSwept(provider, bid.epoch, share);
        }
    }

    function _match(MarketState storage s, uint256 orderId, Order storage order, address provider)
        private
        returns (uint256 leaseId)
    {
        uint256 expiry = _expiryOf(order);
        if (block.timestamp >= expiry) revert IPodnetMarket.MarketOrderExpired(orderId, expiry);
        Bid storage bid = s.bids[orderId][provider];
        if (bid.status != BidStatus.Active) revert IPodnetMarket.MarketBidNotFound(orderId, provider);
        // A bid placed before a dark report lost its reservation to the slash: it cannot back a lease.
        Stake storage stake = s.stakes[provider];
        if (bid.epoch != stake.epoch) revert IPodnetMarket.MarketProviderWentDark(provider, bid.epoch);
        MarketCore.requireAlive(s, stake, provider);

        bid.status = BidStatus.Won;
        order.status = OrderStatus.Matched;
        // The order's deposit moves, inside the market, from the order's escrow to the lease's; the bid's
        // reservation becomes the lease's collateral.
        leaseId = MarketCore.openLease(
            s,
            order.publisher,
            provider,
            orderId,
            order.specHash,
            order.resources,
            bid.pricePerSecond,
            order.deposit,
            bid.reserved,
            bytes32(0)
        );
        // forge-lint: disable-next-line(unsafe-typecast) ids come from a uint64 counter
        order.leaseId = uint64(leaseId);
        emit IPodnetMarket.OrderMatched(orderId, provider, leaseId, bid.pricePerSecond, msg.sender);
    }

    function _validateOrder(
        MarketParams storage p,
        bytes32 specHash,
        Resources calldata resources,
        uint96 maxPricePerSecond,
        uint96 deposit,
        uint40 bidDeadline,
        Requirements calldata requirements
    ) private view {
        MarketCore.requireValidPod(specHash, resources, maxPricePerSecond, deposit, p.minLeaseDuration);
        uint256 latest = block.timestamp + p.maxBidWindow;
        if (bidDeadline <= block.timestamp || bidDeadline > latest) {
            revert IPodnetMarket.MarketInvalidBidDeadline(bidDeadline, latest);
        }
        uint256 attributeCount = requirements.attributes.length;
        if (attributeCount > MAX_ORDER_ATTRIBUTES) {
            revert IPodnetMarket.MarketTooManyAttributes(attributeCount, MAX_ORDER_ATTRIBUTES);
        }
    }

    function _requireOpen(uint256 orderId, Order storage order) private view {
        OrderStatus status = order.status;
        if (status == OrderStatus.None) revert IPodnetMarket.MarketOrderNotFound(orderId);
        if (status != OrderStatus.Open) revert IPodnetMarket.MarketOrderNotOpen(orderId, status);
    }

    function _expiryOf(Order storage order) private view returns (uint256) {
        return uint256(order.bidDeadline) + order.acceptWindow;
    }
}
