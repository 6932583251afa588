// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Resources of a pod, or a provider's capacity.
/// @dev cpuMillis in millicores (1000 = one core), memoryMiB and storageMiB in mebibytes.
struct Resources {
    uint32 cpuMillis;
    uint32 memoryMiB;
    uint32 storageMiB;
}

/// @notice A provider's listed price, per second, in the payment token's base units.
/// @dev price per second = cpuMillis * perCpuMilli + memoryMiB * perMemoryMiB + storageMiB * perStorageMiB + flat.
struct Pricing {
    uint96 perCpuMilli;
    uint96 perMemoryMiB;
    uint96 perStorageMiB;
    uint96 flat;
}

/// @notice What a provider publishes about itself in the registry.
struct ProviderProfile {
    /// @dev Base URL of the provider API (http:// or https://).
    string endpoint;
    /// @dev Where the provider's human-readable description lives (may be empty).
    string metadataURI;
    /// @dev X25519 public key that publishers wrap content keys to.
    bytes32 encryptionKey;
    Pricing pricing;
    Resources capacity;
    /// @dev Each attribute is a UTF-8 "key=value" left-aligned in 32 bytes, e.g. "region=eu-west".
    bytes32[] attributes;
}

enum ProviderStatus {
    None,
    Active,
    Paused
}

/// @notice A provider's signed offer to run one spec at one price (EIP-712 typed data).
struct Quote {
    address provider;
    /// @dev The only account that may use the quote; address(0) lets anyone use it.
    address publisher;
    bytes32 specHash;
    Resources resources;
    uint96 pricePerSecond;
    uint40 validUntil;
    bytes32 attestationHash;
    uint256 nonce;
}

/// @notice An EIP-2612 permit of the payment token, signed by the caller for the market (spender) and the amount the
///         call pulls (value); the *WithPermit functions submit it before pulling the tokens.
struct PermitSignature {
    uint256 deadline;
    uint8 v;
    bytes32 r;
    bytes32 s;
}

/// @notice Stake and liveness of one provider. bonded = free + locked (at most 2^96 - 1); unbonding is on its way out.
/// @dev The first slot holds everything a lease or bid checks (stake, liveness, epoch), so taking work reads one slot.
///      lastHeartbeat is a uint32 (unix seconds until 2106) so that the epoch gets a third byte.
struct Stake {
    uint96 free;
    /// @dev Collateral of running leases, collateral of closed leases held for the dispute window or a dispute,
    ///      plus reservations of standing bids.
    uint96 locked;
    /// @dev Last heartbeat, or the time of the first stake (or of the unjail that ended a jail).
    uint32 lastHeartbeat;
    /// @dev Number of times the provider was reported dark. Leases and bids remember the epoch they were made in:
    ///      those of an earlier epoch belong to a dark period and were slashed. Leaving jail takes a cooldown of at
    ///      least MIN_JAIL_COOLDOWN, so 2^24 epochs cannot be used up.
    uint24 epoch;
    /// @dev Reported dark and not yet out through `unjail` (after the cooldown, with the minimum stake): takes no new
    ///      leases or bids.
    bool jailed;
    uint96 unbonding;
    uint40 unbondingReleaseAt;
    /// @dev The last dark gap a late heartbeat ended: the provider was silent from darkGapFrom (its heartbeat before
    ///      the gap) to darkGapUntil (the late heartbeat). It stays reportable for that gap, with darkAt = darkGapFrom,
    ///      until darkGapUntil + heartbeatThreshold. Cleared by unjail.
    uint32 darkGapFrom;
    uint32 darkGapUntil;
}

/// @notice What a dark report left for the leases of one provider epoch.
struct DarkRecord {
    /// @dev The provider's last heartbeat: its leases of that epoch end here (or at their last settlement, if later).
    uint40 darkAt;
    /// @dev Share of each lease's collateral that its publisher receives, in basis points (slash ratio minus the
    ///      reporter's reward).
    uint16 compensationBps;
    /// @dev Slashed stake not yet paid out as compensation.
    uint96 pool;
    /// @dev The report time plus the jail cooldown in force then: the provider may `unjail` from this second on.
    uint40 jailedUntil;
}

enum LeaseStatus {
    None,
    Active,
    Closed
}

enum CloseReason {
    None,
    Publisher,
    Provider,
    OutOfFunds,
    ProviderDark
}

/// @notice One lease: escrowed funds that stream to the provider per second.
/// @dev Packed into four slots so that withdraw and top-up read two (provider and price; balance, settlement time
///      and status) and rewrite one.
///      `balance` is every token still held for the lease: unspent funds plus what the provider has earned but not
///      yet withdrawn. The provider has been paid for everything up to `settledAt`.
struct Lease {
    address publisher;
    uint40 startedAt;
    uint40 endedAt;
    /// @dev A dispute is open: the collateral stays locked, even past the dispute window, until the ruling.
    bool disputed;
    address provider;
    uint96 pricePerSecond;
    uint96 balance;
    /// @dev Stake locked for this lease now: set at start; after the close it stays locked until endedAt +
    ///      disputeWindow (or the end of a dispute), then 0 once released, slashed or paid out as compensation.
    uint96 collateral;
    /// @dev A uint32 (unix seconds until 2106) so that the epoch fits in this slot.
    uint32 settledAt;
    LeaseStatus status;
    /// @dev The provider's epoch when the lease started (see Stake.epoch).
    uint24 epoch;
    bytes32 specHash;
}

enum OrderStatus {
    None,
    Open,
    Matched,
    Cancelled
}

/// @notice What an order asks of the providers that bid on it.
struct Requirements {
    /// @dev Minimum bonded stake (free + locked) of a bidder.
    uint128 minStake;
    /// @dev Attributes every bidder must have.
    bytes32[] attributes;
}

/// @notice A publisher's request for bids (reverse market).
/// @dev bestBidder shares its slot with maxPricePerSecond and bestPrice with deposit, so that the first bid rewrites
///      slots that are already non-zero instead of paying for fresh ones.
struct Order {
    address publisher;
    uint40 bidDeadline;
    OrderStatus status;
    bool autoAccept;
    /// @dev Standing bids: placed minus evicted (releases after the order ended do not count down).
    uint8 bidCount;
    /// @dev acceptWindow in force when the order was created: a later governance change does not move its expiry.
    uint32 acceptWindow;
    address bestBidder;
    uint96 maxPricePerSecond;
    uint96 deposit;
    uint96 bestPrice;
    uint64 leaseId;
    Resources resources;
    uint128 minStake;
    bytes32 specHash;
}

enum BidStatus {
    None,
    Active,
    Won,
    Released,
    /// @dev Replaced by a better bid on a full order; its reservation was released and its provider may bid again.
    Evicted
}

/// @notice A provider's bid; `reserved` is the stake set aside as collateral while the bid stands.
struct Bid {
    uint96 pricePerSecond;
    uint96 reserved;
    uint32 placedAt;
    BidStatus status;
    /// @dev The provider's epoch when it bid: a bid from before a dark report is void.
    uint24 epoch;
}

/// @notice Governed parameters of the market.
struct MarketParams {
    /// @dev Protocol fee taken from provider withdrawals, in basis points.
    uint16 feeBps;
    /// @dev Seconds between an unstake request and the stake becoming withdrawable.
    uint40 unbondingDelay;
    /// @dev Collateral locked per lease = pricePerSecond * collateralSeconds.
    uint40 collateralSeconds;
    /// @dev A lease's first deposit must pay for at least this many seconds.
    uint40 minLeaseDuration;
    /// @dev Longest allowed bid window of an order.
    uint40 maxBidWindow;
    /// @dev After the bid deadline, how long the publisher (or anyone, with auto-accept) can still match the order.
    uint40 acceptWindow;
    /// @dev Most standing bids one order holds; once full, a better bid replaces the worst.
    uint8 maxBidsPerOrder;
    /// @dev Share of the slashed stake paid to whoever reports a dark provider, in basis points.
    uint16 reporterRewardBps;
    /// @dev Share of a dark provider's locked stake that is slashed, in basis points (the rest returns to free).
    uint16 darkSlashBps;
    /// @dev Least bonded stake a provider needs to place a bid, take a direct lease or leave jail. A placed bid stays
    ///      binding even if the provider's stake later falls below it: its reservation already backs the lease.
    uint96 minProviderStake;
    /// @dev A provider whose last heartbeat is older than this (strictly) can be reported dark.
    uint40 heartbeatThreshold;
    /// @dev How long a provider reported dark stays jailed before it may `unjail`.
    uint40 jailCooldown;
    /// @dev After a lease ends (endedAt), how long its collateral stays locked and its publisher may still dispute it.
    uint40 disputeWindow;
    /// @dev A bid reserves at least the collateral of a bid at this share of the order's maximum price, in basis
    ///      points: max(price, maxPricePerSecond * minBidCollateralBps / 10000) * collateralSeconds.
    uint16 minBidCollateralBps;
}
