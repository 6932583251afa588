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
/// @notice The reverse market of PodnetMarket: orders, bids (with eviction from full orders), matching (with
///         fall-through to the best valid bid), cancellation and bid release.
/// @dev An external library: PodnetMarket calls it by DELEGATECALL, so it runs on the market's storage
///      (MarketState) and keeps the market under the EVM's code size limit. Token transfers stay in the market.
///      Errors and events are the market's (IPodnetMarket).
library OrderBook {
    using SafeCast for uint256;

    /// @notice Most attributes an order can require.
    uint256 internal constant MAX_ORDER_ATTRIBUTES = 16;

    /// @dev What orders bids: validity, price, placement time, address.
    struct Rank {
        bool void;
        uint96 price;
        uint32 placedAt;
        address bidder;
    }

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
    function placeBid(
        MarketState storage s,
        IProviderRegistry registry,
        uint256 orderId,
        uint96 pricePerSecond,
        address[] calldata standingBidders
    ) external {
        Order storage order = s.orders[orderId];
        _requireOpen(orderId, order);
        if (block.timestamp >= order.bidDeadline) {
            revert IPodnetMarket.MarketBiddingClosed(orderId, order.bidDeadline);
        }
        if (pricePerSecond == 0) revert IPodnetMarket.MarketZeroPrice();
        uint96 maxPrice = order.maxPricePerSecond;
        if (pricePerSecond > maxPrice) revert IPodnetMarket.MarketBidAboveMax(pricePerSecond, maxPrice);
        Bid storage bid = s.bids[orderId][msg.sender];
        // One standing bid per provider; a provider whose bid was evicted may bid again.
        if (bid.status != BidStatus.None && bid.status != BidStatus.Evicted) {
            revert IPodnetMarket.MarketAlreadyBid(orderId, msg.sender);
        }
        MarketParams storage p = s.params;

        uint256 minStake = order.minStake > p.minProviderStake ? order.minStake : p.minProviderStake;
        Stake storage stake = MarketCore.requireCanTakeWork(s, registry, msg.sender, minStake);
        bytes32[] storage required = s.orderAttributes[orderId];
        if (required.length != 0) {
            (bool ok, bytes32 missing) = registry.hasAttributes(msg.sender, required);
            if (!ok) revert IPodnetMarket.MarketMissingAttribute(msg.sender, missing);
        }
        // A full order takes a better bid in place of its worst one.
        if (order.bidCount >= p.maxBidsPerOrder) _evictWorst(s, orderId, order, pricePerSecond, standingBidders);

        // At least the collateral of a bid at minBidCollateralBps of the order's maximum: a bid far below the
        // maximum still backs the lease it may win with real stake.
        uint256 floor = uint256(maxPrice) * p.minBidCollateralBps / LeaseMath.BPS;
        uint96 reserved =
            LeaseMath.collateralFor(pricePerSecond > floor ? pricePerSecond : floor, p.collateralSeconds).toUint96();
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
        _requireNotExpired(orderId, order);
        return _match(s, orderId, order, provider);
    }

    /// @dev See IPodnetMarket.finalizeOrder.
    function finalizeOrder(MarketState storage s, uint256 orderId, address[] calldata standingBidders)
        external
        returns (uint256)
    {
        Order storage order = s.orders[orderId];
        _requireOpen(orderId, order);
        if (block.timestamp < order.bidDeadline) revert IPodnetMarket.MarketBiddingOpen(orderId, order.bidDeadline);
        if (!order.autoAccept) revert IPodnetMarket.MarketAutoAcceptDisabled(orderId);
        _requireNotExpired(orderId, order);
        address best = order.bestBidder;
        if (best == address(0)) revert IPodnetMarket.MarketNoBids(orderId);
        // The best bid in O(1) when it can back a lease; otherwise the best of those that can, from the full list.
        if (!_canBack(s, orderId, best)) best = _bestValidBid(s, orderId, order, standingBidders);
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
        uint256 released = _freeReservation(s, provider, bid);
        emit IPodnetMarket.BidReleased(orderId, provider, released);
    }

    function _match(MarketState storage s, uint256 orderId, Order storage order, address provider)
        private
        returns (uint256 leaseId)
    {
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

    /// @dev Evicts the worst standing bid of a full order for a new bid at `pricePerSecond`: a void bid (its provider
    ///      was reported dark since) first, since it can never win; otherwise the highest price, the latest placed
    ///      (then the highest address) on a tie. The new bid must be strictly better than a live worst bid, so equal
    ///      bids cannot churn and an earlier bidder keeps its priority. `bidders` must list every standing bid of the
    ///      order in ascending address order: the market keeps no list, so the caller brings it and the market
    ///      checks it against the count (O(bids), paid only by a bid on a full order).
    function _evictWorst(
        MarketState storage s,
        uint256 orderId,
        Order storage order,
        uint96 pricePerSecond,
        address[] calldata bidders
    ) private {
        _requireCompleteList(s, orderId, order, bidders);
        address worst;
        Rank memory worstRank;
        for (uint256 i; i < bidders.length; ++i) {
            Rank memory rank = _rank(s, orderId, bidders[i]);
            if (worst == address(0) || _worse(rank, worstRank)) (worst, worstRank) = (bidders[i], rank);
        }
        if (!worstRank.void && pricePerSecond >= worstRank.price) {
            revert IPodnetMarket.MarketBidNotBetter(orderId, pricePerSecond, worstRank.price);
        }
        Bid storage evicted = s.bids[orderId][worst];
        evicted.status = BidStatus.Evicted;
        --order.bidCount;
        uint256 released = _freeReservation(s, worst, evicted);
        emit IPodnetMarket.BidEvicted(orderId, worst, msg.sender, released);
        if (worst != order.bestBidder) return;
        // The best bid went (it was void, or every bid had the same price): the best of the rest, by price, then
        // placement time, then address. The new bid then competes with it as usual.
        address best;
        Rank memory bestRank;
        for (uint256 i; i < bidders.length; ++i) {
            if (bidders[i] == worst) continue;
            Rank memory rank = _rank(s, orderId, bidders[i]);
            if (best == address(0) || _better(rank, bestRank)) (best, bestRank) = (bidders[i], rank);
        }
        order.bestBidder = best;
        order.bestPrice = bestRank.price;
    }

    /// @dev The best bid, among `bidders` (every standing bid, checked), whose provider can back a lease now; ties as
    ///      in the tracked best: price, then placement time, then address.
    function _bestValidBid(MarketState storage s, uint256 orderId, Order storage order, address[] calldata bidders)
        private
        view
        returns (address best)
    {
        _requireCompleteList(s, orderId, order, bidders);
        Rank memory bestRank;
        for (uint256 i; i < bidders.length; ++i) {
            if (!_canBack(s, orderId, bidders[i])) continue;
            Rank memory rank = _rank(s, orderId, bidders[i]);
            if (best == address(0) || _better(rank, bestRank)) (best, bestRank) = (bidders[i], rank);
        }
        if (best == address(0)) revert IPodnetMarket.MarketNoValidBid(orderId);
    }

    /// @dev `bidders` is every standing bid of the order: strictly ascending (so no repeats), each an active bid, as
    ///      many as the order counts.
    function _requireCompleteList(
        MarketState storage s,
        uint256 orderId,
        Order storage order,
        address[] calldata bidders
    ) private view {
        if (bidders.length != order.bidCount) {
            revert IPodnetMarket.MarketBidListMismatch(orderId, bidders.length, order.bidCount);
        }
        address previous;
        for (uint256 i; i < bidders.length; ++i) {
            address bidder = bidders[i];
            if (bidder <= previous) revert IPodnetMarket.MarketBidListNotAscending(orderId, bidder);
            if (s.bids[orderId][bidder].status != BidStatus.Active) {
                revert IPodnetMarket.MarketBidNotFound(orderId, bidder);
            }
            previous = bidder;
        }
    }

    /// @dev Whether `provider`'s bid can become a lease now: active, from its provider's current epoch (a bid from
    ///      before a dark report lost its reservation to the slash) and its provider alive. Its reservation, locked
    ///      when it bid, already covers the collateral.
    function _canBack(MarketState storage s, uint256 orderId, address provider) private view returns (bool) {
        Bid storage bid = s.bids[orderId][provider];
        Stake storage stake = s.stakes[provider];
        return bid.status == BidStatus.Active && bid.epoch == stake.epoch
            && block.timestamp <= uint256(stake.lastHeartbeat) + s.params.heartbeatThreshold;
    }

    function _rank(MarketState storage s, uint256 orderId, address bidder) private view returns (Rank memory) {
        Bid storage bid = s.bids[orderId][bidder];
        return Rank({
            void: bid.epoch != s.stakes[bidder].epoch, price: bid.pricePerSecond, placedAt: bid.placedAt, bidder: bidder
        });
    }

    /// @dev Whether `a` is a worse bid than `b` (to evict first): void, higher price, later, higher address.
    function _worse(Rank memory a, Rank memory b) private pure returns (bool) {
        if (a.void != b.void) return a.void;
        if (a.price != b.price) return a.price > b.price;
        if (a.placedAt != b.placedAt) return a.placedAt > b.placedAt;
        return a.bidder > b.bidder;
    }

    /// @dev Whether `a` is a better bid than `b` (to win first): lower price, earlier, lower address.
    function _better(Rank memory a, Rank memory b) private pure returns (bool) {
        if (a.price != b.price) return a.price < b.price;
        if (a.placedAt != b.placedAt) return a.placedAt < b.placedAt;
        return a.bidder < b.bidder;
    }

    /// @dev Gives a bid's reservation back to its provider, or, for a void bid (from before its provider was
    ///      reported dark, so slashed with the rest of its locked stake), sweeps its share of the dark pool, which no
    ///      lease will claim, to the protocol fees. Returns the stake given back.
    function _freeReservation(MarketState storage s, address provider, Bid storage bid)
        private
        returns (uint256 released)
    {
        uint96 reserved = bid.reserved;
        Stake storage stake = s.stakes[provider];
        if (bid.epoch == stake.epoch) {
            MarketCore.unlockStake(stake, reserved);
            return reserved;
        }
        DarkRecord storage record = s.darkRecords[provider][bid.epoch];
        uint256 share = uint256(reserved) * record.compensationBps / LeaseMath.BPS;
        if (share > record.pool) share = record.pool;
        // forge-lint: disable-next-line(unsafe-typecast) share <= record.pool, a uint96
        record.pool -= uint96(share);
        // forge-lint: disable-next-line(unsafe-typecast) share <= record.pool, a uint96
        s.fees.accrued += uint128(share);
        emit IPodnetMarket.DarkPoolSwept(provider, bid.epoch, share);
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

    function _requireNotExpired(uint256 orderId, Order storage order) private view {
        uint256 expiry = _expiryOf(order);
        if (block.timestamp >= expiry) revert IPodnetMarket.MarketOrderExpired(orderId, expiry);
    }

    function _expiryOf(Order storage order) private view returns (uint256) {
        return uint256(order.bidDeadline) + order.acceptWindow;
    }
}
