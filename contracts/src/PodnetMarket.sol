// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPodnetMarket} from "./interfaces/IPodnetMarket.sol";
import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";
import {LeaseMath} from "./libraries/LeaseMath.sol";
import {
    Bid,
    BidStatus,
    CloseReason,
    Lease,
    LeaseStatus,
    MarketParams,
    Order,
    OrderStatus,
    ProviderStatus,
    Quote,
    Requirements,
    Resources,
    Stake
} from "./types/MarketTypes.sol";
import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title PodnetMarket
/// @notice Stake, direct leases from signed quotes, the reverse market, and per-second escrow.
/// @dev Governed setters are `restricted` through an OpenZeppelin AccessManager.
contract PodnetMarket is IPodnetMarket, EIP712, AccessManaged, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Highest protocol fee governance can set: 10%.
    uint16 public constant MAX_FEE_BPS = 1000;
    /// @notice Most attributes an order can require.
    uint256 public constant MAX_ORDER_ATTRIBUTES = 16;
    /// @notice Upper bound for every duration parameter.
    uint40 public constant MAX_DURATION_PARAM = 365 days;

    bytes32 public constant RESOURCES_TYPEHASH =
        keccak256("Resources(uint32 cpuMillis,uint32 memoryMiB,uint32 storageMiB)");
    bytes32 public constant QUOTE_TYPEHASH = keccak256(
        "Quote(address provider,address publisher,bytes32 specHash,Resources resources,uint96 pricePerSecond,uint40 validUntil,bytes32 attestationHash,uint256 nonce)Resources(uint32 cpuMillis,uint32 memoryMiB,uint32 storageMiB)"
    );

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IPodnetMarket
    IERC20 public immutable token;
    /// @inheritdoc IPodnetMarket
    IProviderRegistry public immutable registry;

    MarketParams private _params;
    address private _treasury;
    uint256 private _accruedFees;

    uint64 private _leaseCount;
    uint64 private _orderCount;

    mapping(address provider => Stake) private _stakes;
    mapping(address provider => mapping(uint256 wordPos => uint256 bits)) private _quoteNonces;
    mapping(uint256 leaseId => Lease) private _leases;
    mapping(uint256 orderId => Order) private _orders;
    mapping(uint256 orderId => bytes32[]) private _orderAttributes;
    mapping(uint256 orderId => mapping(address provider => Bid)) private _bids;

    constructor(
        IERC20 token_,
        IProviderRegistry registry_,
        address authority,
        address treasury_,
        MarketParams memory params_
    ) EIP712("Podnet", "1") AccessManaged(authority) {
        if (address(token_) == address(0) || address(registry_) == address(0) || treasury_ == address(0)) {
            revert MarketZeroAddress();
        }
        token = token_;
        registry = registry_;
        _setParams(params_);
        _treasury = treasury_;
        emit TreasuryUpdated(treasury_);
    }

    /*//////////////////////////////////////////////////////////////
                               GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IPodnetMarket
    function setParams(MarketParams calldata params_) external restricted {
        _setParams(params_);
    }

    /// @inheritdoc IPodnetMarket
    function setTreasury(address treasury_) external restricted {
        if (treasury_ == address(0)) revert MarketZeroAddress();
        _treasury = treasury_;
        emit TreasuryUpdated(treasury_);
    }

    /// @inheritdoc IPodnetMarket
    function withdrawFees() external nonReentrant returns (uint256 amount) {
        amount = _accruedFees;
        if (amount == 0) revert MarketZeroAmount();
        _accruedFees = 0;
        address to = _treasury;
        emit FeesWithdrawn(to, amount);
        token.safeTransfer(to, amount);
    }

    /*//////////////////////////////////////////////////////////////
                                 STAKE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IPodnetMarket
    function stake(uint256 amount) external nonReentrant {
        if (amount == 0) revert MarketZeroAmount();
        if (registry.statusOf(msg.sender) == ProviderStatus.None) revert MarketProviderNotRegistered(msg.sender);
        _stakes[msg.sender].free += amount.toUint128();
        emit Staked(msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IPodnetMarket
    function unstake(uint256 amount) external {
        if (amount == 0) revert MarketZeroAmount();
        Stake storage s = _stakes[msg.sender];
        if (s.free < amount) revert MarketInsufficientFreeStake(msg.sender, s.free, amount);
        uint40 releaseAt = uint40(block.timestamp) + _params.unbondingDelay;
        // forge-lint: disable-next-line(unsafe-typecast) amount <= s.free, a uint128
        s.free -= uint128(amount);
        // forge-lint: disable-next-line(unsafe-typecast) amount <= s.free, a uint128
        s.unbonding += uint128(amount);
        s.unbondingReleaseAt = releaseAt;
        emit UnstakeRequested(msg.sender, amount, s.unbonding, releaseAt);
    }

    /// @inheritdoc IPodnetMarket
    function withdrawStake() external nonReentrant returns (uint256 amount) {
        Stake storage s = _stakes[msg.sender];
        amount = s.unbonding;
        if (amount == 0) revert MarketNothingUnbonding(msg.sender);
        if (block.timestamp < s.unbondingReleaseAt) revert MarketUnbondingNotReady(msg.sender, s.unbondingReleaseAt);
        s.unbonding = 0;
        s.unbondingReleaseAt = 0;
        emit StakeWithdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /*//////////////////////////////////////////////////////////////
                                 LEASES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IPodnetMarket
    function createLease(Quote calldata quote, bytes calldata signature, uint96 deposit)
        external
        nonReentrant
        returns (uint256 leaseId)
    {
        if (block.timestamp > quote.validUntil) {
            revert MarketQuoteExpired(quote.validUntil, block.timestamp);
        }
        if (quote.publisher != address(0) && quote.publisher != msg.sender) {
            revert MarketQuoteWrongPublisher(quote.publisher, msg.sender);
        }
        MarketParams memory p = _params;
        _requireValidPod(quote.specHash, quote.resources, quote.pricePerSecond, deposit, p.minLeaseDuration);
        if (!SignatureChecker.isValidSignatureNow(quote.provider, hashQuote(quote), signature)) {
            revert MarketInvalidQuoteSignature(quote.provider);
        }
        _useQuoteNonce(quote.provider, quote.nonce);
        _requireCanTakeWork(quote.provider, p.minProviderStake);

        uint96 collateral = LeaseMath.collateralFor(quote.pricePerSecond, p.collateralSeconds).toUint96();
        _lockStake(quote.provider, collateral);
        leaseId = _openLease(
            msg.sender,
            quote.provider,
            0,
            quote.specHash,
            quote.resources,
            quote.pricePerSecond,
            deposit,
            collateral,
            quote.attestationHash
        );
        token.safeTransferFrom(msg.sender, address(this), deposit);
    }

    /// @inheritdoc IPodnetMarket
    function topUp(uint256 leaseId, uint96 amount) external nonReentrant {
        if (amount == 0) revert MarketZeroAmount();
        Lease storage lease = _runningLease(leaseId);
        uint96 balance = (uint256(lease.balance) + amount).toUint96();
        lease.balance = balance;
        emit LeaseToppedUp(leaseId, msg.sender, amount, balance);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IPodnetMarket
    function updateLeaseSpec(uint256 leaseId, bytes32 specHash) external {
        if (specHash == bytes32(0)) revert MarketZeroSpecHash();
        Lease storage lease = _runningLease(leaseId);
        if (lease.publisher != msg.sender) revert MarketNotLeasePublisher(leaseId, msg.sender);
        lease.specHash = specHash;
        emit LeaseSpecUpdated(leaseId, specHash);
    }

    /// @inheritdoc IPodnetMarket
    function withdraw(uint256[] calldata leaseIds) external nonReentrant returns (uint256 net) {
        uint256 gross;
        for (uint256 i; i < leaseIds.length; ++i) {
            uint256 leaseId = leaseIds[i];
            Lease storage lease = _leases[leaseId];
            if (lease.provider != msg.sender) revert MarketNotLeaseProvider(leaseId, msg.sender);
            uint256 balance = lease.balance;
            (uint256 amount, uint256 settledUntil) = lease.status == LeaseStatus.Closed
                ? (balance, uint256(lease.endedAt))
                : LeaseMath.settle(balance, lease.pricePerSecond, lease.settledAt, block.timestamp);
            if (amount == 0) continue;
            // forge-lint: disable-next-line(unsafe-typecast) amount <= balance, a uint96
            lease.balance = uint96(balance - amount);
            // forge-lint: disable-next-line(unsafe-typecast) settledUntil <= block.timestamp
            lease.settledAt = uint40(settledUntil);
            emit LeaseSettled(leaseId, amount, settledUntil);
            gross += amount;
        }
        if (gross == 0) return 0;
        uint256 fee = LeaseMath.feeOf(gross, _params.feeBps);
        net = gross - fee;
        if (fee != 0) _accruedFees += fee;
        emit ProviderWithdrew(msg.sender, gross, fee, net);
        token.safeTransfer(msg.sender, net);
    }

    /// @inheritdoc IPodnetMarket
    function closeLease(uint256 leaseId) external nonReentrant {
        Lease storage lease = _leases[leaseId];
        _requireActive(leaseId, lease.status);
        uint256 balance = lease.balance;
        (uint256 earned, uint256 endedAt) =
            LeaseMath.settle(balance, lease.pricePerSecond, lease.settledAt, block.timestamp);

        CloseReason reason;
        if (earned == balance) reason = CloseReason.OutOfFunds;
        else if (msg.sender == lease.publisher) reason = CloseReason.Publisher;
        else if (msg.sender == lease.provider) reason = CloseReason.Provider;
        else revert MarketNotLeaseParty(leaseId, msg.sender);

        uint256 refund = balance - earned;
        uint96 collateral = lease.collateral;
        // What the provider earned stays in the lease until it withdraws; the rest is refunded now.
        // forge-lint: disable-next-line(unsafe-typecast) earned <= balance, a uint96
        lease.balance = uint96(earned);
        // forge-lint: disable-next-line(unsafe-typecast) endedAt <= block.timestamp
        lease.endedAt = uint40(endedAt);
        lease.status = LeaseStatus.Closed;
        if (collateral != 0) _unlockStake(lease.provider, collateral);

        emit LeaseClosed(leaseId, msg.sender, reason, endedAt, earned, refund, collateral);
        if (refund != 0) token.safeTransfer(lease.publisher, refund);
    }

    /// @inheritdoc IPodnetMarket
    function invalidateQuoteNonces(uint256 wordPos, uint256 mask) external {
        _quoteNonces[msg.sender][wordPos] |= mask;
        emit QuoteNoncesInvalidated(msg.sender, wordPos, mask);
    }

    /*//////////////////////////////////////////////////////////////
                             REVERSE MARKET
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IPodnetMarket
    function createOrder(
        bytes32 specHash,
        Resources calldata resources,
        uint96 maxPricePerSecond,
        uint96 deposit,
        uint40 bidDeadline,
        Requirements calldata requirements,
        bool autoAccept
    ) external nonReentrant returns (uint256 orderId) {
        MarketParams memory p = _params;
        _requireValidPod(specHash, resources, maxPricePerSecond, deposit, p.minLeaseDuration);
        uint256 latest = block.timestamp + p.maxBidWindow;
        if (bidDeadline <= block.timestamp || bidDeadline > latest) {
            revert MarketInvalidBidDeadline(bidDeadline, latest);
        }
        uint256 attributeCount = requirements.attributes.length;
        if (attributeCount > MAX_ORDER_ATTRIBUTES) {
            revert MarketTooManyAttributes(attributeCount, MAX_ORDER_ATTRIBUTES);
        }

        orderId = ++_orderCount;
        Order storage order = _orders[orderId];
        order.publisher = msg.sender;
        order.bidDeadline = bidDeadline;
        order.status = OrderStatus.Open;
        order.autoAccept = autoAccept;
        // forge-lint: disable-next-line(unsafe-typecast) _setParams caps it at 365 days
        order.acceptWindow = uint32(p.acceptWindow);
        order.maxPricePerSecond = maxPricePerSecond;
        order.deposit = deposit;
        order.resources = resources;
        order.minStake = requirements.minStake;
        order.specHash = specHash;
        if (attributeCount != 0) _orderAttributes[orderId] = requirements.attributes;

        emit OrderCreated(
            orderId, msg.sender, specHash, resources, maxPricePerSecond, deposit, bidDeadline, autoAccept, requirements
        );
        token.safeTransferFrom(msg.sender, address(this), deposit);
    }

    /// @inheritdoc IPodnetMarket
    function placeBid(uint256 orderId, uint96 pricePerSecond) external {
        Order storage order = _orders[orderId];
        _requireOpen(orderId, order.status);
        if (block.timestamp >= order.bidDeadline) revert MarketBiddingClosed(orderId, order.bidDeadline);
        if (pricePerSecond == 0) revert MarketZeroPrice();
        if (pricePerSecond > order.maxPricePerSecond) {
            revert MarketBidAboveMax(pricePerSecond, order.maxPricePerSecond);
        }
        Bid storage bid = _bids[orderId][msg.sender];
        if (bid.status != BidStatus.None) revert MarketAlreadyBid(orderId, msg.sender);
        MarketParams memory p = _params;
        if (order.bidCount >= p.maxBidsPerOrder) revert MarketTooManyBids(orderId, p.maxBidsPerOrder);

        uint256 minStake = order.minStake > p.minProviderStake ? order.minStake : p.minProviderStake;
        _requireCanTakeWork(msg.sender, minStake);
        bytes32[] storage required = _orderAttributes[orderId];
        if (required.length != 0) {
            (bool ok, bytes32 missing) = registry.hasAttributes(msg.sender, required);
            if (!ok) revert MarketMissingAttribute(msg.sender, missing);
        }

        uint96 reserved = LeaseMath.collateralFor(pricePerSecond, p.collateralSeconds).toUint96();
        _lockStake(msg.sender, reserved);
        bid.pricePerSecond = pricePerSecond;
        bid.reserved = reserved;
        bid.placedAt = uint40(block.timestamp);
        bid.status = BidStatus.Active;
        ++order.bidCount;
        // Strictly lower wins, so the earliest of equal bids stays best.
        if (order.bestBidder == address(0) || pricePerSecond < order.bestPrice) {
            order.bestBidder = msg.sender;
            order.bestPrice = pricePerSecond;
        }
        emit BidPlaced(orderId, msg.sender, pricePerSecond, reserved);
    }

    /// @inheritdoc IPodnetMarket
    function acceptBid(uint256 orderId, address provider) external returns (uint256 leaseId) {
        Order storage order = _orders[orderId];
        _requireOpen(orderId, order.status);
        if (order.publisher != msg.sender) revert MarketNotOrderPublisher(orderId, msg.sender);
        return _match(orderId, order, provider);
    }

    /// @inheritdoc IPodnetMarket
    function finalizeOrder(uint256 orderId) external returns (uint256 leaseId) {
        Order storage order = _orders[orderId];
        _requireOpen(orderId, order.status);
        if (block.timestamp < order.bidDeadline) revert MarketBiddingOpen(orderId, order.bidDeadline);
        if (!order.autoAccept) revert MarketAutoAcceptDisabled(orderId);
        address best = order.bestBidder;
        if (best == address(0)) revert MarketNoBids(orderId);
        return _match(orderId, order, best);
    }

    /// @inheritdoc IPodnetMarket
    function cancelOrder(uint256 orderId) external nonReentrant {
        Order storage order = _orders[orderId];
        _requireOpen(orderId, order.status);
        if (order.publisher != msg.sender) revert MarketNotOrderPublisher(orderId, msg.sender);
        order.status = OrderStatus.Cancelled;
        uint256 refund = order.deposit;
        emit OrderCancelled(orderId, refund);
        token.safeTransfer(msg.sender, refund);
    }

    /// @inheritdoc IPodnetMarket
    function releaseBid(uint256 orderId, address provider) external {
        Bid storage bid = _bids[orderId][provider];
        if (bid.status != BidStatus.Active) revert MarketBidNotReleasable(orderId, provider);
        Order storage order = _orders[orderId];
        if (order.status == OrderStatus.Open && block.timestamp < _expiryOf(order)) {
            revert MarketBidNotReleasable(orderId, provider);
        }
        bid.status = BidStatus.Released;
        uint96 reserved = bid.reserved;
        _unlockStake(provider, reserved);
        emit BidReleased(orderId, provider, reserved);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IPodnetMarket
    function params() external view returns (MarketParams memory) {
        return _params;
    }

    /// @inheritdoc IPodnetMarket
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @inheritdoc IPodnetMarket
    function accruedFees() external view returns (uint256) {
        return _accruedFees;
    }

    /// @inheritdoc IPodnetMarket
    function stakeOf(address provider) external view returns (Stake memory) {
        return _stakes[provider];
    }

    /// @inheritdoc IPodnetMarket
    function getLease(uint256 leaseId) external view returns (Lease memory) {
        return _leases[leaseId];
    }

    /// @inheritdoc IPodnetMarket
    function withdrawable(uint256 leaseId) external view returns (uint256 amount, bool outOfFunds) {
        Lease storage lease = _leases[leaseId];
        if (lease.status == LeaseStatus.Closed) return (lease.balance, true);
        if (lease.status == LeaseStatus.None) return (0, false);
        (amount,) = LeaseMath.settle(lease.balance, lease.pricePerSecond, lease.settledAt, block.timestamp);
        outOfFunds = amount == lease.balance;
    }

    /// @inheritdoc IPodnetMarket
    function leaseRunsOutAt(uint256 leaseId) external view returns (uint256) {
        Lease storage lease = _leases[leaseId];
        if (lease.status == LeaseStatus.None) revert MarketLeaseNotFound(leaseId);
        if (lease.status == LeaseStatus.Closed) return lease.endedAt;
        return LeaseMath.runsOutAt(lease.balance, lease.pricePerSecond, lease.settledAt);
    }

    /// @inheritdoc IPodnetMarket
    function getOrder(uint256 orderId) external view returns (Order memory) {
        return _orders[orderId];
    }

    /// @inheritdoc IPodnetMarket
    function orderAttributes(uint256 orderId) external view returns (bytes32[] memory) {
        return _orderAttributes[orderId];
    }

    /// @inheritdoc IPodnetMarket
    function getBid(uint256 orderId, address provider) external view returns (Bid memory) {
        return _bids[orderId][provider];
    }

    /// @inheritdoc IPodnetMarket
    function isQuoteNonceUsed(address provider, uint256 nonce) external view returns (bool) {
        return _quoteNonces[provider][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc IPodnetMarket
    function hashQuote(Quote calldata quote) public view returns (bytes32) {
        bytes32 resourcesHash = keccak256(
            abi.encode(
                RESOURCES_TYPEHASH, quote.resources.cpuMillis, quote.resources.memoryMiB, quote.resources.storageMiB
            )
        );
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    QUOTE_TYPEHASH,
                    quote.provider,
                    quote.publisher,
                    quote.specHash,
                    resourcesHash,
                    quote.pricePerSecond,
                    quote.validUntil,
                    quote.attestationHash,
                    quote.nonce
                )
            )
        );
    }

    /// @inheritdoc IPodnetMarket
    function leaseCount() external view returns (uint256) {
        return _leaseCount;
    }

    /// @inheritdoc IPodnetMarket
    function orderCount() external view returns (uint256) {
        return _orderCount;
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _setParams(MarketParams memory p) private {
        if (p.feeBps > MAX_FEE_BPS) revert MarketInvalidParameter("feeBps", p.feeBps);
        if (p.unbondingDelay > MAX_DURATION_PARAM) revert MarketInvalidParameter("unbondingDelay", p.unbondingDelay);
        if (p.collateralSeconds > MAX_DURATION_PARAM) {
            revert MarketInvalidParameter("collateralSeconds", p.collateralSeconds);
        }
        if (p.minLeaseDuration > MAX_DURATION_PARAM) {
            revert MarketInvalidParameter("minLeaseDuration", p.minLeaseDuration);
        }
        if (p.maxBidWindow == 0 || p.maxBidWindow > MAX_DURATION_PARAM) {
            revert MarketInvalidParameter("maxBidWindow", p.maxBidWindow);
        }
        if (p.acceptWindow == 0 || p.acceptWindow > MAX_DURATION_PARAM) {
            revert MarketInvalidParameter("acceptWindow", p.acceptWindow);
        }
        if (p.maxBidsPerOrder == 0) revert MarketInvalidParameter("maxBidsPerOrder", p.maxBidsPerOrder);
        _params = p;
        emit ParamsUpdated(p);
    }

    /// @dev Shared checks of a direct lease and an order: a real spec, a pod that needs something, a price, and a
    ///      deposit that pays for the minimum duration at that price.
    function _requireValidPod(
        bytes32 specHash,
        Resources calldata resources,
        uint96 pricePerSecond,
        uint96 deposit,
        uint40 minLeaseDuration
    ) private pure {
        if (specHash == bytes32(0)) revert MarketZeroSpecHash();
        if (resources.cpuMillis == 0 || resources.memoryMiB == 0) revert MarketInvalidResources(resources);
        if (pricePerSecond == 0) revert MarketZeroPrice();
        if (deposit == 0) revert MarketZeroAmount();
        uint256 minimum = uint256(pricePerSecond) * minLeaseDuration;
        if (deposit < minimum) revert MarketDepositTooLow(deposit, minimum);
    }

    function _requireCanTakeWork(address provider, uint256 minStake) private view {
        if (!registry.isActive(provider)) revert MarketProviderNotActive(provider);
        Stake storage s = _stakes[provider];
        uint256 bonded = uint256(s.free) + s.locked;
        if (bonded < minStake) revert MarketStakeBelowMinimum(provider, bonded, minStake);
    }

    function _useQuoteNonce(address provider, uint256 nonce) private {
        uint256 bit = 1 << (nonce & 0xff);
        mapping(uint256 => uint256) storage words = _quoteNonces[provider];
        uint256 word = words[nonce >> 8];
        if (word & bit != 0) revert MarketQuoteNonceUsed(provider, nonce);
        words[nonce >> 8] = word | bit;
    }

    function _lockStake(address provider, uint96 amount) private {
        Stake storage s = _stakes[provider];
        if (s.free < amount) revert MarketInsufficientFreeStake(provider, s.free, amount);
        s.free -= amount;
        s.locked += amount;
    }

    function _unlockStake(address provider, uint96 amount) private {
        Stake storage s = _stakes[provider];
        s.locked -= amount;
        s.free += amount;
    }

    function _openLease(
        address publisher,
        address provider,
        uint256 orderId,
        bytes32 specHash,
        Resources memory resources,
        uint96 pricePerSecond,
        uint96 deposit,
        uint96 collateral,
        bytes32 attestationHash
    ) private returns (uint256 leaseId) {
        leaseId = ++_leaseCount;
        _leases[leaseId] = Lease({
            publisher: publisher,
            startedAt: uint40(block.timestamp),
            endedAt: 0,
            provider: provider,
            pricePerSecond: pricePerSecond,
            balance: deposit,
            collateral: collateral,
            settledAt: uint40(block.timestamp),
            status: LeaseStatus.Active,
            specHash: specHash
        });
        emit LeaseCreated(
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

    function _match(uint256 orderId, Order storage order, address provider) private returns (uint256 leaseId) {
        uint256 expiry = _expiryOf(order);
        if (block.timestamp >= expiry) revert MarketOrderExpired(orderId, expiry);
        Bid storage bid = _bids[orderId][provider];
        if (bid.status != BidStatus.Active) revert MarketBidNotFound(orderId, provider);

        bid.status = BidStatus.Won;
        order.status = OrderStatus.Matched;
        // The order's deposit moves, inside the market, from the order's escrow to the lease's; the bid's
        // reservation becomes the lease's collateral.
        leaseId = _openLease(
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
        emit OrderMatched(orderId, provider, leaseId, bid.pricePerSecond, msg.sender);
    }

    /// @dev Returns a lease that is active and still has funds (top-ups and spec updates need both).
    function _runningLease(uint256 leaseId) private view returns (Lease storage lease) {
        lease = _leases[leaseId];
        _requireActive(leaseId, lease.status);
        if (LeaseMath.isExhausted(lease.balance, lease.pricePerSecond, lease.settledAt, block.timestamp)) {
            revert MarketLeaseOutOfFunds(
                leaseId, LeaseMath.runsOutAt(lease.balance, lease.pricePerSecond, lease.settledAt)
            );
        }
    }

    function _requireActive(uint256 leaseId, LeaseStatus status) private pure {
        if (status == LeaseStatus.None) revert MarketLeaseNotFound(leaseId);
        if (status != LeaseStatus.Active) revert MarketLeaseNotActive(leaseId, status);
    }

    function _requireOpen(uint256 orderId, OrderStatus status) private pure {
        if (status == OrderStatus.None) revert MarketOrderNotFound(orderId);
        if (status != OrderStatus.Open) revert MarketOrderNotOpen(orderId, status);
    }

    function _expiryOf(Order storage order) private view returns (uint256) {
        return uint256(order.bidDeadline) + order.acceptWindow;
    }
}
