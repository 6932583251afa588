// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {InvariantFixture} from "./InvariantFixture.sol";
import {DarkGhost, MarketHandler} from "./MarketHandler.sol";
import {Dispute, DisputeStatus} from "../../src/types/CourtTypes.sol";
import {
    Bid,
    BidStatus,
    DarkRecord,
    Lease,
    LeaseStatus,
    Order,
    OrderStatus,
    Stake
} from "../../src/types/MarketTypes.sol";

/// @notice Invariants of the market's escrow, stake and fee accounting, dark-provider slashing and compensation, and
///         dispute holds, under random sequences of valid calls.
/// @dev The handler drives 4 providers, 3 publishers, a stranger, a reporter and the arbiter through every
///      state-changing entry point of the market and the court (heartbeats, dark reports, re-stakes, disputes and
///      rulings included), with time warps in between. Runs and depth come from the profile (default 64 x 50, ci 128 x 50); any revert of a
///      handler action fails the campaign (fail_on_revert).
contract MarketInvariantsTest is InvariantFixture {
    uint256 internal constant BPS = 10_000;

    MarketHandler internal handler;
    bytes4[] internal _selectors;

    function setUp() public override {
        super.setUp();
        handler = new MarketHandler(market, token, registry, court, admin, arbiter);

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
        _target(MarketHandler.closeLease.selector, 3);
        _target(MarketHandler.withdrawFees.selector, 1);
        _target(MarketHandler.warp.selector, 3);
        _target(MarketHandler.warpToRunOut.selector, 1);
        _target(MarketHandler.heartbeat.selector, 2);
        _target(MarketHandler.reportDark.selector, 1);
        _target(MarketHandler.unjail.selector, 1);
        _target(MarketHandler.closeDarkLease.selector, 1);
        _target(MarketHandler.setDarkParams.selector, 1);
        _target(MarketHandler.openDispute.selector, 2);
        _target(MarketHandler.answerDispute.selector, 1);
        _target(MarketHandler.slashDispute.selector, 1);
        _target(MarketHandler.dismissDispute.selector, 1);
        _target(MarketHandler.lapseDispute.selector, 1);
        _target(MarketHandler.releaseCollateral.selector, 3);
        _target(MarketHandler.setDisputeWindow.selector, 1);
        _target(MarketHandler.setBidRules.selector, 1);
        targetSelector(FuzzSelector({addr: address(handler), selectors: _selectors}));
        targetContract(address(handler));
    }

    function _target(bytes4 selector, uint256 weight) internal {
        for (uint256 i; i < weight; ++i) {
            _selectors.push(selector);
        }
    }

    /*//////////////////////////////////////////////////////////////
                               INVARIANTS
    //////////////////////////////////////////////////////////////*/

    /// @dev One campaign checks every property after every call. Forge runs a campaign per invariant function: eight
    ///      functions ran the handler's calls eight times over for the same number of sequences per property (56 cpu-s
    ///      in the ci profile; one campaign 44, most of it the checks). A failure names the property in its message.
    ///      The checks run at the handler's clock (the market's getters read storage only, "now" matters only to
    ///      withdrawable and runsOutAt), against one snapshot of the market read after the call: each property read
    ///      every lease, order and bid again, five reads of each lease per call (ci profile: 36.7 -> 28.8 cpu-s; the
    ///      assertions of InvariantFixture, 18.3).
    function invariant_market() public {
        vm.warp(handler.currentTime());
        Snapshot memory s = _snapshot();
        _checkTokenConservation(s);
        _checkLeaseEscrowBalances(s);
        _checkStakeAccounting(s);
        _checkFees(s);
        _checkDarkReports(s);
        _checkClosedLeasesDoNotAccrue(s);
        _checkAccrualMatchesElapsedTime(s);
        _checkOrdersAndBids(s);
    }

    /// @dev The market as the checks see it after a call. Lease `id` is `leases[id - 1]`, order `id` is
    ///      `orders[id - 1]`, and `bids[id - 1][i]` is provider `provs[i]`'s bid on it; `paid` and `deposited` are the
    ///      handler's ledger of each lease.
    struct Snapshot {
        address[] provs;
        Stake[] stakes;
        Lease[] leases;
        uint256[] paid;
        uint256[] deposited;
        Order[] orders;
        Bid[][] bids;
    }

    function _snapshot() internal view returns (Snapshot memory s) {
        uint256 n = handler.PROVIDER_COUNT();
        s.provs = new address[](n);
        s.stakes = new Stake[](n);
        for (uint256 i; i < n; ++i) {
            s.provs[i] = handler.providers(i);
            s.stakes[i] = market.stakeOf(s.provs[i]);
        }
        s.leases = _allLeases();
        s.paid = new uint256[](s.leases.length);
        s.deposited = new uint256[](s.leases.length);
        for (uint256 id = 1; id <= s.leases.length; ++id) {
            s.paid[id - 1] = handler.ghost_paidToProvider(id);
            s.deposited[id - 1] = handler.ghost_deposited(id);
        }
        s.orders = _allOrders();
        s.bids = new Bid[][](s.orders.length);
        for (uint256 id = 1; id <= s.orders.length; ++id) {
            s.bids[id - 1] = new Bid[](n);
            for (uint256 i; i < n; ++i) {
                s.bids[id - 1][i] = market.getBid(id, s.provs[i]);
            }
        }
    }

    /// @notice 1. The market holds exactly its liabilities: lease balances (closed leases included, they hold what the
    ///         provider is still owed), deposits of open orders, all provider stake, accrued fees and the unpaid dark
    ///         pools of every reported provider epoch. Also equal to what went in minus what came out, as measured on
    ///         the callers. The court holds exactly the bonds of its open disputes.
    function _checkTokenConservation(Snapshot memory s) internal view {
        uint256 held = token.balanceOf(address(market));
        assertEq(held, _marketLiabilities(s.leases, s.orders, s.provs), "market balance != liabilities");
        assertEq(held, handler.ghost_tokensIn() - handler.ghost_tokensOut(), "market balance != tokens in - out");

        uint256 bonds;
        uint256 disputes = court.disputeCount();
        for (uint256 id = 1; id <= disputes; ++id) {
            Dispute memory d = court.getDispute(id);
            if (d.status != DisputeStatus.Open) continue;
            bonds += d.bond;
            assertTrue(s.leases[d.leaseId - 1].disputed, "open dispute on a lease not marked disputed");
            assertEq(handler.ghost_openDispute(d.leaseId), id, "open dispute != handler's view");
        }
        uint256 courtHeld = token.balanceOf(address(court));
        assertEq(courtHeld, bonds, "court balance != bonds of open disputes");
        assertEq(courtHeld, handler.ghost_courtIn() - handler.ghost_courtOut(), "court balance != bonds in - out");
    }

    /// @notice 2. No lease pays out more than was put into it: paid to provider + refunded + still held == deposited
    ///         (the refund being what the publisher received on close beyond its dark compensation).
    function _checkLeaseEscrowBalances(Snapshot memory s) internal view {
        for (uint256 k; k < s.leases.length; ++k) {
            uint256 deposited = s.deposited[k];
            uint256 paid = s.paid[k];
            uint256 refunded = handler.ghost_refunded(k + 1);
            Lease memory lease = s.leases[k];
            assertLe(paid, deposited, "lease paid more than deposited");
            assertEq(paid + refunded + lease.balance, deposited, "lease paid + refunded + balance != deposited");
            if (lease.status == LeaseStatus.Active) assertEq(refunded, 0, "active lease refunded");
        }
    }

    /// @notice 3a. A closed lease is frozen: everything it holds is withdrawable, nothing more ever accrues, its end
    ///         time never moves, and its collateral is held (dispute window or dispute) until released, slashed or
    ///         paid out as compensation. A lease is marked disputed exactly while a dispute on it is open.
    function _checkClosedLeasesDoNotAccrue(Snapshot memory s) internal view {
        for (uint256 k; k < s.leases.length; ++k) {
            uint256 id = k + 1;
            Lease memory lease = s.leases[k];
            assertEq(lease.disputed, handler.ghost_openDispute(id) != 0, "lease.disputed != open dispute");
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
    ///         time it ran (to endedAt when closed, to now when active, to darkAt (or its last settlement before the
    ///         report, if later) when its provider was reported dark), top-ups notwithstanding; in fact it is exactly
    ///         min(price * elapsed, deposited): per-second streaming, the last partial second paid in full.
    function _checkAccrualMatchesElapsedTime(Snapshot memory s) internal view {
        for (uint256 k; k < s.leases.length; ++k) {
            uint256 id = k + 1;
            Lease memory lease = s.leases[k];
            uint256 paid = s.paid[k];
            bool dark = lease.epoch != s.stakes[_indexOf(s.provs, lease.provider)].epoch;
            uint256 darkCap = dark ? _darkCap(id, lease) : 0;
            uint256 end;
            uint256 claimable;
            if (lease.status == LeaseStatus.Closed) {
                end = lease.endedAt;
                claimable = lease.balance;
                if (handler.ghost_darkClosed(id)) assertLe(end, darkCap, "dark lease ended after darkAt");
            } else {
                (claimable,) = market.withdrawable(id);
                assertLe(lease.settledAt, block.timestamp, "settled in the future");
                if (dark) {
                    assertLe(lease.settledAt, darkCap, "dark lease settled past darkAt");
                    // settledAt <= darkCap; darkAt may even predate the lease (a silent provider took it).
                    end = lease.settledAt > darkCap ? lease.settledAt : darkCap;
                } else {
                    end = block.timestamp;
                }
            }
            assertGe(lease.settledAt, lease.startedAt, "settled before start");
            uint256 timeBound = uint256(lease.pricePerSecond) * (end - lease.startedAt);
            assertLe(paid, timeBound, "paid > price * (end - startedAt)");
            assertLe(paid + claimable, timeBound, "earned > price * (end - startedAt)");
            uint256 deposited = s.deposited[k];
            assertEq(
                paid + claimable, timeBound < deposited ? timeBound : deposited, "earned != min(price*t, deposited)"
            );
        }
    }

    /// @notice 4. Stake: free + locked + unbonding is what the provider staked minus what it withdrew and what dark
    ///         reports and dispute rulings slashed; locked matches the handler's own ledger, and is exactly the
    ///         collateral of its active, non-dark leases plus that of its closed leases of the current epoch that the
    ///         dispute window or a dispute still holds, plus the reservations of its active bids of the current epoch.
    ///         (The handler counts any release before endedAt + disputeWindow; invariant 6 requires none.)
    function _checkStakeAccounting(Snapshot memory s) internal view {
        uint256 n = s.provs.length;
        uint256[] memory committed = new uint256[](n);
        for (uint256 k; k < s.leases.length; ++k) {
            Lease memory lease = s.leases[k];
            uint256 i = _indexOf(s.provs, lease.provider);
            if (lease.epoch != s.stakes[i].epoch) continue;
            // Running leases, and closed ones whose collateral is still held for the dispute window or a dispute.
            committed[i] += lease.collateral;
        }
        for (uint256 i; i < n; ++i) {
            address prov = s.provs[i];
            Stake memory stake = s.stakes[i];
            assertEq(
                uint256(stake.free) + stake.locked + stake.unbonding,
                handler.ghost_staked(prov) - handler.ghost_withdrawnStake(prov) - handler.ghost_stakeSlashed(prov),
                "stake != staked - withdrawn - slashed"
            );
            assertEq(stake.locked, handler.ghost_locked(prov), "locked != handler's locked ledger");
            for (uint256 k; k < s.orders.length; ++k) {
                Bid memory bid = s.bids[k][i];
                if (bid.status == BidStatus.Active && bid.epoch == stake.epoch) committed[i] += bid.reserved;
            }
            assertEq(stake.locked, committed[i], "locked != live collateral + held collateral + live bid reservations");
            assertEq(stake.epoch, handler.ghost_epoch(prov), "epoch != dark reports");
            if (stake.unbonding == 0) assertEq(stake.unbondingReleaseAt, 0, "release time without unbonding");
        }
    }

    /// @notice 5. Fees: accrued + withdrawn to the treasury == sum over provider withdrawals of feeOf(gross) plus the
    ///         dark-pool shares of void bids, and the providers received exactly the rest of what their leases paid.
    function _checkFees(Snapshot memory s) internal view {
        uint256 expected = handler.ghost_feesAccrued();
        assertEq(market.accruedFees() + handler.ghost_feesWithdrawn(), expected, "accrued + withdrawn != sum of fees");
        assertEq(expected, handler.ghost_withdrawalFees() + handler.ghost_totalSwept(), "fees != withdrawal + swept");
        assertEq(token.balanceOf(treasury), handler.ghost_feesWithdrawn(), "treasury balance != fees withdrawn");

        uint256 paid;
        for (uint256 k; k < s.paid.length; ++k) {
            paid += s.paid[k];
        }
        assertEq(paid, handler.ghost_grossWithdrawn(), "sum of LeaseSettled != gross withdrawn");
        assertEq(
            handler.ghost_netToProviders() + handler.ghost_withdrawalFees(), paid, "net to providers + fees != gross"
        );
        assertEq(handler.ghost_withdrawReturnMismatches(), 0, "withdraw returned a net it did not pay");
    }

    /// @notice 6. Dark reports: a report slashes exactly darkSlashBps of the locked stake (never more than was
    ///         locked), the reporter gets exactly reporterRewardBps of that, and per reported provider epoch
    ///         pool + compensation paid from it + void-bid shares swept == slashed - reward, exactly. Every
    ///         compensation and sweep is exactly compensationBps of the collateral or reservation (the pool never runs
    ///         dry), every close pays the publisher exactly its unspent escrow plus that, and in total publishers of
    ///         dark leases never received more than the slashed stake net of rewards plus their unspent escrow.
    function _checkDarkReports(Snapshot memory s) internal view {
        for (uint256 i; i < s.provs.length; ++i) {
            address prov = s.provs[i];
            uint256 epochs = s.stakes[i].epoch;
            for (uint256 epoch; epoch < epochs; ++epoch) {
                DarkRecord memory record = market.darkRecord(prov, epoch);
                DarkGhost memory g = handler.darkGhost(prov, epoch);
                assertLe(g.slashed, g.lockedAtReport, "slashed more than was locked");
                assertEq(g.slashed, g.lockedAtReport * g.slashBps / BPS, "slashed != locked * darkSlashBps");
                assertEq(g.reward, g.slashed * g.rewardBps / BPS, "reward != slashed * reporterRewardBps");
                assertEq(record.darkAt, g.darkAt, "darkAt != last heartbeat before the report");
                assertEq(record.compensationBps, g.compensationBps, "compensationBps");
                assertEq(
                    uint256(record.pool) + g.compensated + g.swept,
                    g.slashed - g.reward,
                    "pool + compensated + swept != slashed - reward"
                );
            }
        }
        uint256 net = handler.ghost_totalDarkSlashed() - handler.ghost_totalRewards();
        assertLe(handler.ghost_totalCompensation() + handler.ghost_totalSwept(), net, "paid from pools > slashed net");
        assertLe(
            handler.ghost_darkReceipts(),
            net + handler.ghost_darkUnspentEscrow(),
            "dark publishers received > slashed net + unspent escrow"
        );
        assertEq(handler.ghost_compensationMismatches(), 0, "compensation != collateral * compensationBps");
        assertEq(handler.ghost_sweepMismatches(), 0, "void-bid sweep != reserved * compensationBps");
        assertEq(handler.ghost_closeMismatches(), 0, "close paid publisher != unspent escrow + compensation");
        assertEq(handler.ghost_disputeMismatches(), 0, "ruling slashed/released/paid != expected");
        assertEq(handler.ghost_earlyReleases(), 0, "collateral released before the dispute window ended");
        assertEq(handler.ghost_rankMismatches(), 0, "evicted or matched another bid than expected");
    }

    /// @notice Orders and bids: an open order's best bid is its lowest standing bid and bidCount counts the standing
    ///         bids (evicted ones excluded), a cancelled order refunded its whole deposit, a matched order became a
    ///         lease with the winner's price and reservation, and every eviction and fall-through match picked the
    ///         bid the handler's own ranking expected.
    function _checkOrdersAndBids(Snapshot memory s) internal view {
        uint256 acceptWindow = market.params().acceptWindow;
        for (uint256 k; k < s.orders.length; ++k) {
            uint256 id = k + 1;
            Order memory order = s.orders[k];
            // Until it expires an open order's bids all stand; after that they may be released one by one.
            bool live = order.status == OrderStatus.Open && block.timestamp < uint256(order.bidDeadline) + acceptWindow;
            // The cap can be lowered by governance under an order's count; a full order never grows, it evicts.
            assertLe(order.bidCount, s.provs.length, "more standing bids than bidders");
            if (order.status == OrderStatus.Cancelled) {
                assertEq(handler.ghost_orderRefunded(id), order.deposit, "cancelled order: refund != deposit");
            } else if (order.status == OrderStatus.Matched) {
                Lease memory lease = s.leases[order.leaseId - 1];
                Bid memory bid = s.bids[k][_indexOf(s.provs, lease.provider)];
                assertEq(uint8(bid.status), uint8(BidStatus.Won), "matched lease's provider did not win");
                assertEq(lease.publisher, order.publisher, "matched lease: publisher");
                assertEq(lease.pricePerSecond, bid.pricePerSecond, "matched lease: price != bid");
                // Collateral is zeroed once released or compensated on close; a ruling may slash part of it.
                if (lease.status == LeaseStatus.Active) {
                    assertEq(
                        lease.collateral + handler.ghost_disputeSlashed(order.leaseId),
                        bid.reserved,
                        "matched lease: collateral + slashed by rulings != reservation"
                    );
                }
            }
            uint256 bids;
            uint256 wins;
            for (uint256 i; i < s.provs.length; ++i) {
                Bid memory bid = s.bids[k][i];
                // An evicted bid no longer stands (nor counts); its provider may have bid again since.
                if (bid.status == BidStatus.None || bid.status == BidStatus.Evicted) continue;
                ++bids;
                assertLe(bid.pricePerSecond, order.maxPricePerSecond, "bid above max");
                if (live) assertEq(uint8(bid.status), uint8(BidStatus.Active), "live order with a settled bid");
                if (order.status == OrderStatus.Open) {
                    assertLe(order.bestPrice, bid.pricePerSecond, "best price above a standing bid");
                }
                if (bid.status == BidStatus.Won) ++wins;
            }
            assertEq(bids, order.bidCount, "bidCount != standing bids");
            assertEq(wins, order.status == OrderStatus.Matched ? 1 : 0, "winning bids != 1 per matched order");
            if (order.status == OrderStatus.Open && order.bestBidder != address(0)) {
                assertEq(
                    s.bids[k][_indexOf(s.provs, order.bestBidder)].pricePerSecond,
                    order.bestPrice,
                    "best price != best bid"
                );
            }
        }
    }

    /// @dev Where a dark lease's accrual must stop: its provider's darkAt, unless the lease was already settled past
    ///      it when the report came.
    function _darkCap(uint256 id, Lease memory lease) internal view returns (uint256 cap) {
        cap = market.darkRecord(lease.provider, lease.epoch).darkAt;
        uint256 settledAtReport = handler.ghost_settledAtReport(id);
        if (settledAtReport > cap) cap = settledAtReport;
    }

    function _indexOf(address[] memory provs, address prov) internal pure returns (uint256) {
        for (uint256 i; i < provs.length; ++i) {
            if (provs[i] == prov) return i;
        }
        revert("unknown provider");
    }

    /// @notice Logs what the last run of each campaign did (run with -vv to see it).
    function afterInvariant() public view {
        handler.callSummary();
    }
}
