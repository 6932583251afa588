// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPodnetMarket} from "./interfaces/IPodnetMarket.sol";
import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";
import {Guarantees} from "./libraries/Guarantees.sol";
import {LeaseMath} from "./libraries/LeaseMath.sol";
import {MarketCore, MarketState} from "./libraries/MarketCore.sol";
import {OrderBook} from "./libraries/OrderBook.sol";
import {
    Bid,
    CloseReason,
    DarkRecord,
    Lease,
    LeaseStatus,
    MarketParams,
    Order,
    PermitSignature,
    ProviderStatus,
    Quote,
    Requirements,
    Resources,
    Stake
} from "./types/MarketTypes.sol";
import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title PodnetMarket
/// @notice Stake and liveness, direct leases from signed quotes, per-second escrow, dark-provider slashing and the
///         dispute hooks. The reverse market runs in the OrderBook library and the dark reports, the jail and the
///         dispute hooks in the Guarantees library, both on this contract's storage.
/// @dev Governed setters and the dispute hooks are `restricted` through an OpenZeppelin AccessManager.
contract PodnetMarket is IPodnetMarket, EIP712, AccessManaged, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Highest protocol fee governance can set: 10%.
    uint16 public constant MAX_FEE_BPS = 1000;
    /// @notice Upper bound for every duration parameter.
    uint40 public constant MAX_DURATION_PARAM = 365 days;
    /// @notice Shortest jail cooldown governance can set. Each epoch then lasts at least this long, so the uint24 epoch
    ///         counter cannot be used up (2^24 hours is over 1,900 years).
    uint40 public constant MIN_JAIL_COOLDOWN = 1 hours;
    /// @notice Longest dispute window governance can set: collateral of ended leases is locked at most this long
    ///         (plus the time a dispute opened in it takes).
    uint40 public constant MAX_DISPUTE_WINDOW = 90 days;

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

    MarketState private _s;

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
        _s.treasury = treasury_;
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
        _s.treasury = treasury_;
        emit TreasuryUpdated(treasury_);
    }

    /// @inheritdoc IPodnetMarket
    function withdrawFees() external nonReentrant returns (uint256 amount) {
        amount = _s.fees.accrued;
        if (amount == 0) revert MarketZeroAmount();
        _s.fees.accrued = 0;
        address to = _s.treasury;
        emit FeesWithdrawn(to, amount);
        token.safeTransfer(to, amount);
    }

    /*//////////////////////////////////////////////////////////////
                                 STAKE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IPodnetMarket
    /// @dev The first stake also counts as a heartbeat. A stake does not end a jail: `unjail` does.
    function stake(uint256 amount) external nonReentrant {
        if (amount == 0) revert MarketZeroAmount();
        if (registry.statusOf(msg.sender) == ProviderStatus.None) revert MarketProviderNotRegistered(msg.sender);
        Stake storage s = _s.stakes[msg.sender];
        // Bound free + locked, not free alone: unlocking collateral moves it from locked to free, which must not
        // overflow (a publisher's close or a ruling would revert).
        uint256 bonded = uint256(s.free) + s.locked + amount;
        if (bonded > type(uint96).max) revert MarketStakeTooLarge(msg.sender, bonded, type(uint96).max);
        // forge-lint: disable-next-line(unsafe-typecast) free + amount <= bonded <= type(uint96).max
        s.free += uint96(amount);
        if (s.lastHeartbeat == 0) {
            // forge-lint: disable-next-line(unsafe-typecast) unix seconds fit in uint32 until 2106
            s.lastHeartbeat = uint32(block.timestamp);
            emit Heartbeat(msg.sender, uint40(block.timestamp));
        }
        emit Staked(msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IPodnetMarket
    function unstake(uint256 amount) external {
        if (amount == 0) revert MarketZeroAmount();
        Stake storage s = _s.stakes[msg.sender];
        if (s.free < amount) revert MarketInsufficientFreeStake(msg.sender, s.free, amount);
        uint40 releaseAt = uint40(block.timestamp) + _s.params.unbondingDelay;
        // forge-lint: disable-next-line(unsafe-typecast) amount <= s.free, a uint96
        s.free -= uint96(amount);
        // forge-lint: disable-next-line(unsafe-typecast) amount <= s.free, a uint96
        s.unbonding += uint96(amount);
        s.unbondingReleaseAt = releaseAt;
        emit UnstakeRequested(msg.sender, amount, s.unbonding, releaseAt);
    }

    /// @inheritdoc IPodnetMarket
    function withdrawStake() external nonReentrant returns (uint256 amount) {
        Stake storage s = _s.stakes[msg.sender];
        amount = s.unbonding;
        if (amount == 0) revert MarketNothingUnbonding(msg.sender);
        if (block.timestamp < s.unbondingReleaseAt) revert MarketUnbondingNotReady(msg.sender, s.unbondingReleaseAt);
        s.unbonding = 0;
        s.unbondingReleaseAt = 0;
        emit StakeWithdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /*//////////////////////////////////////////////////////////////
                          LIVENESS AND SLASHING
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IPodnetMarket
    function heartbeat() external {
        Stake storage s = _s.stakes[msg.sender];
        uint256 last = s.lastHeartbeat;
        if (last == 0) revert MarketNotStaked(msg.sender);
        if (s.jailed) revert MarketProviderJailed(msg.sender);
        uint256 threshold = _s.params.heartbeatThreshold;
        // Late: the provider was dark since `last`. Record the gap so that a report racing this heartbeat still lands.
        if (block.timestamp > last + threshold) Guarantees.recordDarkGap(_s, msg.sender, last, threshold);
        // forge-lint: disable-next-line(unsafe-typecast) unix seconds fit in uint32 until 2106
        s.lastHeartbeat = uint32(block.timestamp);
        emit Heartbeat(msg.sender, uint40(block.timestamp));
    }

    /// @inheritdoc IPodnetMarket
    function reportDark(address provider) external nonReentrant returns (uint256 reward) {
        reward = Guarantees.reportDark(_s, provider);
        if (reward != 0) token.safeTransfer(msg.sender, reward);
    }

    /// @inheritdoc IPodnetMarket
    function unjail() external {
        Guarantees.unjail(_s);
    }

    /*//////////////////////////////////////////////////////////////
                              DISPUTE HOOKS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IPodnetMarket
    function holdCollateral(uint256 leaseId)
        external
        restricted
        returns (address publisher, address provider, uint96 collateral)
    {
        return Guarantees.holdCollateral(_s, leaseId);
    }

    /// @inheritdoc IPodnetMarket
    function settleDispute(uint256 leaseId, uint256 slashAmount)
        external
        restricted
        nonReentrant
        returns (uint256 slashed, address publisher, address provider)
    {
        (slashed, publisher, provider) = Guarantees.settleDispute(_s, leaseId, slashAmount);
        if (slashed != 0) token.safeTransfer(publisher, slashed);
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
        return _createLease(quote, signature, deposit);
    }

    /// @inheritdoc IPodnetMarket
    function createLeaseWithPermit(
        Quote calldata quote,
        bytes calldata signature,
        uint96 deposit,
        PermitSignature calldata permit
    ) external nonReentrant returns (uint256 leaseId) {
        _permit(deposit, permit);
        return _createLease(quote, signature, deposit);
    }

    /// @inheritdoc IPodnetMarket
    function topUp(uint256 leaseId, uint96 amount) external nonReentrant {
        _topUp(leaseId, amount);
    }

    /// @inheritdoc IPodnetMarket
    function topUpWithPermit(uint256 leaseId, uint96 amount, PermitSignature calldata permit) external nonReentrant {
        _permit(amount, permit);
        _topUp(leaseId, amount);
    }

    function _topUp(uint256 leaseId, uint96 amount) private {
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
        uint24 epoch = _s.stakes[msg.sender].epoch;
        uint256 gross;
        for (uint256 i; i < leaseIds.length; ++i) {
            uint256 leaseId = leaseIds[i];
            Lease storage lease = _s.leases[leaseId];
            if (lease.provider != msg.sender) revert MarketNotLeaseProvider(leaseId, msg.sender);
            uint256 balance = lease.balance;
            uint256 amount;
            uint256 settledUntil;
            if (lease.status == LeaseStatus.Closed) {
                (amount, settledUntil) = (balance, lease.endedAt);
            } else {
                (amount, settledUntil) = LeaseMath.settle(
                    balance, lease.pricePerSecond, lease.settledAt, MarketCore.accruesUntil(_s, lease, epoch)
                );
            }
            if (amount == 0) continue;
            // forge-lint: disable-next-line(unsafe-typecast) amount <= balance, a uint96
            lease.balance = uint96(balance - amount);
            // forge-lint: disable-next-line(unsafe-typecast) settledUntil <= block.timestamp, in uint32 until 2106
            lease.settledAt = uint32(settledUntil);
            emit LeaseSettled(leaseId, amount, settledUntil);
            gross += amount;
        }
        if (gross == 0) return 0;
        uint256 fee = LeaseMath.feeOf(gross, _s.fees.bps);
        net = gross - fee;
        // forge-lint: disable-next-line(unsafe-typecast) fee <= gross, a sum of uint96 balances
        if (fee != 0) _s.fees.accrued += uint128(fee);
        emit ProviderWithdrew(msg.sender, gross, fee, net);
        token.safeTransfer(msg.sender, net);
    }

    /// @inheritdoc IPodnetMarket
    function closeLease(uint256 leaseId) external nonReentrant {
        (address publisher, uint256 payout) = Guarantees.closeLease(_s, leaseId);
        if (payout != 0) token.safeTransfer(publisher, payout);
    }

    /// @inheritdoc IPodnetMarket
    function releaseCollateral(uint256 leaseId) external nonReentrant {
        (address publisher, uint256 compensation) = Guarantees.releaseCollateral(_s, leaseId);
        if (compensation != 0) token.safeTransfer(publisher, compensation);
    }

    /// @inheritdoc IPodnetMarket
    function invalidateQuoteNonces(uint256 wordPos, uint256 mask) external {
        _s.quoteNonces[msg.sender][wordPos] |= mask;
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
        return _createOrder(specHash, resources, maxPricePerSecond, deposit, bidDeadline, requirements, autoAccept);
    }

    /// @inheritdoc IPodnetMarket
    function createOrderWithPermit(
        bytes32 specHash,
        Resources calldata resources,
        uint96 maxPricePerSecond,
        uint96 deposit,
        uint40 bidDeadline,
        Requirements calldata requirements,
        bool autoAccept,
        PermitSignature calldata permit
    ) external nonReentrant returns (uint256 orderId) {
        _permit(deposit, permit);
        return _createOrder(specHash, resources, maxPricePerSecond, deposit, bidDeadline, requirements, autoAccept);
    }

    function _createOrder(
        bytes32 specHash,
        Resources calldata resources,
        uint96 maxPricePerSecond,
        uint96 deposit,
        uint40 bidDeadline,
        Requirements calldata requirements,
        bool autoAccept
    ) private returns (uint256 orderId) {
        orderId = OrderBook.createOrder(
            _s, specHash, resources, maxPricePerSecond, deposit, bidDeadline, requirements, autoAccept
        );
        token.safeTransferFrom(msg.sender, address(this), deposit);
    }

    /// @inheritdoc IPodnetMarket
    function placeBid(uint256 orderId, uint96 pricePerSecond, address[] calldata standingBidders) external {
        OrderBook.placeBid(_s, registry, orderId, pricePerSecond, standingBidders);
    }

    /// @inheritdoc IPodnetMarket
    function acceptBid(uint256 orderId, address provider) external returns (uint256 leaseId) {
        return OrderBook.acceptBid(_s, orderId, provider);
    }

    /// @inheritdoc IPodnetMarket
    function finalizeOrder(uint256 orderId, address[] calldata standingBidders) external returns (uint256 leaseId) {
        return OrderBook.finalizeOrder(_s, orderId, standingBidders);
    }

    /// @inheritdoc IPodnetMarket
    function cancelOrder(uint256 orderId) external nonReentrant {
        uint256 refund = OrderBook.cancelOrder(_s, orderId);
        token.safeTransfer(msg.sender, refund);
    }

    /// @inheritdoc IPodnetMarket
    function releaseBid(uint256 orderId, address provider) external {
        OrderBook.releaseBid(_s, orderId, provider);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IPodnetMarket
    function params() external view returns (MarketParams memory) {
        return _s.params;
    }

    /// @inheritdoc IPodnetMarket
    function treasury() external view returns (address) {
        return _s.treasury;
    }

    /// @inheritdoc IPodnetMarket
    function accruedFees() external view returns (uint256) {
        return _s.fees.accrued;
    }

    /// @inheritdoc IPodnetMarket
    function stakeOf(address provider) external view returns (Stake memory) {
        return _s.stakes[provider];
    }

    /// @inheritdoc IPodnetMarket
    function darkRecord(address provider, uint256 epoch) external view returns (DarkRecord memory) {
        return _s.darkRecords[provider][epoch];
    }

    /// @inheritdoc IPodnetMarket
    function getLease(uint256 leaseId) external view returns (Lease memory) {
        return _s.leases[leaseId];
    }

    /// @inheritdoc IPodnetMarket
    function withdrawable(uint256 leaseId) external view returns (uint256 amount, bool outOfFunds) {
        Lease storage lease = _s.leases[leaseId];
        if (lease.status == LeaseStatus.Closed) return (lease.balance, true);
        if (lease.status == LeaseStatus.None) return (0, false);
        uint256 until = MarketCore.accruesUntil(_s, lease, _s.stakes[lease.provider].epoch);
        (amount,) = LeaseMath.settle(lease.balance, lease.pricePerSecond, lease.settledAt, until);
        outOfFunds = amount == lease.balance;
    }

    /// @inheritdoc IPodnetMarket
    function leaseRunsOutAt(uint256 leaseId) external view returns (uint256) {
        Lease storage lease = _s.leases[leaseId];
        if (lease.status == LeaseStatus.None) revert MarketLeaseNotFound(leaseId);
        if (lease.status == LeaseStatus.Closed) return lease.endedAt;
        return LeaseMath.runsOutAt(lease.balance, lease.pricePerSecond, lease.settledAt);
    }

    /// @inheritdoc IPodnetMarket
    function getOrder(uint256 orderId) external view returns (Order memory) {
        return _s.orders[orderId];
    }

    /// @inheritdoc IPodnetMarket
    function orderAttributes(uint256 orderId) external view returns (bytes32[] memory) {
        return _s.orderAttributes[orderId];
    }

    /// @inheritdoc IPodnetMarket
    function getBid(uint256 orderId, address provider) external view returns (Bid memory) {
        return _s.bids[orderId][provider];
    }

    /// @inheritdoc IPodnetMarket
    function isQuoteNonceUsed(address provider, uint256 nonce) external view returns (bool) {
        return _s.quoteNonces[provider][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
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
        return _s.leaseCount;
    }

    /// @inheritdoc IPodnetMarket
    function orderCount() external view returns (uint256) {
        return _s.orderCount;
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _createLease(Quote calldata quote, bytes calldata signature, uint96 deposit)
        private
        returns (uint256 leaseId)
    {
        uint96 collateral;
        {
            // Single fields rather than a memory copy of all parameters: cheaper on this hot path.
            MarketParams storage p = _s.params;
            _validateQuote(quote, deposit, p.minLeaseDuration);
            if (!_isSignedBy(quote.provider, hashQuote(quote), signature)) {
                revert MarketInvalidQuoteSignature(quote.provider);
            }
            _useQuoteNonce(quote.provider, quote.nonce);
            Stake storage s = MarketCore.requireCanTakeWork(_s, registry, quote.provider, p.minProviderStake);
            collateral = LeaseMath.collateralFor(quote.pricePerSecond, p.collateralSeconds).toUint96();
            MarketCore.lockStake(s, quote.provider, collateral);
        }
        leaseId = MarketCore.openLease(
            _s,
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

    /// @dev Lets the market pull `value` from the caller with an EIP-2612 permit. The permit is public once sent: if
    ///      someone submitted it first (or the token has no permit), the call goes on as long as the allowance covers
    ///      `value`, so a front-run permit cannot make it fail.
    function _permit(uint256 value, PermitSignature calldata permit) private {
        try IERC20Permit(address(token))
            .permit(msg.sender, address(this), value, permit.deadline, permit.v, permit.r, permit.s) {}
        catch {
            uint256 allowance = token.allowance(msg.sender, address(this));
            if (allowance < value) revert MarketPermitFailed(msg.sender, allowance, value);
        }
    }

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
        if (p.reporterRewardBps > LeaseMath.BPS) {
            revert MarketInvalidParameter("reporterRewardBps", p.reporterRewardBps);
        }
        if (p.darkSlashBps > LeaseMath.BPS) revert MarketInvalidParameter("darkSlashBps", p.darkSlashBps);
        if (p.heartbeatThreshold == 0 || p.heartbeatThreshold > MAX_DURATION_PARAM) {
            revert MarketInvalidParameter("heartbeatThreshold", p.heartbeatThreshold);
        }
        if (p.jailCooldown < MIN_JAIL_COOLDOWN || p.jailCooldown > MAX_DURATION_PARAM) {
            revert MarketInvalidParameter("jailCooldown", p.jailCooldown);
        }
        if (p.disputeWindow > MAX_DISPUTE_WINDOW) revert MarketInvalidParameter("disputeWindow", p.disputeWindow);
        if (p.minBidCollateralBps > LeaseMath.BPS) {
            revert MarketInvalidParameter("minBidCollateralBps", p.minBidCollateralBps);
        }
        _s.params = p;
        _s.fees.bps = p.feeBps;
        emit ParamsUpdated(p);
    }

    function _validateQuote(Quote calldata quote, uint96 deposit, uint40 minLeaseDuration) private view {
        if (block.timestamp > quote.validUntil) revert MarketQuoteExpired(quote.validUntil, block.timestamp);
        if (quote.publisher != address(0) && quote.publisher != msg.sender) {
            revert MarketQuoteWrongPublisher(quote.publisher, msg.sender);
        }
        MarketCore.requireValidPod(quote.specHash, quote.resources, quote.pricePerSecond, deposit, minLeaseDuration);
    }

    /// @dev An ECDSA signature of `signer`, or one its ERC-1271 wallet accepts. ECDSA is tried first so that the
    ///      common case (an EOA) skips the EXTCODESIZE of a cold account that SignatureChecker starts with.
    function _isSignedBy(address signer, bytes32 digest, bytes calldata signature) private view returns (bool) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        return SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature);
    }

    function _useQuoteNonce(address provider, uint256 nonce) private {
        uint256 bit = 1 << (nonce & 0xff);
        mapping(uint256 => uint256) storage words = _s.quoteNonces[provider];
        uint256 word = words[nonce >> 8];
        if (word & bit != 0) revert MarketQuoteNonceUsed(provider, nonce);
        words[nonce >> 8] = word | bit;
    }

    /// @dev Returns an active lease whose provider has not been reported dark since it started.
    function _leaseOfLiveProvider(uint256 leaseId) private view returns (Lease storage lease) {
        lease = _s.leases[leaseId];
        MarketCore.requireActive(leaseId, lease.status);
        if (lease.epoch != _s.stakes[lease.provider].epoch) revert MarketProviderWentDark(lease.provider, lease.epoch);
    }

    /// @dev Returns a lease that is active, whose provider is live, and that still has funds (top-ups and spec
    ///      updates need all three).
    function _runningLease(uint256 leaseId) private view returns (Lease storage lease) {
        lease = _leaseOfLiveProvider(leaseId);
        if (LeaseMath.isExhausted(lease.balance, lease.pricePerSecond, lease.settledAt, block.timestamp)) {
            revert MarketLeaseOutOfFunds(
                leaseId, LeaseMath.runsOutAt(lease.balance, lease.pricePerSecond, lease.settledAt)
            );
        }
    }
}
