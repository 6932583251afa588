// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPodnetMarket} from "../interfaces/IPodnetMarket.sol";
import {IProviderRegistry} from "../interfaces/IProviderRegistry.sol";
import {Bid, DarkRecord, Lease, LeaseStatus, MarketParams, Order, Resources, Stake} from "../types/MarketTypes.sol";
import {LeaseMath} from "./LeaseMath.sol";

/// @notice Protocol fee rate and the fees accrued under it, packed so a withdrawal reads and writes one slot.
/// @dev `bps` mirrors MarketParams.feeBps; PodnetMarket._setParams writes both.
struct FeeAccount {
    uint16 bps;
    uint128 accrued;
}

/// @notice All storage of PodnetMarket. One struct so that the contract and its external OrderBook library
///         (which runs by DELEGATECALL, in the market's storage) see the same layout.
struct MarketState {
    MarketParams params;
    FeeAccount fees;
    address treasury;
    uint64 leaseCount;
    uint64 orderCount;
    mapping(address provider => Stake) stakes;
    mapping(address provider => mapping(uint256 wordPos => uint256 bits)) quoteNonces;
    mapping(uint256 leaseId => Lease) leases;
    mapping(uint256 orderId => Order) orders;
    mapping(uint256 orderId => bytes32[]) orderAttributes;
    mapping(uint256 orderId => mapping(address provider => Bid)) bids;
    mapping(address provider => mapping(uint256 epoch => DarkRecord)) darkRecords;
}

/// @title MarketCore
/// @notice Rules shared by direct leases (PodnetMarket) and the reverse market (OrderBook): who may take work,
///         locking collateral, and opening a lease.
library MarketCore {
    /// @dev Checks that `provider` may take new work and returns its stake record: registered and not paused, not
    ///      jailed after a dark report, alive, with bonded stake of at least `minStake`.
    function requireCanTakeWork(MarketState storage s, IProviderRegistry registry, address provider, uint256 minStake)
        internal
        view
        returns (Stake storage stake)
    {
        if (!registry.isActive(provider)) revert IPodnetMarket.MarketProviderNotActive(provider);
        stake = s.stakes[provider];
        if (stake.jailed) revert IPodnetMarket.MarketProviderJailed(provider);
        requireAlive(s, stake, provider);
        uint256 bonded = uint256(stake.free) + stake.locked;
        if (bonded < minStake) revert IPodnetMarket.MarketStakeBelowMinimum(provider, bonded, minStake);
    }

    /// @dev What a direct lease and an order both need: a real spec, a pod that needs CPU and memory, a price, and
    ///      a deposit that pays for the minimum lease duration at that price (the order's maximum price).
    function requireValidPod(
        bytes32 specHash,
        Resources calldata resources,
        uint96 pricePerSecond,
        uint96 deposit,
        uint40 minLeaseDuration
    ) internal pure {
        if (specHash == bytes32(0)) revert IPodnetMarket.MarketZeroSpecHash();
        if (resources.cpuMillis == 0 || resources.memoryMiB == 0) {
            revert IPodnetMarket.MarketInvalidResources(resources);
        }
        if (pricePerSecond == 0) revert IPodnetMarket.MarketZeroPrice();
        if (deposit == 0) revert IPodnetMarket.MarketZeroAmount();
        uint256 minimum = uint256(pricePerSecond) * minLeaseDuration;
        if (deposit < minimum) revert IPodnetMarket.MarketDepositTooLow(deposit, minimum);
    }

    /// @dev A provider silent for longer than the heartbeat threshold is reportable: it takes no new lease, and no
    ///      bid of it is matched. Otherwise anyone could lease from a silent provider just to report it and collect
    ///      the compensation and the reward for that lease.
    function requireAlive(MarketState storage s, Stake storage stake, address provider) internal view {
        uint256 lastHeartbeat = stake.lastHeartbeat;
        if (block.timestamp > lastHeartbeat + s.params.heartbeatThreshold) {
            revert IPodnetMarket.MarketProviderSilent(provider, lastHeartbeat);
        }
    }

    function requireActive(uint256 leaseId, LeaseStatus status) internal pure {
        if (status == LeaseStatus.None) revert IPodnetMarket.MarketLeaseNotFound(leaseId);
        if (status != LeaseStatus.Active) revert IPodnetMarket.MarketLeaseNotActive(leaseId, status);
    }

    /// @dev Pays nothing itself: takes the lease's share of its dark epoch's pool (compensationBps of its collateral)
    ///      and marks the collateral spent. The caller transfers the amount to the publisher.
    function compensate(MarketState storage s, Lease storage lease) internal returns (uint256 compensation) {
        DarkRecord storage record = s.darkRecords[lease.provider][lease.epoch];
        compensation = uint256(lease.collateral) * record.compensationBps / LeaseMath.BPS;
        if (compensation > record.pool) compensation = record.pool;
        // forge-lint: disable-next-line(unsafe-typecast) compensation <= record.pool, a uint96
        record.pool -= uint96(compensation);
        lease.collateral = 0;
    }

    /// @dev The time up to which a running lease accrues: now, or its provider's last heartbeat when the provider
    ///      was reported dark since the lease started (`providerEpoch` is the provider's current epoch).
    function accruesUntil(MarketState storage s, Lease storage lease, uint24 providerEpoch)
        internal
        view
        returns (uint256)
    {
        if (lease.epoch == providerEpoch) return block.timestamp;
        return s.darkRecords[lease.provider][lease.epoch].darkAt;
    }

    function lockStake(Stake storage stake, address provider, uint96 amount) internal {
        if (stake.free < amount) revert IPodnetMarket.MarketInsufficientFreeStake(provider, stake.free, amount);
        stake.free -= amount;
        stake.locked += amount;
    }

    function unlockStake(Stake storage stake, uint96 amount) internal {
        stake.locked -= amount;
        stake.free += amount;
    }

    function openLease(
        MarketState storage s,
        address publisher,
        address provider,
        uint256 orderId,
        bytes32 specHash,
        Resources memory resources,
        uint96 pricePerSecond,
        uint96 deposit,
        uint96 collateral,
        bytes32 attestationHash
    ) internal returns (uint256 leaseId) {
        leaseId = ++s.leaseCount;
        s.leases[leaseId] = Lease({
            publisher: publisher,
            startedAt: uint40(block.timestamp),
            endedAt: 0,
            disputed: false,
            provider: provider,
            pricePerSecond: pricePerSecond,
            balance: deposit,
            collateral: collateral,
            // forge-lint: disable-next-line(unsafe-typecast) unix seconds fit in uint32 until 2106
            settledAt: uint32(block.timestamp),
            status: LeaseStatus.Active,
            // The epoch the provider is in now: a dark report ends this lease at the provider's last heartbeat.
            epoch: s.stakes[provider].epoch,
            specHash: specHash
        });
        emit IPodnetMarket.LeaseCreated(
            leaseId,
            publisher,
            provider,
            orderId,
            specHash,
            resources,
            pricePerSecond,
            deposit,
            collateral,
            attestationHash
        );
    }
}
