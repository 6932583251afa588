// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPodnetMarket} from "../interfaces/IPodnetMarket.sol";
import {CloseReason, DarkRecord, Lease, LeaseStatus, MarketParams, Stake} from "../types/MarketTypes.sol";
import {LeaseMath} from "./LeaseMath.sol";
import {MarketCore, MarketState} from "./MarketCore.sol";

/// @title Guarantees
/// @notice What backs a lease besides its escrow: dark reports and the jail, and the collateral a dispute holds.
/// @dev An external library: PodnetMarket calls it by DELEGATECALL, so it runs on the market's storage (MarketState)
///      and keeps the market under the EVM's code size limit. Token transfers stay in the market: each function
///      returns what the market must pay. Errors and events are the market's (IPodnetMarket). The hot paths
///      (heartbeat, leases, withdrawals) stay in the market itself.
library Guarantees {
    /// @dev See IPodnetMarket.reportDark. Returns the reporter's reward for the market to pay.
    function reportDark(MarketState storage s, address provider) external returns (uint256 reward) {
        Stake storage stake = s.stakes[provider];
        uint40 darkAt = stake.lastHeartbeat;
        if (darkAt == 0) revert IPodnetMarket.MarketNotStaked(provider);
        if (stake.jailed) revert IPodnetMarket.MarketProviderJailed(provider);
        MarketParams memory p = s.params;
        uint256 reportableAt = uint256(darkAt) + p.heartbeatThreshold + 1;
        if (block.timestamp < reportableAt) {
            // Alive now, but a late heartbeat does not erase the gap before it: the gap stays reportable for another
            // heartbeatThreshold after the heartbeat that ended it, and its leases end where the silence began.
            uint256 gapUntil = stake.darkGapUntil;
            if (gapUntil == 0 || block.timestamp > gapUntil + p.heartbeatThreshold) {
                revert IPodnetMarket.MarketProviderAlive(provider, darkAt, reportableAt);
            }
            darkAt = stake.darkGapFrom;
        }
        // forge-lint: disable-next-line(unsafe-typecast) jailCooldown <= 365 days
        uint40 jailedUntil = uint40(block.timestamp + p.jailCooldown);

        uint256 locked = stake.locked;
        uint256 slashed = locked * p.darkSlashBps / LeaseMath.BPS;
        reward = slashed * p.reporterRewardBps / LeaseMath.BPS;
        uint24 epoch = stake.epoch;
        // Each lease of this epoch later receives compensationBps of its own collateral; their sum never exceeds
        // slashed - reward, so the pool cannot run dry.
        s.darkRecords[provider][epoch] = DarkRecord({
            darkAt: darkAt,
            // forge-lint: disable-next-line(unsafe-typecast) < BPS
            compensationBps: uint16(uint256(p.darkSlashBps) * (LeaseMath.BPS - p.reporterRewardBps) / LeaseMath.BPS),
            // forge-lint: disable-next-line(unsafe-typecast) slashed - reward <= locked, a uint96
            pool: uint96(slashed - reward),
            jailedUntil: jailedUntil
        });
        // forge-lint: disable-next-line(unsafe-typecast) slashed <= locked, a uint96
        stake.free += uint96(locked - slashed);
        stake.locked = 0;
        stake.epoch = epoch + 1;
        stake.jailed = true;

        emit IPodnetMarket.ProviderReportedDark(
            provider, msg.sender, epoch, darkAt, slashed, reward, locked - slashed, jailedUntil
        );
    }

    /// @dev See IPodnetMarket.unjail.
    function unjail(MarketState storage s) external {
        Stake storage stake = s.stakes[msg.sender];
        if (!stake.jailed) revert IPodnetMarket.MarketProviderNotJailed(msg.sender);
        uint24 epoch = stake.epoch;
        // A jailed provider has been reported at least once: its last report ended epoch - 1.
        uint256 jailedUntil = s.darkRecords[msg.sender][epoch - 1].jailedUntil;
        if (block.timestamp < jailedUntil) revert IPodnetMarket.MarketJailCooldown(msg.sender, jailedUntil);
        uint256 bonded = uint256(stake.free) + stake.locked;
        uint256 minimum = s.params.minProviderStake;
        if (bonded < minimum) revert IPodnetMarket.MarketStakeBelowMinimum(msg.sender, bonded, minimum);
        stake.jailed = false;
        // forge-lint: disable-next-line(unsafe-typecast) unix seconds fit in uint32 until 2106
        stake.lastHeartbeat = uint32(block.timestamp);
        // A gap of the epoch that just ended must not be reported again in the new one.
        if (stake.darkGapUntil != 0) (stake.darkGapFrom, stake.darkGapUntil) = (0, 0);
        emit IPodnetMarket.ProviderUnjailed(msg.sender, epoch);
        emit IPodnetMarket.Heartbeat(msg.sender, uint40(block.timestamp));
    }

    /// @dev A heartbeat at now after `lastHeartbeat` + `threshold`: records the gap (see IPodnetMarket.heartbeat). Only
    ///      the latest gap is kept: a new one needs a silence longer than the threshold after the previous late
    ///      heartbeat, by which time that gap is no longer reportable.
    function recordDarkGap(MarketState storage s, address provider, uint256 lastHeartbeat, uint256 threshold) external {
        Stake storage stake = s.stakes[provider];
        // forge-lint: disable-next-line(unsafe-typecast) threshold <= 365 days
        uint40 reportableUntil = uint40(block.timestamp + threshold);
        // forge-lint: disable-next-line(unsafe-typecast) a uint32 read from the stake
        stake.darkGapFrom = uint32(lastHeartbeat);
        // forge-lint: disable-next-line(unsafe-typecast) unix seconds fit in uint32 until 2106
        stake.darkGapUntil = uint32(block.timestamp);
        emit IPodnetMarket.DarkGapRecorded(provider, stake.darkGapFrom, uint40(block.timestamp), reportableUntil);
    }

    /// @dev See IPodnetMarket.closeLease. Returns what the market must pay the publisher: the unspent escrow, plus its
    ///      share of the slash when the provider was reported dark since the lease started.
    function closeLease(MarketState storage s, uint256 leaseId) external returns (address publisher, uint256 payout) {
        Lease storage lease = s.leases[leaseId];
        MarketCore.requireActive(leaseId, lease.status);
        publisher = lease.publisher;
        Stake storage stake = s.stakes[lease.provider];
        (CloseReason reason, uint256 endedAt, uint256 earned, uint256 refund) = _end(s, lease, leaseId, stake.epoch);

        uint256 held;
        uint256 releasableAt;
        uint96 released;
        if (reason == CloseReason.ProviderDark) {
            // The collateral was slashed by the dark report; the publisher receives its share now.
            payout = MarketCore.compensate(s, lease);
        } else {
            (held, releasableAt, released) = _holdForDisputes(s, lease, stake, endedAt);
        }
        emit IPodnetMarket.LeaseClosed(leaseId, msg.sender, reason, endedAt, earned, refund, held, releasableAt);
        if (released != 0) emit IPodnetMarket.CollateralReleased(leaseId, lease.provider, released);
        if (payout != 0) emit IPodnetMarket.CompensationPaid(leaseId, publisher, payout);
        payout += refund;
    }

    /// @dev See IPodnetMarket.releaseCollateral. Returns the compensation the market must pay the publisher (for a
    ///      provider reported dark since the lease closed), else 0.
    function releaseCollateral(MarketState storage s, uint256 leaseId)
        external
        returns (address publisher, uint256 compensation)
    {
        Lease storage lease = s.leases[leaseId];
        uint96 collateral = lease.collateral;
        if (lease.status != LeaseStatus.Closed || collateral == 0) {
            revert IPodnetMarket.MarketCollateralNotHeld(leaseId);
        }
        if (lease.disputed) revert IPodnetMarket.MarketLeaseDisputed(leaseId);
        address provider = lease.provider;
        publisher = lease.publisher;
        Stake storage stake = s.stakes[provider];
        if (lease.epoch == stake.epoch) {
            uint256 releasableAt = uint256(lease.endedAt) + s.params.disputeWindow;
            if (block.timestamp < releasableAt) revert IPodnetMarket.MarketDisputeWindowOpen(leaseId, releasableAt);
            MarketCore.unlockStake(stake, collateral);
            lease.collateral = 0;
            emit IPodnetMarket.CollateralReleased(leaseId, provider, collateral);
        } else {
            // Reported dark since the close: the held collateral was slashed with the rest and nothing can be
            // disputed any more, so the publisher's share is paid now, window or not.
            compensation = MarketCore.compensate(s, lease);
            emit IPodnetMarket.CollateralReleased(leaseId, provider, 0);
            if (compensation != 0) emit IPodnetMarket.CompensationPaid(leaseId, publisher, compensation);
        }
    }

    /// @dev Settles a lease that is closing and marks it closed: it accrued up to now, or up to its provider's darkAt
    ///      when the provider was reported dark since it started (`providerEpoch` is the provider's current epoch).
    ///      What the provider earned stays in the lease until it withdraws; the rest (`refund`) is for the publisher.
    function _end(MarketState storage s, Lease storage lease, uint256 leaseId, uint24 providerEpoch)
        private
        returns (CloseReason reason, uint256 endedAt, uint256 earned, uint256 refund)
    {
        uint256 balance = lease.balance;
        (earned, endedAt) = LeaseMath.settle(
            balance, lease.pricePerSecond, lease.settledAt, MarketCore.accruesUntil(s, lease, providerEpoch)
        );
        if (lease.epoch != providerEpoch) reason = CloseReason.ProviderDark;
        else if (earned == balance) reason = CloseReason.OutOfFunds;
        else if (msg.sender == lease.publisher) reason = CloseReason.Publisher;
        else if (msg.sender == lease.provider) reason = CloseReason.Provider;
        else revert IPodnetMarket.MarketNotLeaseParty(leaseId, msg.sender);

        refund = balance - earned;
        // forge-lint: disable-next-line(unsafe-typecast) earned <= balance, a uint96
        lease.balance = uint96(earned);
        // forge-lint: disable-next-line(unsafe-typecast) endedAt <= block.timestamp
        lease.endedAt = uint40(endedAt);
        lease.status = LeaseStatus.Closed;
    }

    /// @dev Whatever the close reason, a live provider's collateral stays locked for disputes until the window after
    ///      the end. A lease that ended longer ago than the window (it ran out and stood open) has nothing left to
    ///      hold: its collateral goes back now (`released`), unless a dispute holds it.
    function _holdForDisputes(MarketState storage s, Lease storage lease, Stake storage stake, uint256 endedAt)
        private
        returns (uint256 held, uint256 releasableAt, uint96 released)
    {
        held = lease.collateral;
        if (held == 0) return (0, 0, 0);
        releasableAt = endedAt + s.params.disputeWindow;
        if (lease.disputed || block.timestamp < releasableAt) return (held, releasableAt, 0);
        released = lease.collateral;
        MarketCore.unlockStake(stake, released);
        lease.collateral = 0;
        return (0, 0, released);
    }

    /// @dev See IPodnetMarket.holdCollateral.
    function holdCollateral(MarketState storage s, uint256 leaseId)
        external
        returns (address publisher, address provider, uint96 collateral)
    {
        Lease storage lease = s.leases[leaseId];
        LeaseStatus status = lease.status;
        if (status == LeaseStatus.None) revert IPodnetMarket.MarketLeaseNotFound(leaseId);
        provider = lease.provider;
        if (lease.epoch != s.stakes[provider].epoch) {
            revert IPodnetMarket.MarketProviderWentDark(provider, lease.epoch);
        }
        if (lease.disputed) revert IPodnetMarket.MarketLeaseDisputed(leaseId);
        if (status == LeaseStatus.Closed) {
            // An ended lease is disputable while its collateral is still held for the window: a close (even one that
            // front-runs the dispute) cannot take the collateral out of reach. Once a ruling released it, no more.
            if (lease.collateral == 0) revert IPodnetMarket.MarketCollateralNotHeld(leaseId);
            uint256 releasableAt = uint256(lease.endedAt) + s.params.disputeWindow;
            if (block.timestamp >= releasableAt) {
                revert IPodnetMarket.MarketDisputeWindowClosed(leaseId, releasableAt);
            }
        }
        lease.disputed = true;
        emit IPodnetMarket.CollateralHeld(leaseId);
        return (lease.publisher, provider, lease.collateral);
    }

    /// @dev See IPodnetMarket.settleDispute. Returns what the market must pay the publisher (`slashed`).
    function settleDispute(MarketState storage s, uint256 leaseId, uint256 slashAmount)
        external
        returns (uint256 slashed, address publisher, address provider)
    {
        Lease storage lease = s.leases[leaseId];
        if (!lease.disputed) revert IPodnetMarket.MarketLeaseNotDisputed(leaseId);
        lease.disputed = false;
        publisher = lease.publisher;
        provider = lease.provider;
        Stake storage stake = s.stakes[provider];
        uint96 collateral = lease.collateral;
        uint256 released;
        if (lease.epoch == stake.epoch) {
            slashed = slashAmount < collateral ? slashAmount : collateral;
            // forge-lint: disable-next-line(unsafe-typecast) slashed <= collateral, a uint96
            uint96 remaining = collateral - uint96(slashed);
            // forge-lint: disable-next-line(unsafe-typecast) slashed <= collateral <= stake.locked
            stake.locked -= uint96(slashed);
            if (lease.status == LeaseStatus.Closed) {
                MarketCore.unlockStake(stake, remaining);
                released = remaining;
                remaining = 0;
            }
            lease.collateral = remaining;
        } else if (lease.status == LeaseStatus.Closed) {
            // The provider went dark after this lease closed under dispute: the held collateral was slashed with the
            // rest, and no dark close will pay its share, so the ruling does.
            slashed = MarketCore.compensate(s, lease);
        }
        // A lease still running when its provider went dark is compensated when it closes, whatever the ruling.
        emit IPodnetMarket.DisputeSettled(leaseId, slashed, released);
    }
}
