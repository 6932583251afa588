// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PodnetMarket} from "../../src/PodnetMarket.sol";
import {ProviderRegistry} from "../../src/ProviderRegistry.sol";
import {PodnetTestToken} from "../../src/dev/PodnetTestToken.sol";
import {IPodnetMarket} from "../../src/interfaces/IPodnetMarket.sol";
import {
    BidStatus,
    Lease,
    LeaseStatus,
    MarketParams,
    Order,
    OrderStatus,
    Pricing,
    ProviderProfile,
    ProviderStatus,
    Quote,
    Requirements,
    Resources,
    Stake
} from "../../src/types/MarketTypes.sol";
import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Vm} from "forge-std/Vm.sol";
import {console} from "forge-std/console.sol";

/// @notice Drives random, always-valid sequences of market calls for the invariant suite.
/// @dev Every action picks its arguments from the handler's own view of the market (existing leases, orders, bids)
///      and returns early, counting a skip, when the action is impossible in the current state: the campaign runs with
///      fail_on_revert, so any revert of a market call is a finding.
///
///      The ghost variables are computed independently of the contracts under test (fees and collateral are
///      recomputed here, not taken from LeaseMath), so that broken escrow math in the market shows up as a mismatch.
contract MarketHandler is CommonBase, StdCheats, StdUtils {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    uint256 public constant PROVIDER_COUNT = 4;
    uint256 public constant PUBLISHER_COUNT = 3;

    uint256 internal constant TOKEN = 1e18;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant MAX_FEE_BPS = 1000;
    /// @dev Up to 1e15 base units per second: collateral (one day of it) then reaches 86.4 TOKEN, so a provider that
    ///      started with 1000 TOKEN and unstaked some runs short of free stake; the low end (1 wei/s) exercises
    ///      rounding and the partial last second.
    uint256 internal constant MAX_PRICE = 1e15;
    uint256 internal constant MAX_STAKE = 1000 * TOKEN;
    uint256 internal constant INITIAL_STAKE = 1000 * TOKEN;
    uint256 internal constant MAX_LEASE_SECONDS = 4 days;
    uint256 internal constant MAX_TOP_UP_SECONDS = 2 days;
    uint256 internal constant MAX_WARP = 1 days;
    uint256 internal constant MAX_RUN_OUT_JUMP = 8 days;
    uint256 internal constant QUOTE_LIFETIME = 10 minutes;

    bytes32 internal constant REGION_EU = "region=eu-west";
    bytes32 internal constant REGION_US = "region=us-east";
    bytes32 internal constant TEE_SGX = "tee=sgx";

    enum Action {
        Register,
        Stake,
        Unstake,
        WithdrawStake,
        CreateLease,
        CreateOrder,
        PlaceBid,
        AcceptBid,
        FinalizeOrder,
        CancelOrder,
        ReleaseBid,
        TopUp,
        UpdateLeaseSpec,
        Withdraw,
        CloseLease,
        WithdrawFees,
        Warp,
        WarpToRunOut,
        TogglePause,
        InvalidateNonce,
        SetFee
    }

    uint256 internal constant ACTION_COUNT = 21;

    /*//////////////////////////////////////////////////////////////
                                 SYSTEM
    //////////////////////////////////////////////////////////////*/

    PodnetMarket public immutable market;
    PodnetTestToken public immutable token;
    ProviderRegistry public immutable registry;
    address public immutable admin;

    address[PROVIDER_COUNT] public providers;
    uint256[PROVIDER_COUNT] internal providerKeys;
    address[PUBLISHER_COUNT] public publishers;
    address public stranger;

    uint256 public immutable startTime;
    /// @notice The handler's clock: warps accumulate here and every action starts by warping to it.
    uint256 public currentTime;

    mapping(address provider => uint256[] leaseIds) internal _providerLeases;
    mapping(address provider => uint256 nonce) public nextNonce;

    /*//////////////////////////////////////////////////////////////
                                 GHOSTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Everything escrowed into a lease: its first deposit (quote or order) plus every top-up.
    mapping(uint256 leaseId => uint256) public ghost_deposited;
    /// @notice Sum of the lease's LeaseSettled amounts (what left the lease towards its provider, fee included).
    mapping(uint256 leaseId => uint256) public ghost_paidToProvider;
    /// @notice What the publisher got back when the lease closed.
    mapping(uint256 leaseId => uint256) public ghost_refunded;
    /// @notice endedAt as read right after the lease closed.
    mapping(uint256 leaseId => uint256) public ghost_endedAt;
    mapping(uint256 leaseId => bool) public ghost_closed;

    /// @notice What the publisher got back when it cancelled the order.
    mapping(uint256 orderId => uint256) public ghost_orderRefunded;

    mapping(address provider => uint256) public ghost_staked;
    mapping(address provider => uint256) public ghost_withdrawnStake;

    /// @notice Sum over provider withdrawals of feeOf(gross) at the fee rate of the time.
    uint256 public ghost_feesAccrued;
    /// @notice What the treasury received from withdrawFees.
    uint256 public ghost_feesWithdrawn;
    /// @notice What providers received from withdraw (net of fees).
    uint256 public ghost_netToProviders;
    /// @notice Sum of gross amounts of all withdrawals (sum of LeaseSettled amounts).
    uint256 public ghost_grossWithdrawn;
    /// @notice withdraw calls whose return value differed from what the provider received.
    uint256 public ghost_withdrawReturnMismatches;

    /// @notice Tokens that went into the market (stake, deposits, top-ups), by the amounts the callers asked for.
    uint256 public ghost_tokensIn;
    /// @notice Tokens that came out, as measured on the recipients.
    uint256 public ghost_tokensOut;

    uint256[ACTION_COUNT] public doneCalls;
    uint256[ACTION_COUNT] public skippedCalls;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    constructor(PodnetMarket market_, PodnetTestToken token_, ProviderRegistry registry_, address admin_) {
        market = market_;
        token = token_;
        registry = registry_;
        admin = admin_;
        startTime = block.timestamp;
        currentTime = block.timestamp;

        for (uint256 i; i < PROVIDER_COUNT; ++i) {
            (providers[i], providerKeys[i]) = makeAddrAndKey(string.concat("inv.provider", vm.toString(i)));
            _approve(providers[i]);
        }
        for (uint256 i; i < PUBLISHER_COUNT; ++i) {
            publishers[i] = makeAddr(string.concat("inv.publisher", vm.toString(i)));
            _approve(publishers[i]);
        }
        stranger = makeAddr("inv.stranger");
        _approve(stranger);

        // Three providers start onboarded so that sequences reach leases and bids early; the last one must go
        // through register and stake. The start state is built with the same internals (and ghosts) as the actions.
        for (uint256 i; i < PROVIDER_COUNT - 1; ++i) {
            _register(i);
            _stake(providers[i], INITIAL_STAKE);
        }
        // And one open auto-accept order, bidding open for an hour, is there to bid on.
        _createOrder(
            publishers[0],
            0,
            1e12,
            1e12 * 1 days,
            block.timestamp + 1 hours,
            Requirements({minStake: 0, attributes: new bytes32[](0)}),
            true
        );
    }

    modifier useCurrentTime() {
        vm.warp(currentTime);
        _;
    }

    /*//////////////////////////////////////////////////////////////
                                 STAKE
    //////////////////////////////////////////////////////////////*/

    function register(uint256 providerSeed) external useCurrentTime {
        uint256 i = providerSeed % PROVIDER_COUNT;
        if (registry.statusOf(providers[i]) != ProviderStatus.None) return _skip(Action.Register);
        _register(i);
        _done(Action.Register);
    }

    function stake(uint256 providerSeed, uint256 amount) external useCurrentTime {
        address p = providers[providerSeed % PROVIDER_COUNT];
        if (registry.statusOf(p) == ProviderStatus.None) return _skip(Action.Stake);
        _stake(p, _bound(amount, 1, MAX_STAKE));
        _done(Action.Stake);
    }

    function unstake(uint256 providerSeed, uint256 amount) external useCurrentTime {
        address p = providers[providerSeed % PROVIDER_COUNT];
        uint256 free = market.stakeOf(p).free;
        if (free == 0) return _skip(Action.Unstake);
        amount = _bound(amount, 1, free);
        vm.prank(p);
        market.unstake(amount);
        _done(Action.Unstake);
    }

    /// @param wait Whether to let time pass until the unbonding delay is over when it is not yet.
    function withdrawStake(uint256 providerSeed, bool wait) external useCurrentTime {
        address p = _firstProvider(providerSeed, _hasUnbonding);
        if (p == address(0)) return _skip(Action.WithdrawStake);
        uint256 releaseAt = market.stakeOf(p).unbondingReleaseAt;
        if (currentTime < releaseAt) {
            if (!wait) return _skip(Action.WithdrawStake);
            _warpTo(releaseAt);
        }
        uint256 before = token.balanceOf(p);
        vm.prank(p);
        market.withdrawStake();
        uint256 received = token.balanceOf(p) - before;
        ghost_withdrawnStake[p] += received;
        ghost_tokensOut += received;
        _done(Action.WithdrawStake);
    }

    /// @notice Pauses an active provider or resumes a paused one (running leases go on either way).
    function togglePause(uint256 providerSeed) external useCurrentTime {
        address p = providers[providerSeed % PROVIDER_COUNT];
        ProviderStatus status = registry.statusOf(p);
        if (status == ProviderStatus.None) return _skip(Action.TogglePause);
        vm.prank(p);
        if (status == ProviderStatus.Active) registry.pause();
        else registry.resume();
        _done(Action.TogglePause);
    }

    /*//////////////////////////////////////////////////////////////
                                 LEASES
    //////////////////////////////////////////////////////////////*/

    /// @param openQuote Whether the quote lets anyone use it (publisher = address(0)).
    function createLease(
        uint256 providerSeed,
        uint256 publisherSeed,
        uint256 price,
        uint256 deposit,
        uint256 resourcesSeed,
        bool openQuote
    ) external useCurrentTime {
        MarketParams memory p = market.params();
        address prov = _firstProvider(providerSeed, _canTakeDirectWork);
        if (prov == address(0)) return _skip(Action.CreateLease);
        uint256 free = market.stakeOf(prov).free;
        uint256 maxPrice = p.collateralSeconds == 0 ? MAX_PRICE : _min(MAX_PRICE, free / p.collateralSeconds);
        price = _bound(price, 1, maxPrice);
        deposit = _bound(deposit, _max(1, price * p.minLeaseDuration), price * MAX_LEASE_SECONDS);
        address pub = publishers[publisherSeed % PUBLISHER_COUNT];

        uint256 nonce = nextNonce[prov];
        while (market.isQuoteNonceUsed(prov, nonce)) ++nonce;
        nextNonce[prov] = nonce + 1;

        Quote memory quote = Quote({
            provider: prov,
            publisher: openQuote ? address(0) : pub,
            specHash: keccak256(abi.encode("spec", resourcesSeed)),
            resources: _resources(resourcesSeed),
            pricePerSecond: uint96(price),
            validUntil: uint40(currentTime + QUOTE_LIFETIME),
            attestationHash: keccak256(abi.encode("attestation", resourcesSeed)),
            nonce: nonce
        });
        bytes memory signature = _sign(prov, quote);

        token.mint(pub, deposit);
        vm.prank(pub);
        uint256 leaseId = market.createLease(quote, signature, uint96(deposit));

        _recordNewLease(leaseId, prov, deposit);
        ghost_tokensIn += deposit;
        _done(Action.CreateLease);
    }

    function topUp(uint256 leaseSeed, uint256 payerSeed, uint256 amount) external useCurrentTime {
        uint256 leaseId = _firstLease(leaseSeed, _isRunning);
        if (leaseId == 0) return _skip(Action.TopUp);
        Lease memory lease = market.getLease(leaseId);
        amount = _bound(amount, 1, uint256(lease.pricePerSecond) * MAX_TOP_UP_SECONDS);
        // Anyone may top up: one of the publishers (not necessarily the lease's) or a stranger.
        uint256 k = payerSeed % (PUBLISHER_COUNT + 1);
        address payer = k == PUBLISHER_COUNT ? stranger : publishers[k];
        token.mint(payer, amount);
        vm.prank(payer);
        market.topUp(leaseId, uint96(amount));
        ghost_deposited[leaseId] += amount;
        ghost_tokensIn += amount;
        _done(Action.TopUp);
    }

    function updateLeaseSpec(uint256 leaseSeed, bytes32 specHash) external useCurrentTime {
        uint256 leaseId = _firstLease(leaseSeed, _isRunning);
        if (leaseId == 0) return _skip(Action.UpdateLeaseSpec);
        if (specHash == bytes32(0)) specHash = keccak256("spec v2");
        address pub = market.getLease(leaseId).publisher;
        vm.prank(pub);
        market.updateLeaseSpec(leaseId, specHash);
        _done(Action.UpdateLeaseSpec);
    }

    /// @notice A provider withdraws a subset (bit `i` of `mask` picks its i-th lease) of its leases, active and
    ///         closed alike, optionally naming the first one twice.
    function withdraw(uint256 providerSeed, uint256 mask, bool duplicate) external useCurrentTime {
        address p = _firstProvider(providerSeed, _hasLeases);
        if (p == address(0)) return _skip(Action.Withdraw);
        uint256[] storage all = _providerLeases[p];
        uint256 n = all.length;
        uint256[] memory ids = new uint256[](n + 1);
        uint256 k;
        for (uint256 i; i < n; ++i) {
            if ((mask >> (i % 256)) & 1 == 1) ids[k++] = all[i];
        }
        if (duplicate && k != 0) ids[k++] = ids[0];
        assembly ("memory-safe") {
            mstore(ids, k)
        }

        uint256 feeBps = market.params().feeBps;
        uint256 before = token.balanceOf(p);
        vm.recordLogs();
        vm.prank(p);
        uint256 net = market.withdraw(ids);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        uint256 gross;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(market) || logs[i].topics[0] != IPodnetMarket.LeaseSettled.selector) {
                continue;
            }
            uint256 leaseId = uint256(logs[i].topics[1]);
            (uint256 amount,) = abi.decode(logs[i].data, (uint256, uint256));
            ghost_paidToProvider[leaseId] += amount;
            gross += amount;
        }
        uint256 received = token.balanceOf(p) - before;
        if (received != net) ++ghost_withdrawReturnMismatches;
        ghost_grossWithdrawn += gross;
        ghost_feesAccrued += gross * feeBps / BPS;
        ghost_netToProviders += received;
        ghost_tokensOut += received;
        _done(Action.Withdraw);
    }

    /// @param callerSeed 0: the publisher, 1: the provider, 2: a stranger (only once the funds ran out; otherwise
    ///        the publisher closes instead).
    function closeLease(uint256 leaseSeed, uint256 callerSeed) external useCurrentTime {
        uint256 leaseId = _firstLease(leaseSeed, _isActive);
        if (leaseId == 0) return _skip(Action.CloseLease);
        Lease memory lease = market.getLease(leaseId);
        (, bool outOfFunds) = market.withdrawable(leaseId);
        uint256 who = callerSeed % 3;
        address caller = who == 1 ? lease.provider : who == 2 && outOfFunds ? stranger : lease.publisher;

        uint256 before = token.balanceOf(lease.publisher);
        vm.prank(caller);
        market.closeLease(leaseId);
        uint256 refund = token.balanceOf(lease.publisher) - before;

        ghost_refunded[leaseId] = refund;
        ghost_endedAt[leaseId] = market.getLease(leaseId).endedAt;
        ghost_closed[leaseId] = true;
        ghost_tokensOut += refund;
        _done(Action.CloseLease);
    }

    /// @notice The provider cancels one of its next quote nonces; createLease then skips it.
    function invalidateNonce(uint256 providerSeed, uint256 offset) external useCurrentTime {
        address p = providers[providerSeed % PROVIDER_COUNT];
        uint256 nonce = nextNonce[p] + _bound(offset, 0, 3);
        vm.prank(p);
        market.invalidateQuoteNonces(nonce >> 8, 1 << (nonce & 0xff));
        _done(Action.InvalidateNonce);
    }

    /*//////////////////////////////////////////////////////////////
                             REVERSE MARKET
    //////////////////////////////////////////////////////////////*/

    /// @param shape Bits 0-1: a quarter of the orders require REGION_EU (only even providers have it); bit 2: half
    ///        require some minimum stake (up to 600 TOKEN; providers start with 1000); bit 3: half have a bid window
    ///        of at most an hour (so that bidding closes within a run), the others up to maxBidWindow.
    function createOrder(
        uint256 publisherSeed,
        uint256 maxPrice,
        uint256 deposit,
        uint256 window,
        uint256 minStake,
        uint256 resourcesSeed,
        uint8 shape,
        bool autoAccept
    ) external useCurrentTime {
        MarketParams memory p = market.params();
        maxPrice = _bound(maxPrice, 1, MAX_PRICE);
        deposit = _bound(deposit, _max(1, maxPrice * p.minLeaseDuration), maxPrice * MAX_LEASE_SECONDS);
        window = _bound(window, 1, (shape >> 3) % 2 == 0 ? 1 hours : p.maxBidWindow);
        bytes32[] memory attributes;
        if (shape % 4 == 0) {
            attributes = new bytes32[](1);
            attributes[0] = REGION_EU;
        }
        Requirements memory requirements = Requirements({
            minStake: (shape >> 2) % 2 == 0 ? 0 : uint128(_bound(minStake, 0, 600 * TOKEN)), attributes: attributes
        });
        _createOrder(
            publishers[publisherSeed % PUBLISHER_COUNT],
            resourcesSeed,
            maxPrice,
            deposit,
            currentTime + window,
            requirements,
            autoAccept
        );
        _done(Action.CreateOrder);
    }

    function placeBid(uint256 orderSeed, uint256 providerSeed, uint256 price) external useCurrentTime {
        uint256 count = market.orderCount();
        uint8 maxBids = market.params().maxBidsPerOrder;
        for (uint256 i; i < count; ++i) {
            uint256 orderId = (orderSeed % count + i) % count + 1;
            Order memory order = market.getOrder(orderId);
            if (order.status != OrderStatus.Open || currentTime >= order.bidDeadline || order.bidCount >= maxBids) {
                continue;
            }
            address prov = _bidderFor(orderId, order, providerSeed);
            if (prov == address(0)) continue;

            uint256 free = market.stakeOf(prov).free;
            uint256 collateralSeconds = market.params().collateralSeconds;
            uint256 maxPrice = collateralSeconds == 0
                ? order.maxPricePerSecond
                : _min(order.maxPricePerSecond, free / collateralSeconds);
            price = _bound(price, 1, maxPrice);
            vm.prank(prov);
            market.placeBid(orderId, uint96(price));
            return _done(Action.PlaceBid);
        }
        _skip(Action.PlaceBid);
    }

    /// @notice The publisher of a matchable order picks one of its active bids (bidding may still be open).
    function acceptBid(uint256 orderSeed, uint256 providerSeed) external useCurrentTime {
        (uint256 orderId, Order memory order) = _firstOrder(orderSeed, _isMatchable);
        if (orderId == 0) return _skip(Action.AcceptBid);
        address winner;
        for (uint256 j; j < PROVIDER_COUNT; ++j) {
            address prov = providers[(providerSeed % PROVIDER_COUNT + j) % PROVIDER_COUNT];
            if (market.getBid(orderId, prov).status == BidStatus.Active) {
                winner = prov;
                break;
            }
        }
        // _isMatchable guarantees a bid: the best bidder's bid is active while the order is open and not expired.
        vm.prank(order.publisher);
        uint256 leaseId = market.acceptBid(orderId, winner);
        _recordNewLease(leaseId, winner, order.deposit);
        _done(Action.AcceptBid);
    }

    function finalizeOrder(uint256 orderSeed, uint256 callerSeed) external useCurrentTime {
        (uint256 orderId, Order memory order) = _firstOrder(orderSeed, _isFinalizable);
        if (orderId == 0) return _skip(Action.FinalizeOrder);
        vm.prank(_anyone(callerSeed));
        uint256 leaseId = market.finalizeOrder(orderId);
        _recordNewLease(leaseId, order.bestBidder, order.deposit);
        _done(Action.FinalizeOrder);
    }

    function cancelOrder(uint256 orderSeed) external useCurrentTime {
        (uint256 orderId, Order memory order) = _firstOrder(orderSeed, _isOpen);
        if (orderId == 0) return _skip(Action.CancelOrder);
        uint256 before = token.balanceOf(order.publisher);
        vm.prank(order.publisher);
        market.cancelOrder(orderId);
        uint256 refund = token.balanceOf(order.publisher) - before;
        ghost_orderRefunded[orderId] = refund;
        ghost_tokensOut += refund;
        _done(Action.CancelOrder);
    }

    /// @notice Anyone releases a bid that can no longer win (order matched to another bid, cancelled or expired).
    function releaseBid(uint256 orderSeed, uint256 providerSeed, uint256 callerSeed) external useCurrentTime {
        uint256 count = market.orderCount();
        uint256 acceptWindow = market.params().acceptWindow;
        for (uint256 i; i < count; ++i) {
            uint256 orderId = (orderSeed % count + i) % count + 1;
            Order memory order = market.getOrder(orderId);
            if (order.status == OrderStatus.Open && currentTime < uint256(order.bidDeadline) + acceptWindow) continue;
            for (uint256 j; j < PROVIDER_COUNT; ++j) {
                address prov = providers[(providerSeed % PROVIDER_COUNT + j) % PROVIDER_COUNT];
                if (market.getBid(orderId, prov).status != BidStatus.Active) continue;
                vm.prank(_anyone(callerSeed));
                market.releaseBid(orderId, prov);
                return _done(Action.ReleaseBid);
            }
        }
        _skip(Action.ReleaseBid);
    }

    /*//////////////////////////////////////////////////////////////
                            FEES, GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    function withdrawFees(uint256 callerSeed) external useCurrentTime {
        if (market.accruedFees() == 0) return _skip(Action.WithdrawFees);
        address to = market.treasury();
        uint256 before = token.balanceOf(to);
        vm.prank(_anyone(callerSeed));
        market.withdrawFees();
        uint256 received = token.balanceOf(to) - before;
        ghost_feesWithdrawn += received;
        ghost_tokensOut += received;
        _done(Action.WithdrawFees);
    }

    /// @notice Governance changes the fee rate; only later withdrawals see it.
    function setFee(uint256 feeBps) external useCurrentTime {
        MarketParams memory p = market.params();
        p.feeBps = uint16(_bound(feeBps, 0, MAX_FEE_BPS));
        vm.prank(admin);
        market.setParams(p);
        _done(Action.SetFee);
    }

    /*//////////////////////////////////////////////////////////////
                                  TIME
    //////////////////////////////////////////////////////////////*/

    /// @param scale 0: up to a minute, 1: up to an hour, 2: up to MAX_WARP.
    function warp(uint256 seconds_, uint8 scale) external useCurrentTime {
        scale %= 3;
        _warpTo(currentTime + _bound(seconds_, 1, scale == 0 ? 1 minutes : scale == 1 ? 1 hours : MAX_WARP));
        _done(Action.Warp);
    }

    /// @notice Warps to one second before, at, or one second after an active lease's funds run out (the edges of
    ///         the last, partial second), if that is at most MAX_RUN_OUT_JUMP ahead.
    function warpToRunOut(uint256 leaseSeed, uint256 offset) external useCurrentTime {
        uint256 leaseId = _firstLease(leaseSeed, _isActive);
        if (leaseId == 0) return _skip(Action.WarpToRunOut);
        uint256 target = market.leaseRunsOutAt(leaseId) + (offset % 3) - 1;
        // A lease from an order bid far below the order's max price can run for ages: do not jump that far.
        if (target <= currentTime || target > currentTime + MAX_RUN_OUT_JUMP) return _skip(Action.WarpToRunOut);
        _warpTo(target);
        _done(Action.WarpToRunOut);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    function providerLeases(address provider) external view returns (uint256[] memory) {
        return _providerLeases[provider];
    }

    function callSummary() external view {
        string[ACTION_COUNT] memory names = [
            "register",
            "stake",
            "unstake",
            "withdrawStake",
            "createLease",
            "createOrder",
            "placeBid",
            "acceptBid",
            "finalizeOrder",
            "cancelOrder",
            "releaseBid",
            "topUp",
            "updateLeaseSpec",
            "withdraw",
            "closeLease",
            "withdrawFees",
            "warp",
            "warpToRunOut",
            "togglePause",
            "invalidateNonce",
            "setFee"
        ];
        console.log("MarketHandler call summary (done / skipped as impossible):");
        uint256 done;
        uint256 skipped;
        for (uint256 i; i < ACTION_COUNT; ++i) {
            console.log(
                string.concat("  ", names[i], ": ", vm.toString(doneCalls[i]), " / ", vm.toString(skippedCalls[i]))
            );
            done += doneCalls[i];
            skipped += skippedCalls[i];
        }
        console.log(string.concat("  total: ", vm.toString(done), " / ", vm.toString(skipped)));
        uint256 closed;
        uint256 leases = market.leaseCount();
        for (uint256 id = 1; id <= leases; ++id) {
            if (ghost_closed[id]) ++closed;
        }
        console.log(
            string.concat(
                "  leases: ",
                vm.toString(leases),
                " (closed ",
                vm.toString(closed),
                "), orders: ",
                vm.toString(market.orderCount())
            )
        );
        console.log(string.concat("  elapsed seconds: ", vm.toString(currentTime - startTime)));
        console.log(
            string.concat(
                "  gross withdrawn: ",
                vm.toString(ghost_grossWithdrawn),
                ", fees accrued: ",
                vm.toString(ghost_feesAccrued),
                ", fees withdrawn: ",
                vm.toString(ghost_feesWithdrawn)
            )
        );
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _done(Action action) internal {
        ++doneCalls[uint256(action)];
    }

    function _skip(Action action) internal {
        ++skippedCalls[uint256(action)];
    }

    function _warpTo(uint256 t) internal {
        currentTime = t;
        vm.warp(t);
    }

    function _approve(address who) internal {
        vm.prank(who);
        token.approve(address(market), type(uint256).max);
    }

    function _register(uint256 i) internal {
        vm.prank(providers[i]);
        registry.register(_profile(i));
    }

    function _stake(address p, uint256 amount) internal {
        token.mint(p, amount);
        vm.prank(p);
        market.stake(amount);
        ghost_staked[p] += amount;
        ghost_tokensIn += amount;
    }

    function _createOrder(
        address pub,
        uint256 resourcesSeed,
        uint256 maxPrice,
        uint256 deposit,
        uint256 bidDeadline,
        Requirements memory requirements,
        bool autoAccept
    ) internal {
        token.mint(pub, deposit);
        vm.prank(pub);
        market.createOrder(
            keccak256(abi.encode("order spec", resourcesSeed)),
            _resources(resourcesSeed),
            uint96(maxPrice),
            uint96(deposit),
            uint40(bidDeadline),
            requirements,
            autoAccept
        );
        ghost_tokensIn += deposit;
    }

    function _recordNewLease(uint256 leaseId, address prov, uint256 deposit) internal {
        ghost_deposited[leaseId] = deposit;
        _providerLeases[prov].push(leaseId);
    }

    function _sign(address prov, Quote memory quote) internal view returns (bytes memory) {
        uint256 key;
        for (uint256 i; i < PROVIDER_COUNT; ++i) {
            if (providers[i] == prov) key = providerKeys[i];
        }
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, market.hashQuote(quote));
        return abi.encodePacked(r, s, v);
    }

    /// @dev Even providers are in the EU with SGX, odd ones in the US: orders that require REGION_EU split them.
    function _profile(uint256 i) internal pure returns (ProviderProfile memory) {
        bytes32[] memory attributes = new bytes32[](i % 2 == 0 ? 2 : 1);
        attributes[0] = i % 2 == 0 ? REGION_EU : REGION_US;
        if (i % 2 == 0) attributes[1] = TEE_SGX;
        return ProviderProfile({
            endpoint: "https://provider.example:8443",
            metadataURI: "",
            encryptionKey: keccak256(abi.encode("x25519", i)),
            pricing: Pricing({perCpuMilli: 1e8, perMemoryMiB: 1e8, perStorageMiB: 1e7, flat: 1e9}),
            capacity: Resources({cpuMillis: 8000, memoryMiB: 16_384, storageMiB: 102_400}),
            attributes: attributes
        });
    }

    function _resources(uint256 seed) internal pure returns (Resources memory) {
        return Resources({
            cpuMillis: uint32(_bound(seed, 1, 8000)),
            memoryMiB: uint32(_bound(seed >> 32, 1, 16_384)),
            storageMiB: uint32(_bound(seed >> 64, 0, 102_400))
        });
    }

    /// @dev A publisher, a provider or a stranger: for calls anyone may make.
    function _anyone(uint256 seed) internal view returns (address) {
        uint256 k = seed % (PUBLISHER_COUNT + PROVIDER_COUNT + 1);
        if (k < PUBLISHER_COUNT) return publishers[k];
        if (k < PUBLISHER_COUNT + PROVIDER_COUNT) return providers[k - PUBLISHER_COUNT];
        return stranger;
    }

    /// @dev The first provider, starting at `seed`, for which `ok` holds; address(0) if none.
    function _firstProvider(uint256 seed, function(address) internal view returns (bool) ok)
        internal
        view
        returns (address)
    {
        for (uint256 j; j < PROVIDER_COUNT; ++j) {
            address prov = providers[(seed % PROVIDER_COUNT + j) % PROVIDER_COUNT];
            if (ok(prov)) return prov;
        }
        return address(0);
    }

    /// @dev The first lease id, starting at `seed`, for which `ok` holds; 0 if none.
    function _firstLease(uint256 seed, function(uint256) internal view returns (bool) ok)
        internal
        view
        returns (uint256)
    {
        uint256 count = market.leaseCount();
        for (uint256 i; i < count; ++i) {
            uint256 leaseId = (seed % count + i) % count + 1;
            if (ok(leaseId)) return leaseId;
        }
        return 0;
    }

    /// @dev The first order, starting at `seed`, for which `ok` holds; id 0 if none.
    function _firstOrder(uint256 seed, function(Order memory) internal view returns (bool) ok)
        internal
        view
        returns (uint256 orderId, Order memory order)
    {
        uint256 count = market.orderCount();
        for (uint256 i; i < count; ++i) {
            orderId = (seed % count + i) % count + 1;
            order = market.getOrder(orderId);
            if (ok(order)) return (orderId, order);
        }
        return (0, order);
    }

    /// @dev A provider, starting at `seed`, that may bid on the order and has the free stake for a 1 wei/s bid.
    function _bidderFor(uint256 orderId, Order memory order, uint256 seed) internal view returns (address) {
        MarketParams memory p = market.params();
        uint256 minStake = order.minStake > p.minProviderStake ? order.minStake : p.minProviderStake;
        bytes32[] memory required = market.orderAttributes(orderId);
        for (uint256 j; j < PROVIDER_COUNT; ++j) {
            address prov = providers[(seed % PROVIDER_COUNT + j) % PROVIDER_COUNT];
            if (market.getBid(orderId, prov).status != BidStatus.None || !registry.isActive(prov)) continue;
            Stake memory s = market.stakeOf(prov);
            if (uint256(s.free) + s.locked < minStake || s.free < p.collateralSeconds) continue;
            (bool ok,) = registry.hasAttributes(prov, required);
            if (ok) return prov;
        }
        return address(0);
    }

    function _hasUnbonding(address prov) internal view returns (bool) {
        return market.stakeOf(prov).unbonding != 0;
    }

    function _hasLeases(address prov) internal view returns (bool) {
        return _providerLeases[prov].length != 0;
    }

    /// @dev Active, bonded at least the minimum, and with the free stake for a 1 wei/s lease.
    function _canTakeDirectWork(address prov) internal view returns (bool) {
        if (!registry.isActive(prov)) return false;
        MarketParams memory p = market.params();
        Stake memory s = market.stakeOf(prov);
        return uint256(s.free) + s.locked >= p.minProviderStake && s.free >= p.collateralSeconds;
    }

    function _isActive(uint256 leaseId) internal view returns (bool) {
        return market.getLease(leaseId).status == LeaseStatus.Active;
    }

    /// @dev Active and not out of funds: what topUp and updateLeaseSpec need.
    function _isRunning(uint256 leaseId) internal view returns (bool) {
        if (!_isActive(leaseId)) return false;
        (, bool outOfFunds) = market.withdrawable(leaseId);
        return !outOfFunds;
    }

    function _isOpen(Order memory order) internal pure returns (bool) {
        return order.status == OrderStatus.Open;
    }

    /// @dev Open, not expired and with a bid.
    function _isMatchable(Order memory order) internal view returns (bool) {
        return order.status == OrderStatus.Open
            && currentTime < uint256(order.bidDeadline) + market.params().acceptWindow && order.bestBidder != address(0);
    }

    /// @dev Matchable, auto-accept, and bidding closed.
    function _isFinalizable(Order memory order) internal view returns (bool) {
        return _isMatchable(order) && order.autoAccept && currentTime >= order.bidDeadline;
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    function _max(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a : b;
    }
}
