// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {
    Bid,
    CloseReason,
    DarkRecord,
    Lease,
    LeaseStatus,
    MarketParams,
    Order,
    OrderStatus,
    PermitSignature,
    Quote,
    Requirements,
    Resources,
    Stake
} from "../types/MarketTypes.sol";
import {IProviderRegistry} from "./IProviderRegistry.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IPodnetMarket
/// @notice Escrow, stake and matching of the Podnet marketplace, in one ERC-20 fixed at deployment.
/// @dev The market holds three kinds of tokens: provider stake (free, locked as collateral, unbonding), escrow
///      (lease balances and order deposits) and protocol fees not yet sent to the treasury. Its token balance always
///      equals their sum.
///
///      Leases stream `pricePerSecond` from their escrowed balance to the provider. Settlement is lazy: nothing moves
///      until the provider withdraws, someone tops up, or the lease closes. When the balance runs out the lease stops
///      accruing at that second and anyone may close it.
interface IPodnetMarket {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice An amount that must be positive is zero.
    error MarketZeroAmount();
    /// @notice An address that must be set is zero.
    error MarketZeroAddress();
    /// @notice A governed parameter is out of its allowed range.
    error MarketInvalidParameter(string name, uint256 value);
    /// @notice `provider` is not registered in the provider registry.
    error MarketProviderNotRegistered(address provider);
    /// @notice `provider` is not registered, or paused.
    error MarketProviderNotActive(address provider);
    /// @notice `provider` has `free` stake but the call needs `needed`.
    error MarketInsufficientFreeStake(address provider, uint256 free, uint256 needed);
    /// @notice Staking would take `provider`'s bonded stake (free + locked) to `bonded`, above `maxBonded`: collateral
    ///         unlocked back into free stake must never overflow it.
    error MarketStakeTooLarge(address provider, uint256 bonded, uint256 maxBonded);
    /// @notice `provider`'s bonded stake `bonded` is below the `minimum` this call needs.
    error MarketStakeBelowMinimum(address provider, uint256 bonded, uint256 minimum);
    /// @notice Unbonding stake cannot be withdrawn before `releaseAt`.
    error MarketUnbondingNotReady(address provider, uint256 releaseAt);
    /// @notice `provider` has no unbonding stake.
    error MarketNothingUnbonding(address provider);
    /// @notice The quote expired at `validUntil`.
    error MarketQuoteExpired(uint256 validUntil, uint256 nowTimestamp);
    /// @notice The quote is reserved for `publisher`, not the caller.
    error MarketQuoteWrongPublisher(address publisher, address caller);
    /// @notice The signature is not `provider`'s over this quote.
    error MarketInvalidQuoteSignature(address provider);
    /// @notice `provider` has already used or cancelled `nonce`.
    error MarketQuoteNonceUsed(address provider, uint256 nonce);
    /// @notice The permit failed (expired, wrong signature, or no permit on the token) and `owner`'s allowance for the
    ///         market, `allowance`, does not cover `needed`.
    error MarketPermitFailed(address owner, uint256 allowance, uint256 needed);
    /// @notice A price per second is zero.
    error MarketZeroPrice();
    /// @notice The spec hash is zero.
    error MarketZeroSpecHash();
    /// @notice A pod needs some CPU and memory.
    error MarketInvalidResources(Resources resources);
    /// @notice `deposit` does not pay for the minimum lease duration (`minimum`).
    error MarketDepositTooLow(uint256 deposit, uint256 minimum);
    /// @notice No lease has id `leaseId`.
    error MarketLeaseNotFound(uint256 leaseId);
    /// @notice The lease is not active.
    error MarketLeaseNotActive(uint256 leaseId, LeaseStatus status);
    /// @notice The lease's funds ran out at `runsOutAt`; it can only be closed.
    error MarketLeaseOutOfFunds(uint256 leaseId, uint256 runsOutAt);
    /// @notice Only the lease's publisher may do this.
    error MarketNotLeasePublisher(uint256 leaseId, address caller);
    /// @notice Only the lease's provider may do this.
    error MarketNotLeaseProvider(uint256 leaseId, address caller);
    /// @notice Only the publisher or the provider may close a lease that still has funds.
    error MarketNotLeaseParty(uint256 leaseId, address caller);
    /// @notice No order has id `orderId`.
    error MarketOrderNotFound(uint256 orderId);
    /// @notice The order is not open.
    error MarketOrderNotOpen(uint256 orderId, OrderStatus status);
    /// @notice Only the order's publisher may do this.
    error MarketNotOrderPublisher(uint256 orderId, address caller);
    /// @notice The bid deadline must lie in (now, now + maxBidWindow].
    error MarketInvalidBidDeadline(uint256 bidDeadline, uint256 latest);
    /// @notice Bidding on the order closed at `bidDeadline`.
    error MarketBiddingClosed(uint256 orderId, uint256 bidDeadline);
    /// @notice Bidding on the order is still open until `bidDeadline`.
    error MarketBiddingOpen(uint256 orderId, uint256 bidDeadline);
    /// @notice The order can no longer be matched since `expiredAt`; it can only be cancelled.
    error MarketOrderExpired(uint256 orderId, uint256 expiredAt);
    /// @notice The bid's price is above the order's maximum.
    error MarketBidAboveMax(uint256 pricePerSecond, uint256 maxPricePerSecond);
    /// @notice `provider` already bid on the order.
    error MarketAlreadyBid(uint256 orderId, address provider);
    /// @notice The order is full and its worst standing bid, at `worstPrice`, is not worse than `pricePerSecond`.
    error MarketBidNotBetter(uint256 orderId, uint256 pricePerSecond, uint256 worstPrice);
    /// @notice The bidder list names `listed` bids but the order has `standing` bids: it must name every one.
    error MarketBidListMismatch(uint256 orderId, uint256 listed, uint256 standing);
    /// @notice The bidder list must be in strictly ascending address order; `bidder` breaks it.
    error MarketBidListNotAscending(uint256 orderId, address bidder);
    /// @notice No standing bid of the order can back a lease now (void, or its provider silent).
    error MarketNoValidBid(uint256 orderId);
    /// @notice The order requires more attributes than allowed.
    error MarketTooManyAttributes(uint256 count, uint256 maxCount);
    /// @notice `provider` lacks an attribute the order requires.
    error MarketMissingAttribute(address provider, bytes32 attribute);
    /// @notice `provider` has no active bid on the order.
    error MarketBidNotFound(uint256 orderId, address provider);
    /// @notice The order does not auto-accept; only its publisher can pick a bid.
    error MarketAutoAcceptDisabled(uint256 orderId);
    /// @notice The order has no bids.
    error MarketNoBids(uint256 orderId);
    /// @notice The bid still stands: its order is open and not expired, or the bid won.
    error MarketBidNotReleasable(uint256 orderId, address provider);
    /// @notice `provider` was reported dark and has not left jail (`unjail`).
    error MarketProviderJailed(address provider);
    /// @notice `provider` is not jailed.
    error MarketProviderNotJailed(address provider);
    /// @notice `provider` may leave jail from `jailedUntil` on.
    error MarketJailCooldown(address provider, uint256 jailedUntil);
    /// @notice The bid or lease belongs to `epoch`, which ended when its provider was reported dark.
    error MarketProviderWentDark(address provider, uint256 epoch);
    /// @notice `provider` heartbeated at `lastHeartbeat`; it can be reported dark from `reportableAt` on.
    error MarketProviderAlive(address provider, uint256 lastHeartbeat, uint256 reportableAt);
    /// @notice `provider` last heartbeated at `lastHeartbeat`, longer ago than the heartbeat threshold: it takes no
    ///         new work until it heartbeats again.
    error MarketProviderSilent(address provider, uint256 lastHeartbeat);
    /// @notice `provider` has never staked, so it has no liveness to prove.
    error MarketNotStaked(address provider);
    /// @notice The lease already has an open dispute.
    error MarketLeaseDisputed(uint256 leaseId);
    /// @notice The lease has no open dispute.
    error MarketLeaseNotDisputed(uint256 leaseId);
    /// @notice The lease ended and its dispute window closed at `releasableAt`: it can no longer be disputed.
    error MarketDisputeWindowClosed(uint256 leaseId, uint256 releasableAt);
    /// @notice The lease's collateral stays locked for disputes until `releasableAt`.
    error MarketDisputeWindowOpen(uint256 leaseId, uint256 releasableAt);
    /// @notice The lease is not closed or holds no collateral any more.
    error MarketCollateralNotHeld(uint256 leaseId);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Governed parameters changed.
    event ParamsUpdated(MarketParams params);
    /// @notice Protocol fees now go to `treasury`.
    event TreasuryUpdated(address indexed treasury);
    /// @notice `amount` of accrued protocol fees went to `treasury`.
    event FeesWithdrawn(address indexed treasury, uint256 amount);

    /// @notice `provider` added `amount` to its free stake.
    event Staked(address indexed provider, uint256 amount);
    /// @notice `amount` of free stake started unbonding; all of `unbonding` is withdrawable at `releaseAt`.
    event UnstakeRequested(address indexed provider, uint256 amount, uint256 unbonding, uint40 releaseAt);
    /// @notice Unbonded stake left the market.
    event StakeWithdrawn(address indexed provider, uint256 amount);
    /// @notice `provider` cancelled the quote nonces set in `mask` within word `wordPos`.
    event QuoteNoncesInvalidated(address indexed provider, uint256 wordPos, uint256 mask);

    /// @notice A lease started; `collateral` of the provider's free stake is now locked for it.
    /// @param orderId The order it matched, or 0 for a lease from a direct quote.
    event LeaseCreated(
        uint256 indexed leaseId,
        address indexed publisher,
        address indexed provider,
        uint256 orderId,
        bytes32 specHash,
        Resources resources,
        uint256 pricePerSecond,
        uint256 deposit,
        uint256 collateral,
        bytes32 attestationHash
    );
    /// @notice `payer` added `amount` to the lease's escrow.
    event LeaseToppedUp(uint256 indexed leaseId, address indexed payer, uint256 amount, uint256 balance);
    /// @notice The publisher changed the pod spec of a running lease.
    event LeaseSpecUpdated(uint256 indexed leaseId, bytes32 specHash);
    /// @notice `amount` of the lease's escrow was paid to its provider, who is now paid up to `settledAt`.
    event LeaseSettled(uint256 indexed leaseId, uint256 amount, uint256 settledAt);
    /// @notice The lease ended at `endedAt`. `owed` stays in escrow for the provider to withdraw, `refund` went to the
    ///         publisher, and `collateralHeld` of the provider's stake stays locked for disputes until `releasableAt`
    ///         (endedAt + disputeWindow; later if a dispute holds it), when anyone may `releaseCollateral`. Both are 0
    ///         when nothing stays locked: a dark close (the collateral was slashed), or a window already over at the
    ///         close (CollateralReleased follows).
    event LeaseClosed(
        uint256 indexed leaseId,
        address indexed closedBy,
        CloseReason reason,
        uint256 endedAt,
        uint256 owed,
        uint256 refund,
        uint256 collateralHeld,
        uint256 releasableAt
    );
    /// @notice A closed lease's collateral left the dispute hold: `amount` went back to the provider's free stake (0
    ///         when the provider was reported dark since, and CompensationPaid follows instead).
    event CollateralReleased(uint256 indexed leaseId, address indexed provider, uint256 amount);
    /// @notice `provider` withdrew `gross` from its leases: `fee` to the protocol, `net` to itself.
    event ProviderWithdrew(address indexed provider, uint256 gross, uint256 fee, uint256 net);

    /// @notice A publisher asked for bids.
    event OrderCreated(
        uint256 indexed orderId,
        address indexed publisher,
        bytes32 specHash,
        Resources resources,
        uint256 maxPricePerSecond,
        uint256 deposit,
        uint40 bidDeadline,
        bool autoAccept,
        Requirements requirements
    );
    /// @notice `provider` bid on an order, reserving `reserved` of its free stake.
    event BidPlaced(uint256 indexed orderId, address indexed provider, uint256 pricePerSecond, uint256 reserved);
    /// @notice The order was matched to `provider`'s bid; `leaseId` is the new lease.
    event OrderMatched(
        uint256 indexed orderId, address indexed provider, uint256 indexed leaseId, uint256 pricePerSecond, address by
    );
    /// @notice The publisher cancelled the order and got `refund` back.
    event OrderCancelled(uint256 indexed orderId, uint256 refund);
    /// @notice A bid that did not win gave its reserved stake back to the provider (0 when the reservation was
    ///         slashed by a dark report).
    event BidReleased(uint256 indexed orderId, address indexed provider, uint256 amount);
    /// @notice `by`'s better bid replaced `provider`'s, the worst on the full order; `amount` of reserved stake went
    ///         back to `provider` (0 for a void bid, whose share of the dark pool went to the fees: DarkPoolSwept).
    event BidEvicted(uint256 indexed orderId, address indexed provider, address indexed by, uint256 amount);

    /// @notice `provider` proved it is alive.
    event Heartbeat(address indexed provider, uint40 at);
    /// @notice `provider` heartbeated at `until`, later than the heartbeat threshold after its heartbeat at `from`: it
    ///         was dark in between. The heartbeat counts from now on, but the provider stays reportable for the gap (its
    ///         leases then end at `from`) until `reportableUntil`.
    event DarkGapRecorded(address indexed provider, uint40 from, uint40 until, uint40 reportableUntil);
    /// @notice `reporter` reported `provider` dark: its leases of `epoch` end at `darkAt`; `slashed` of its locked
    ///         stake was slashed (`reward` of it to the reporter, the rest kept for compensation) and `returned` went
    ///         back to its free stake. The provider is jailed: it may `unjail` from `jailedUntil` on.
    event ProviderReportedDark(
        address indexed provider,
        address indexed reporter,
        uint24 epoch,
        uint40 darkAt,
        uint256 slashed,
        uint256 reward,
        uint256 returned,
        uint40 jailedUntil
    );
    /// @notice `provider` left jail: it takes work again in `epoch`, and its liveness counts from now (a Heartbeat
    ///         event follows).
    event ProviderUnjailed(address indexed provider, uint24 epoch);
    /// @notice The publisher of a dark provider's lease received `amount` of slashed stake on top of its refund.
    event CompensationPaid(uint256 indexed leaseId, address indexed publisher, uint256 amount);
    /// @notice Slashed stake of a dark epoch that no lease will claim (a void bid's reservation) went to the fees.
    event DarkPoolSwept(address indexed provider, uint24 epoch, uint256 amount);
    /// @notice A dispute holds the lease's collateral until it is settled.
    event CollateralHeld(uint256 indexed leaseId);
    /// @notice A dispute on the lease ended: `slashed` of its collateral went to the publisher, `released` back to
    ///         the provider's free stake (only once the lease has closed).
    event DisputeSettled(uint256 indexed leaseId, uint256 slashed, uint256 released);

    /*//////////////////////////////////////////////////////////////
                               GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    /// @notice Replaces the governed parameters. Restricted to governance.
    function setParams(MarketParams calldata params) external;

    /// @notice Sets where protocol fees go. Restricted to governance.
    function setTreasury(address treasury) external;

    /// @notice Sends all accrued protocol fees to the treasury. Anyone may call it.
    function withdrawFees() external returns (uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                 STAKE
    //////////////////////////////////////////////////////////////*/

    /// @notice Adds `amount` to the caller's free stake. The caller must be a registered provider, and its bonded
    ///         stake (free + locked) stays within uint96.
    function stake(uint256 amount) external;

    /// @notice Starts unbonding `amount` of free stake. A new request adds to what is already unbonding and
    ///         restarts the delay for the whole unbonding amount.
    function unstake(uint256 amount) external;

    /// @notice Sends the caller its unbonded stake once the delay has passed.
    function withdrawStake() external returns (uint256 amount);

    /*//////////////////////////////////////////////////////////////
                          LIVENESS AND SLASHING
    //////////////////////////////////////////////////////////////*/

    /// @notice Proves the caller (a provider that has staked, not jailed) is alive. One call per provider, not per
    ///         lease. A heartbeat later than `heartbeatThreshold` after the previous one does not erase the silence in
    ///         between: it records the gap, for which the provider stays reportable for another `heartbeatThreshold`.
    function heartbeat() external;

    /// @notice Reports a provider whose last heartbeat is older than `heartbeatThreshold`, or whose last recorded dark
    ///         gap ended at most `heartbeatThreshold` ago. Its running leases end at its last heartbeat (for a gap: the
    ///         heartbeat before the gap); `darkSlashBps` of its locked stake is slashed, `reporterRewardBps` of that paid to the
    ///         caller and the rest kept for the publishers, who receive it when their leases close; the provider is
    ///         jailed for `jailCooldown`. O(1): leases are settled one by one when they close.
    function reportDark(address provider) external returns (uint256 reward);

    /// @notice Ends the caller's jail once its cooldown is over, if its bonded stake is at least `minProviderStake`
    ///         (`stake` first when it is not). Counts as a heartbeat: the provider takes work again in its new epoch.
    function unjail() external;

    /*//////////////////////////////////////////////////////////////
                            DISPUTE HOOKS
    //////////////////////////////////////////////////////////////*/

    /// @notice Holds a lease's collateral for a dispute: a running lease, or one that ended less than
    ///         `disputeWindow` ago and still holds collateral, of a provider not reported dark since. The collateral
    ///         then stays locked until the dispute is settled. Restricted to the dispute court.
    function holdCollateral(uint256 leaseId) external returns (address publisher, address provider, uint96 collateral);

    /// @notice Ends a dispute hold: up to `slashAmount` of the lease's collateral goes to the publisher (less if the
    ///         provider went dark since, which already slashed it), and a closed lease's remaining collateral returns
    ///         to the provider. Restricted to the dispute court.
    function settleDispute(uint256 leaseId, uint256 slashAmount)
        external
        returns (uint256 slashed, address publisher, address provider);

    /*//////////////////////////////////////////////////////////////
                                 LEASES
    //////////////////////////////////////////////////////////////*/

    /// @notice Starts a lease from a provider's signed quote, escrowing `deposit` from the caller.
    /// @dev Checks the EIP-712 signature (EOA or ERC-1271), expiry, nonce and publisher; locks
    ///      pricePerSecond * collateralSeconds of the provider's free stake.
    function createLease(Quote calldata quote, bytes calldata signature, uint96 deposit)
        external
        returns (uint256 leaseId);

    /// @notice createLease in one transaction with an EIP-2612 permit of `deposit` for the market instead of an
    ///         approval. If the permit fails (someone submitted it first, or the token has no permit) the lease is still
    ///         created when the caller's allowance covers `deposit`.
    function createLeaseWithPermit(
        Quote calldata quote,
        bytes calldata signature,
        uint96 deposit,
        PermitSignature calldata permit
    ) external returns (uint256 leaseId);

    /// @notice Adds `amount` to a running lease's escrow. Anyone may pay; a lease that ran out of funds cannot be
    ///         revived and must be closed.
    function topUp(uint256 leaseId, uint96 amount) external;

    /// @notice topUp with an EIP-2612 permit of `amount` for the market instead of an approval (see
    ///         createLeaseWithPermit for a permit that fails).
    function topUpWithPermit(uint256 leaseId, uint96 amount, PermitSignature calldata permit) external;

    /// @notice Points a running lease at a new pod spec (pod update). Only the publisher may do this.
    function updateLeaseSpec(uint256 leaseId, bytes32 specHash) external;

    /// @notice Pays the caller, a provider, what its leases have earned, minus the protocol fee, in one transfer.
    /// @dev Every lease must belong to the caller. Leases with nothing to pay are skipped.
    function withdraw(uint256[] calldata leaseIds) external returns (uint256 net);

    /// @notice Ends a lease: the provider keeps what it earned up to now (or up to when the funds ran out), the
    ///         rest goes back to the publisher, and the provider's collateral stays locked until endedAt +
    ///         `disputeWindow` (released at once if that time has passed and no dispute holds it).
    ///         A lease whose provider was reported dark ends at the provider's last heartbeat (or its last
    ///         withdrawal, if later) and its publisher also receives its share of the slashed collateral.
    /// @dev The publisher or provider may close any time; anyone may close a lease whose funds ran out or whose
    ///      provider was reported dark.
    function closeLease(uint256 leaseId) external;

    /// @notice Releases a closed lease's collateral once its dispute window is over and no dispute holds it: back to
    ///         the provider's free stake, or, if the provider was reported dark since (which slashed it), the
    ///         publisher's share of the slash, at once. Anyone may call it.
    function releaseCollateral(uint256 leaseId) external;

    /// @notice Cancels quote nonces of the caller: every bit set in `mask` within word `wordPos`.
    function invalidateQuoteNonces(uint256 wordPos, uint256 mask) external;

    /*//////////////////////////////////////////////////////////////
                             REVERSE MARKET
    //////////////////////////////////////////////////////////////*/

    /// @notice Asks providers to bid for a pod, escrowing `deposit` from the caller.
    function createOrder(
        bytes32 specHash,
        Resources calldata resources,
        uint96 maxPricePerSecond,
        uint96 deposit,
        uint40 bidDeadline,
        Requirements calldata requirements,
        bool autoAccept
    ) external returns (uint256 orderId);

    /// @notice createOrder with an EIP-2612 permit of `deposit` for the market instead of an approval (see
    ///         createLeaseWithPermit for a permit that fails).
    function createOrderWithPermit(
        bytes32 specHash,
        Resources calldata resources,
        uint96 maxPricePerSecond,
        uint96 deposit,
        uint40 bidDeadline,
        Requirements calldata requirements,
        bool autoAccept,
        PermitSignature calldata permit
    ) external returns (uint256 orderId);

    /// @notice Bids `pricePerSecond` on an open order, reserving collateral from the caller's free stake: that of a bid
    ///         at max(pricePerSecond, maxPricePerSecond * minBidCollateralBps / 10000). On a full order the bid
    ///         replaces the worst standing one (a void bid first, else the highest price, the latest on a tie), and
    ///         must be strictly better than it unless that bid is void.
    /// @param standingBidders Read only when the order is full: every standing bidder of the order (the providers
    ///        of its Active bids, from BidPlaced / BidEvicted), in strictly ascending address order. Pass an empty
    ///        list otherwise.
    function placeBid(uint256 orderId, uint96 pricePerSecond, address[] calldata standingBidders) external;

    /// @notice The publisher picks a bid; the order's deposit funds a new lease with that provider.
    function acceptBid(uint256 orderId, address provider) external returns (uint256 leaseId);

    /// @notice After the bid deadline, anyone matches an auto-accept order to its best bid (lowest, earliest on a tie)
    ///         that can back a lease: its provider not reported dark since it bid, and alive. The tracked best bid
    ///         when it can; otherwise the best valid one among `standingBidders`.
    /// @param standingBidders Read only when the tracked best bid cannot back a lease: every standing bidder of the
    ///        order, in strictly ascending address order. Pass an empty list to try the best bid alone.
    function finalizeOrder(uint256 orderId, address[] calldata standingBidders) external returns (uint256 leaseId);

    /// @notice The publisher cancels an open order and gets the whole deposit back.
    function cancelOrder(uint256 orderId) external;

    /// @notice Gives a bid's reserved stake back to its provider once the bid can no longer win: the order was
    ///         matched to another bid, cancelled, or expired. Anyone may call it.
    function releaseBid(uint256 orderId, address provider) external;

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The payment token.
    function token() external view returns (IERC20);

    /// @notice The provider registry.
    function registry() external view returns (IProviderRegistry);

    /// @notice Governed parameters.
    function params() external view returns (MarketParams memory);

    /// @notice Where protocol fees go.
    function treasury() external view returns (address);

    /// @notice Protocol fees accrued and not yet sent to the treasury.
    function accruedFees() external view returns (uint256);

    /// @notice A provider's stake and liveness.
    function stakeOf(address provider) external view returns (Stake memory);

    /// @notice What the dark report of `provider`'s `epoch` left (darkAt 0: that epoch was not reported).
    function darkRecord(address provider, uint256 epoch) external view returns (DarkRecord memory);

    /// @notice A lease as stored.
    function getLease(uint256 leaseId) external view returns (Lease memory);

    /// @notice What a lease's provider could withdraw now, and whether its funds have run out.
    function withdrawable(uint256 leaseId) external view returns (uint256 amount, bool outOfFunds);

    /// @notice The second a lease's funds run out (for a closed lease: when it ended).
    function leaseRunsOutAt(uint256 leaseId) external view returns (uint256);

    /// @notice An order as stored.
    function getOrder(uint256 orderId) external view returns (Order memory);

    /// @notice Attributes an order requires of bidders.
    function orderAttributes(uint256 orderId) external view returns (bytes32[] memory);

    /// @notice `provider`'s bid on an order.
    function getBid(uint256 orderId, address provider) external view returns (Bid memory);

    /// @notice Whether `provider` has used or cancelled quote `nonce`.
    function isQuoteNonceUsed(address provider, uint256 nonce) external view returns (bool);

    /// @notice EIP-712 hash of a quote, the digest the provider signs.
    function hashQuote(Quote calldata quote) external view returns (bytes32);

    /// @notice Number of leases created so far (ids run 1..leaseCount).
    function leaseCount() external view returns (uint256);

    /// @notice Number of orders created so far (ids run 1..orderCount).
    function orderCount() external view returns (uint256);
}
