// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarketFixture} from "../utils/MarketFixture.sol";
import {MarketHandler} from "./MarketHandler.sol";
import {Bid, BidStatus, Lease, LeaseStatus, Order, OrderStatus, Stake} from "../../src/types/MarketTypes.sol";

/// @notice Invariants of the market's escrow, stake and fee accounting under random sequences of valid calls.
/// @dev The handler drives 4 providers, 3 publishers and a stranger through every state-changing entry point, with
///      time warps in between. Runs and depth come from the profile (default 64 x 50, ci 256 x 50); any revert of a
///      handler action fails the campaign (fail_on_revert).
contract MarketInvariantsTest is MarketFixture {
    MarketHandler internal handler;
    bytes4[] internal _selectors;

    function setUp() public override {
        super.setUp();
        handler = new MarketHandler(market, token, registry, admin);

        // Repeating a selector makes forge pick it more often: weight towards the lease and order flows, whose later
        // steps (accept, finalize, release, withdraw, close) need earlier ones to have happened in the same run.
        _target(MarketHandler.register.selector, 1);
        _target(MarketHandler.stake.selector, 2);
        _target(MarketHandler.unstake.selector, 1);
        _target(MarketHandler.withdrawStake.selector, 1);
        _target(MarketHandler.togglePause.selector, 1);
        _target(MarketHandler.invalidateNonce.selector, 1);
        _target(MarketHandler.setFee.selector, 1);
        _target(MarketHandler.createLease.selector, 3);
        _target(MarketHandler.createOrder.selector, 2);
        _target(MarketHandler.placeBid.selector, 5);
        _target(MarketHandler.acceptBid.selector, 2);
        _target(MarketHandler.finalizeOrder.selector, 2);
        _target(MarketHandler.cancelOrder.selector, 1);
        _target(MarketHandler.releaseBid.selector, 2);
        _target(MarketHandler.topUp.selector, 2);
        _target(MarketHandler.updateLeaseSpec.selector, 1);
        _target(MarketHandler.withdraw.selector, 3);
        _target(MarketHandler.closeLease.selector, 2);
        _target(MarketHandler.withdrawFees.selector, 1);
        _target(MarketHandler.warp.selector, 3);
        _target(MarketHandler.warpToRunOut.selector, 1);
        targetSelector(FuzzSelector({addr: address(handler), selectors: _selectors}));
        targetContract(address(handler));
    }

    function _target(bytes4 selector, uint256 weight) internal {
        for (uint256 i; i < weight; ++i) {
            _selectors.push(selector);
        }
    }

    /// @dev Views that depend on "now" must see the handler's clock.
    modifier atHandlerTime() {
        vm.warp(handler.currentTime());
        _;
    }

    /*//////////////////////////////////////////////////////////////
                               INVARIANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice 1. The market holds exactly its liabilities: lease balances (closed leases included, they hold what the
    ///         provider is still owed), deposits of open orders, all provider stake and accrued fees. Also equal to
    ///         what went in minus what came out, as measured on the callers.
    function invariant_tokenConservation() public view {
        uint256 liabilities = market.accruedFees();
        uint256 leases = market.leaseCount();
        for (uint256 id = 1; id <= leases; ++id) {
            liabilities += market.getLease(id).balance;
        }
        uint256 orders = market.orderCount();
        for (uint256 id = 1; id <= orders; ++id) {
            Order memory order = market.getOrder(id);
            if (order.status == OrderStatus.Open) liabilities += order.deposit;
        }
        for (uint256 i; i < handler.PROVIDER_COUNT(); ++i) {
            Stake memory s = market.stakeOf(handler.providers(i));
            liabilities += uint256(s.free) + s.locked + s.unbonding;
        }
        uint256 held = token.balanceOf(address(market));
        assertEq(held, liabilities, "market balance != liabilities");
        assertEq(held, handler.ghost_tokensIn() - handler.ghost_tokensOut(), "market balance != tokens in - out");
    }

    /// @notice 2. No lease pays out more than was put into it: paid to provider + refunded + still held == deposited.
    function invariant_leaseEscrowBalances() public view {
        uint256 leases = market.leaseCount();
        for (uint256 id = 1; id <= leases; ++id) {
            uint256 deposited = handler.ghost_deposited(id);
            uint256 paid = handler.ghost_paidToProvider(id);
            uint256 refunded = handler.ghost_refunded(id);
            Lease memory lease = market.getLease(id);
            assertLe(paid, deposited, "lease paid more than deposited");
            assertEq(paid + refunded + lease.balance, deposited, "lease paid + refunded + balance != deposited");
            if (lease.status == LeaseStatus.Active) assertEq(refunded, 0, "active lease refunded");
        }
    }

    /// @notice 3a. A closed lease is frozen: everything it holds is withdrawable, nothing more ever accrues, and its
    ///         end time never moves.
    function invariant_closedLeasesDoNotAccrue() public atHandlerTime {
        uint256 leases = market.leaseCount();
        for (uint256 id = 1; id <= leases; ++id) {
            Lease memory lease = market.getLease(id);
            assertEq(lease.status == LeaseStatus.Closed, handler.ghost_closed(id), "lease status != handler's view");
            if (lease.status != LeaseStatus.Closed) continue;
            (uint256 amount, bool outOfFunds) = market.withdrawable(id);
            assertEq(amount, lease.balance, "closed lease: withdrawable != balance");
            assertTrue(outOfFunds, "closed lease not reported out of funds");
            assertEq(lease.endedAt, handler.ghost_endedAt(id), "closed lease's endedAt moved");
            assertEq(market.leaseRunsOutAt(id), lease.endedAt, "closed lease: runsOutAt != endedAt");
            assertGe(lease.endedAt, lease.startedAt, "lease ended before it started");
        }
    }

    /// @notice 3b. What a lease's provider earned (withdrawn + still claimable) never exceeds pricePerSecond times the
    ///         time it ran (to endedAt when closed, to now when active), top-ups notwithstanding; in fact it is exactly
    ///         min(price * elapsed, deposited): per-second streaming, the last partial second paid in full.
    function invariant_accrualMatchesElapsedTime() public atHandlerTime {
        uint256 leases = market.leaseCount();
        for (uint256 id = 1; id <= leases; ++id) {
            Lease memory lease = market.getLease(id);
            uint256 paid = handler.ghost_paidToProvider(id);
            uint256 end;
            uint256 claimable;
            if (lease.status == LeaseStatus.Closed) {
                end = lease.endedAt;
                claimable = lease.balance;
            } else {
                end = block.timestamp;
                (claimable,) = market.withdrawable(id);
                assertLe(lease.settledAt, block.timestamp, "settled in the future");
            }
            assertGe(lease.settledAt, lease.startedAt, "settled before start");
            uint256 timeBound = uint256(lease.pricePerSecond) * (end - lease.startedAt);
            assertLe(paid, timeBound, "paid > price * (end - startedAt)");
            assertLe(paid + claimable, timeBound, "earned > price * (end - startedAt)");
            uint256 deposited = handler.ghost_deposited(id);
            assertEq(
                paid + claimable, timeBound < deposited ? timeBound : deposited, "earned != min(price*t, deposited)"
            );
        }
    }

    /// @notice 4. Stake: free + locked + unbonding is what the provider staked minus what it withdrew, and locked is
    ///         exactly the collateral of its active leases plus the reservations of its active bids.
    function invariant_stakeAccounting() public view {
        uint256 leases = market.leaseCount();
        uint256 orders = market.orderCount();
        for (uint256 i; i < handler.PROVIDER_COUNT(); ++i) {
            address prov = handler.providers(i);
            Stake memory s = market.stakeOf(prov);
            assertEq(
                uint256(s.free) + s.locked + s.unbonding,
                handler.ghost_staked(prov) - handler.ghost_withdrawnStake(prov),
                "stake != staked - withdrawn"
            );
            uint256 committed;
            for (uint256 id = 1; id <= leases; ++id) {
                Lease memory lease = market.getLease(id);
                if (lease.provider == prov && lease.status == LeaseStatus.Active) committed += lease.collateral;
            }
            for (uint256 id = 1; id <= orders; ++id) {
                Bid memory bid = market.getBid(id, prov);
                if (bid.status == BidStatus.Active) committed += bid.reserved;
            }
            assertEq(s.locked, committed, "locked != active collateral + active bid reservations");
            if (s.unbonding == 0) assertEq(s.unbondingReleaseAt, 0, "release time without unbonding");
        }
    }

    /// @notice 5. Fees: accrued + withdrawn to the treasury == sum over provider withdrawals of feeOf(gross), and the
    ///         providers received exactly the rest of what their leases paid out.
    function invariant_fees() public view {
        uint256 expected = handler.ghost_feesAccrued();
        assertEq(market.accruedFees() + handler.ghost_feesWithdrawn(), expected, "accrued + withdrawn != sum of fees");
        assertEq(token.balanceOf(treasury), handler.ghost_feesWithdrawn(), "treasury balance != fees withdrawn");

        uint256 paid;
        uint256 leases = market.leaseCount();
        for (uint256 id = 1; id <= leases; ++id) {
            paid += handler.ghost_paidToProvider(id);
        }
        assertEq(paid, handler.ghost_grossWithdrawn(), "sum of LeaseSettled != gross withdrawn");
        assertEq(handler.ghost_netToProviders() + expected, paid, "net to providers + fees != gross withdrawn");
        assertEq(handler.ghost_withdrawReturnMismatches(), 0, "withdraw returned a net it did not pay");
    }

    /// @notice Orders and bids: an open order's best bid is its lowest active bid, a cancelled order refunded its
    ///         whole deposit, and a matched order became a lease with the winner's price and reservation.
    function invariant_ordersAndBids() public atHandlerTime {
        uint256 orders = market.orderCount();
        uint256 maxBids = market.params().maxBidsPerOrder;
        uint256 acceptWindow = market.params().acceptWindow;
        for (uint256 id = 1; id <= orders; ++id) {
            Order memory order = market.getOrder(id);
            // Until it expires an open order's bids all stand; after that they may be released one by one.
            bool live = order.status == OrderStatus.Open && block.timestamp < uint256(order.bidDeadline) + acceptWindow;
            assertLe(order.bidCount, maxBids, "too many bids");
            if (order.status == OrderStatus.Cancelled) {
                assertEq(handler.ghost_orderRefunded(id), order.deposit, "cancelled order: refund != deposit");
            } else if (order.status == OrderStatus.Matched) {
                Lease memory lease = market.getLease(order.leaseId);
                Bid memory bid = market.getBid(id, lease.provider);
                assertEq(uint8(bid.status), uint8(BidStatus.Won), "matched lease's provider did not win");
                assertEq(lease.publisher, order.publisher, "matched lease: publisher");
                assertEq(lease.pricePerSecond, bid.pricePerSecond, "matched lease: price != bid");
                // Collateral is zeroed once released on close.
                if (lease.status == LeaseStatus.Active) {
                    assertEq(lease.collateral, bid.reserved, "matched lease: collateral != reservation");
                }
            }
            uint256 bids;
            uint256 wins;
            for (uint256 i; i < handler.PROVIDER_COUNT(); ++i) {
                Bid memory bid = market.getBid(id, handler.providers(i));
                if (bid.status == BidStatus.None) continue;
                ++bids;
                assertLe(bid.pricePerSecond, order.maxPricePerSecond, "bid above max");
                if (live) assertEq(uint8(bid.status), uint8(BidStatus.Active), "live order with a settled bid");
                if (order.status == OrderStatus.Open) {
                    assertLe(order.bestPrice, bid.pricePerSecond, "best price above a bid");
                }
                if (bid.status == BidStatus.Won) ++wins;
            }
            assertEq(bids, order.bidCount, "bidCount != bids placed");
            assertEq(wins, order.status == OrderStatus.Matched ? 1 : 0, "winning bids != 1 per matched order");
            if (order.status == OrderStatus.Open && order.bestBidder != address(0)) {
                assertEq(market.getBid(id, order.bestBidder).pricePerSecond, order.bestPrice, "best price != best bid");
            }
        }
    }

    /// @notice Logs what the last run of each campaign did (run with -vv to see it).
    function afterInvariant() public view {
        handler.callSummary();
    }
}
