// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {DisputeCourt} from "../../src/DisputeCourt.sol";
import {PodnetMarket} from "../../src/PodnetMarket.sol";
import {ProviderRegistry} from "../../src/ProviderRegistry.sol";
import {PodnetTestToken} from "../../src/dev/PodnetTestToken.sol";
import {IPodnetMarket} from "../../src/interfaces/IPodnetMarket.sol";
import {Dispute, DisputeStatus} from "../../src/types/CourtTypes.sol";
import {
    Bid,
    BidStatus,
    Lease,
    LeaseStatus,
    MarketParams,
    Order,
    OrderStatus,
    PermitSignature,
    Pricing,
    ProviderProfile,
    ProviderStatus,
    Quote,
    Requirements,
    Resources,
    Stake
} from "../../src/types/MarketTypes.sol";
import {Permits} from "../utils/Permits.sol";
import {SortedAddresses} from "../utils/SortedAddresses.sol";
import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Vm} from "forge-std/Vm.sol";
import {console} from "forge-std/console.sol";

/// @notice What the handler saw of one dark report (one provider epoch), and what was paid from its pool since.
struct DarkGhost {
    /// @dev The handler's own locked-stake ghost of the provider right before the report.
    uint256 lockedAtReport;
    /// @dev Bonded stake that disappeared (free + locked before minus after), as measured on the stake record.
    uint256 slashed;
    /// @dev What the reporter received, as measured on its balance.
    uint256 reward;
    /// @dev Parameters in force at the report.
    uint256 slashBps;
    uint256 rewardBps;
    /// @dev darkSlashBps * (BPS - reporterRewardBps) / BPS, recomputed here.
    uint256 compensationBps;
    /// @dev The provider's last heartbeat before the report.
    uint256 darkAt;
    /// @dev Compensation paid to publishers from this epoch's pool (dark closes and rulings on held collateral).
    uint256 compensated;
    /// @dev Shares of void bids swept from the pool to the fees.
    uint256 swept;
}

/// @notice Drives random, always-valid sequences of market calls for the invariant suite.
/// @dev Every action picks its arguments from the handler's own view of the market (existing leases, orders, bids)
///      and returns early, counting a skip, when the action is impossible in the current state: the campaign runs with
///      fail_on_revert, so any revert of a market call is a finding.
///
///      The ghost variables are computed independently of the contracts under test (fees and collateral are
///      recomputed here, not taken from LeaseMath), so that broken escrow math in the market shows up as a mismatch.
///      The same goes for the guarantees: the handler keeps its own ledger of locked stake, recomputes what a dark
///      report must slash and reward, what each dark close must refund and compensate (up to darkAt, at
///      compensationBps of the collateral), what a void bid sweeps to the fees, and what each ruling must slash,
///      release or pay, and counts every payout that differs.
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
        SetFee,
        Heartbeat,
        ReportDark,
        Unjail,
        CloseDarkLease,
        OpenDispute,
        AnswerDispute,
        SlashDispute,
        DismissDispute,
        LapseDispute,
        SetDarkParams,
        ReleaseCollateral,
        SetDisputeWindow,
        SetBidRules
    }

    uint256 internal constant ACTION_COUNT = 34;
    string internal constant EVIDENCE = "ipfs://bafy-evidence";

    /*//////////////////////////////////////////////////////////////
                                 SYSTEM
    //////////////////////////////////////////////////////////////*/

    PodnetMarket public immutable market;
    PodnetTestToken public immutable token;
    ProviderRegistry public immutable registry;
    DisputeCourt public immutable court;
    address public immutable admin;
    address public immutable arbiter;

    address[PROVIDER_COUNT] public providers;
    uint256[PROVIDER_COUNT] internal providerKeys;
    address[PUBLISHER_COUNT] public publishers;
    uint256[PUBLISHER_COUNT] internal publisherKeys;
    address public stranger;
    /// @notice Reports dark providers (so does the stranger).
    address public reporter;

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

    /// @notice Stake that left a provider's bonded stake by slashing: dark reports and dispute rulings.
    mapping(address provider => uint256) public ghost_stakeSlashed;
    /// @notice The handler's own view of a provider's locked stake: + collateral of new leases and reservations of
    ///         new bids, - what closes, releases and rulings free or slash, 0 after a dark report.
    mapping(address provider => uint256) public ghost_locked;
    /// @notice Number of dark reports of a provider (its epoch, as the handler counts it).
    mapping(address provider => uint256) public ghost_epoch;
    mapping(address provider => mapping(uint256 epoch => DarkGhost)) internal _darkGhosts;

    /// @notice settledAt of a lease still running when its provider was reported dark, read at the report.
    mapping(uint256 leaseId => uint256) public ghost_settledAtReport;
    /// @notice Whether the lease closed as a dark lease (its provider reported dark since it started).
    mapping(uint256 leaseId => bool) public ghost_darkClosed;
    /// @notice Compensation its publisher received from the dark pool (on a dark close, or from a ruling).
    mapping(uint256 leaseId => uint256) public ghost_compensation;
    /// @notice Collateral slashed to the publisher by dispute rulings (while the provider was live).
    mapping(uint256 leaseId => uint256) public ghost_disputeSlashed;
    /// @notice The open dispute on a lease, 0 if none.
    mapping(uint256 leaseId => uint256) public ghost_openDispute;

    /// @notice Totals over all dark reports: slashed stake, reporter rewards, compensation paid, void-bid shares swept.
    uint256 public ghost_totalDarkSlashed;
    uint256 public ghost_totalRewards;
    uint256 public ghost_totalCompensation;
    uint256 public ghost_totalSwept;
    /// @notice What publishers received on dark closes and dark rulings (refund + compensation), as measured.
    uint256 public ghost_darkReceipts;
    /// @notice The unspent escrow of dark leases at close (balance minus what accrued up to darkAt), recomputed here.
    uint256 public ghost_darkUnspentEscrow;
    /// @notice Fees from provider withdrawals only (ghost_feesAccrued also counts swept void-bid shares).
    uint256 public ghost_withdrawalFees;

    /// @notice Closes whose publisher payout differed from the refund and compensation recomputed here.
    uint256 public ghost_closeMismatches;
    /// @notice Compensation payments (dark closes, rulings) that differed from compensationBps of the collateral.
    uint256 public ghost_compensationMismatches;
    /// @notice Void-bid sweeps that differed from compensationBps of the reservation.
    uint256 public ghost_sweepMismatches;
    /// @notice Rulings whose slashed/released amounts or payouts differed from what the handler expected.
    uint256 public ghost_disputeMismatches;

    /// @notice Dark reports made through a recorded dark gap (the provider had heartbeated late since).
    uint256 public ghost_gapReports;
    /// @notice Bids placed on full orders (each evicted the worst standing bid), matches that fell through a best bid
    ///         that could not back a lease, and evictions or matches that picked another bid than the handler's own
    ///         ranking expected.
    uint256 public ghost_evictions;
    /// @notice Leases and top-ups paid with an EIP-2612 permit.
    uint256 public ghost_permits;
    uint256 public ghost_fallThroughs;
    uint256 public ghost_rankMismatches;
    /// @notice Collateral of a live provider released back to free stake before its lease's dispute window ended.
    uint256 public ghost_earlyReleases;
    /// @notice Releases of held collateral after the window (at the close or by releaseCollateral), and disputes
    ///         opened on a lease that had already ended.
    uint256 public ghost_releases;
    uint256 public ghost_lateDisputes;

    /// @notice Bonds that went into / out of the court, as measured on its balance.
    uint256 public ghost_courtIn;
    uint256 public ghost_courtOut;

    uint256[ACTION_COUNT] public doneCalls;
    uint256[ACTION_COUNT] public skippedCalls;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    constructor(
        PodnetMarket market_,
        PodnetTestToken token_,
        ProviderRegistry registry_,
        DisputeCourt court_,
        address admin_,
        address arbiter_
    ) {
        market = market_;
        token = token_;
        registry = registry_;
        court = court_;
        admin = admin_;
        arbiter = arbiter_;
        startTime = block.timestamp;
        currentTime = block.timestamp;

        for (uint256 i; i < PROVIDER_COUNT; ++i) {
            (providers[i], providerKeys[i]) = makeAddrAndKey(string.concat("inv.provider", vm.toString(i)));
            _approve(providers[i]);
        }
        for (uint256 i; i < PUBLISHER_COUNT; ++i) {
            (publishers[i], publisherKeys[i]) = makeAddrAndKey(string.concat("inv.publisher", vm.toString(i)));
            _approve(publishers[i]);
            vm.prank(publishers[i]);
            token.approve(address(court_), type(uint256).max);
        }
        stranger = makeAddr("inv.stranger");
        _approve(stranger);
        reporter = makeAddr("inv.reporter");

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

    /// @param publisherSeed Picks the publisher; bit 8 set: it pays with an EIP-2612 permit (createLeaseWithPermit)
    ///        instead of its standing approval.
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
        _ensureAlive(prov);
        uint256 leaseId = _sendLease(publisherSeed, quote, signature, deposit);

        _recordNewLease(leaseId, prov, deposit);
        ghost_locked[prov] += price * p.collateralSeconds;
        ghost_tokensIn += deposit;
        _done(Action.CreateLease);
    }

    function topUp(uint256 leaseSeed, uint256 payerSeed, uint256 amount) external useCurrentTime {
        uint256 leaseId = _firstLease(leaseSeed, _isRunning);
        if (leaseId == 0) return _skip(Action.TopUp);
        Lease memory lease = market.getLease(leaseId);
        amount = _bound(amount, 1, uint256(lease.pricePerSecond) * MAX_TOP_UP_SECONDS);
        // Anyone may top up: one of the publishers (not necessarily the lease's) or a stranger; a publisher with bit 8
        // of the seed set pays with a permit (topUpWithPermit).
        uint256 k = payerSeed % (PUBLISHER_COUNT + 1);
        address payer = k == PUBLISHER_COUNT ? stranger : publishers[k];
        token.mint(payer, amount);
        if (k != PUBLISHER_COUNT && (payerSeed >> 8) & 1 == 1) {
            PermitSignature memory permit = _permit(k, amount);
            vm.prank(payer);
            market.topUpWithPermit(leaseId, uint96(amount), permit);
            _approve(payer);
            ++ghost_permits;
        } else {
            vm.prank(payer);
            market.topUp(leaseId, uint96(amount));
        }
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
        ghost_withdrawalFees += gross * feeBps / BPS;
        ghost_netToProviders += received;
        ghost_tokensOut += received;
        _done(Action.Withdraw);
    }

    /// @param callerSeed 0: the publisher, 1: the provider, 2: a stranger (only once the funds ran out or the
    ///        provider was reported dark; otherwise the publisher closes instead).
    function closeLease(uint256 leaseSeed, uint256 callerSeed) external useCurrentTime {
        uint256 leaseId = _firstLease(leaseSeed, _isActive);
        if (leaseId == 0) return _skip(Action.CloseLease);
        _closeLease(leaseId, callerSeed);
        _done(Action.CloseLease);
    }

    /// @notice Anyone (a publisher, a provider, the stranger or the reporter) closes a lease whose provider was
    ///         reported dark since it started; its publisher gets the unspent escrow and its share of the slash.
    function closeDarkLease(uint256 leaseSeed, uint256 callerSeed) external useCurrentTime {
        uint256 leaseId = _firstLease(leaseSeed, _isDark);
        if (leaseId == 0) return _skip(Action.CloseDarkLease);
        _closeLease(leaseId, callerSeed);
        _done(Action.CloseDarkLease);
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

    /// @notice A provider bids on an open order. On a full order it brings the list of standing bidders and must beat
    ///         the worst bid (a void one first, else the highest price, the latest on a tie), which it evicts; the
    ///         handler recomputes which bid that is and what it frees.
    function placeBid(uint256 orderSeed, uint256 providerSeed, uint256 price) external useCurrentTime {
        uint256 count = market.orderCount();
        for (uint256 i; i < count; ++i) {
            uint256 orderId = (orderSeed % count + i) % count + 1;
            Order memory order = market.getOrder(orderId);
            if (order.status != OrderStatus.Open || currentTime >= order.bidDeadline) continue;
            address prov = _bidderFor(orderId, order, providerSeed);
            if (prov == address(0)) continue;
            (address worst, uint256 highest, address[] memory list) = _roomFor(orderId, order, prov);
            if (highest == 0) continue;
            _placeBid(orderId, order.maxPricePerSecond, prov, _bound(price, 1, highest), worst, list);
            return _done(Action.PlaceBid);
        }
        _skip(Action.PlaceBid);
    }

    /// @dev The highest price `prov` may bid on the order (0: none): the order's maximum, below the worst standing
    ///      bid when the order is full (unless that bid is void), and what its free stake can reserve. For a full
    ///      order, also the bid it would evict and the list of standing bidders to pass.
    function _roomFor(uint256 orderId, Order memory order, address prov)
        internal
        view
        returns (address worst, uint256 highest, address[] memory list)
    {
        highest = order.maxPricePerSecond;
        if (order.bidCount >= market.params().maxBidsPerOrder) {
            list = _standingList(orderId);
            for (uint256 j; j < list.length; ++j) {
                if (worst == address(0) || _worseBid(orderId, list[j], worst)) worst = list[j];
            }
            Bid memory worstBid = market.getBid(orderId, worst);
            // A live worst bid must be beaten by a strictly lower price.
            if (worstBid.epoch == market.stakeOf(worst).epoch) highest = _min(highest, worstBid.pricePerSecond - 1);
        }
        uint256 collateralSeconds = market.params().collateralSeconds;
        if (collateralSeconds != 0) highest = _min(highest, market.stakeOf(prov).free / collateralSeconds);
    }

    function _placeBid(
        uint256 orderId,
        uint256 maxPrice,
        address prov,
        uint256 price,
        address worst,
        address[] memory list
    ) internal {
        _ensureAlive(prov);
        Bid memory evicted;
        bool evictedVoid;
        if (worst != address(0)) {
            evicted = market.getBid(orderId, worst);
            evictedVoid = evicted.epoch != market.stakeOf(worst).epoch;
        }
        vm.recordLogs();
        vm.prank(prov);
        market.placeBid(orderId, uint96(price), list);
        ghost_locked[prov] += _reservationFor(price, maxPrice);
        if (worst != address(0)) _recordEviction(orderId, worst, evicted, evictedVoid);
    }

    /// @dev The bid the handler expected to be evicted must be the one the market evicted; a live one gives its
    ///      reservation back, a void one sweeps compensationBps of it from its dark pool to the fees.
    function _recordEviction(uint256 orderId, address worst, Bid memory evicted, bool void) internal {
        ++ghost_evictions;
        if (market.getBid(orderId, worst).status != BidStatus.Evicted) ++ghost_rankMismatches;
        if (!void) {
            ghost_locked[worst] -= evicted.reserved;
            return;
        }
        _recordSweep(worst, evicted);
    }

    /// @notice The publisher of a matchable order picks one of its active bids (bidding may still be open). Bids
    ///         from before their provider was reported dark are void and cannot win.
    function acceptBid(uint256 orderSeed, uint256 providerSeed) external useCurrentTime {
        (uint256 orderId, Order memory order) = _firstOrder(orderSeed, _isMatchable);
        if (orderId == 0) return _skip(Action.AcceptBid);
        address winner = _validBidder(orderId, providerSeed);
        _ensureAlive(winner);
        vm.prank(order.publisher);
        uint256 leaseId = market.acceptBid(orderId, winner);
        _recordNewLease(leaseId, winner, order.deposit);
        _done(Action.AcceptBid);
    }

    /// @notice Anyone finalizes an auto-accept order after its deadline. Usually its best bidder heartbeats first;
    ///         with `silentBest` it does not, and the order falls through (the full list is always passed) to the best
    ///         bid that can back a lease, which the handler recomputes.
    function finalizeOrder(uint256 orderSeed, uint256 callerSeed, bool silentBest) external useCurrentTime {
        (uint256 orderId, Order memory order) = _firstOrder(orderSeed, _isFinalizable);
        if (orderId == 0) return _skip(Action.FinalizeOrder);
        address best = order.bestBidder;
        if (!silentBest && market.getBid(orderId, best).epoch == market.stakeOf(best).epoch) _ensureAlive(best);
        address expected = _canBack(orderId, best) ? best : address(0);
        address[] memory list = _standingList(orderId);
        if (expected == address(0)) {
            for (uint256 j; j < list.length; ++j) {
                if (!_canBack(orderId, list[j])) continue;
                if (expected == address(0) || _betterBid(orderId, list[j], expected)) expected = list[j];
            }
        }
        if (expected == address(0)) return _skip(Action.FinalizeOrder); // no bid can back a lease: it would revert
        vm.prank(_anyone(callerSeed));
        uint256 leaseId = market.finalizeOrder(orderId, list);
        address winner = market.getLease(leaseId).provider;
        if (winner != expected) ++ghost_rankMismatches;
        if (winner != best) ++ghost_fallThroughs;
        _recordNewLease(leaseId, winner, order.deposit);
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
                Bid memory bid = market.getBid(orderId, prov);
                if (bid.status != BidStatus.Active) continue;
                _releaseBid(orderId, prov, bid, callerSeed);
                return _done(Action.ReleaseBid);
            }
        }
        _skip(Action.ReleaseBid);
    }

    /*//////////////////////////////////////////////////////////////
                          LIVENESS AND SLASHING
    //////////////////////////////////////////////////////////////*/

    /// @notice A provider that has staked and is not jailed proves it is alive.
    function heartbeat(uint256 providerSeed) external useCurrentTime {
        address p = _firstProvider(providerSeed, _hasStaked);
        if (p == address(0)) return _skip(Action.Heartbeat);
        vm.prank(p);
        market.heartbeat();
        _done(Action.Heartbeat);
    }

    /// @notice The reporter or the stranger reports a staked, unjailed provider dark: at once when a late heartbeat
    ///         left a dark gap that is still reportable (its leases then end where the gap began), otherwise after
    ///         letting time pass until its last heartbeat is older than the threshold if it is not yet.
    function reportDark(uint256 providerSeed, bool byStranger) external useCurrentTime {
        address p = _firstProvider(providerSeed, _isReportable);
        if (p == address(0)) return _skip(Action.ReportDark);
        Stake memory before = market.stakeOf(p);
        uint256 threshold = market.params().heartbeatThreshold;
        uint256 reportableAt = uint256(before.lastHeartbeat) + threshold + 1;
        uint256 darkAt = before.lastHeartbeat;
        if (currentTime < reportableAt) {
            if (before.darkGapUntil != 0 && currentTime <= uint256(before.darkGapUntil) + threshold) {
                darkAt = before.darkGapFrom;
                ++ghost_gapReports;
            } else {
                _warpTo(reportableAt);
            }
        }

        address by = byStranger ? stranger : reporter;
        uint256 balanceBefore = token.balanceOf(by);
        vm.prank(by);
        market.reportDark(p);
        uint256 reward = token.balanceOf(by) - balanceBefore;
        Stake memory afterReport = market.stakeOf(p);
        uint256 slashed = (uint256(before.free) + before.locked) - (uint256(afterReport.free) + afterReport.locked);
        _recordReport(p, darkAt, slashed, reward);
        _done(Action.ReportDark);
    }

    function _recordReport(address p, uint256 darkAt, uint256 slashed, uint256 reward) internal {
        MarketParams memory params = market.params();
        uint256 epoch = ghost_epoch[p];
        _darkGhosts[p][epoch] = DarkGhost({
            lockedAtReport: ghost_locked[p],
            slashed: slashed,
            reward: reward,
            slashBps: params.darkSlashBps,
            rewardBps: params.reporterRewardBps,
            compensationBps: uint256(params.darkSlashBps) * (BPS - params.reporterRewardBps) / BPS,
            darkAt: darkAt,
            compensated: 0,
            swept: 0
        });
        // The leases still running in this epoch now end at darkAt (or at their last settlement, if later).
        uint256[] storage ids = _providerLeases[p];
        for (uint256 i; i < ids.length; ++i) {
            Lease memory lease = market.getLease(ids[i]);
            if (lease.status == LeaseStatus.Active && lease.epoch == epoch) {
                ghost_settledAtReport[ids[i]] = lease.settledAt;
            }
        }
        ghost_epoch[p] = epoch + 1;
        ghost_locked[p] = 0;
        ghost_stakeSlashed[p] += slashed;
        ghost_totalDarkSlashed += slashed;
        ghost_totalRewards += reward;
        ghost_tokensOut += reward;
    }

    /// @notice A jailed provider leaves jail: it waits out its cooldown (only if `wait`), stakes up to the minimum
    ///         when its bonded stake fell below it (plus up to MAX_STAKE more), and unjails.
    function unjail(uint256 providerSeed, uint256 amount, bool wait) external useCurrentTime {
        address p = _firstProvider(providerSeed, _isJailed);
        if (p == address(0)) return _skip(Action.Unjail);
        Stake memory s = market.stakeOf(p);
        uint256 jailedUntil = market.darkRecord(p, s.epoch - 1).jailedUntil;
        if (currentTime < jailedUntil) {
            if (!wait) return _skip(Action.Unjail);
            _warpTo(jailedUntil);
        }
        uint256 minimum = market.params().minProviderStake;
        uint256 bonded = uint256(s.free) + s.locked;
        if (bonded < minimum) _stake(p, minimum - bonded + _bound(amount, 0, MAX_STAKE));
        vm.prank(p);
        market.unjail();
        _done(Action.Unjail);
    }

    /// @notice Governance changes the dark slash ratio and the reporter's share; only later reports see it.
    function setDarkParams(uint256 slashBps, uint256 rewardBps) external useCurrentTime {
        MarketParams memory p = market.params();
        p.darkSlashBps = uint16(_bound(slashBps, 0, BPS));
        p.reporterRewardBps = uint16(_bound(rewardBps, 0, BPS));
        _govern(p, Action.SetDarkParams);
    }

    /*//////////////////////////////////////////////////////////////
                                DISPUTES
    //////////////////////////////////////////////////////////////*/

    /// @notice The publisher of a lease of a live provider (no dispute open on it), running or ended within the
    ///         dispute window, opens a dispute, paying the bond.
    /// @param ended Whether to look first for a lease that already ended (disputable within its dispute window).
    function openDispute(uint256 leaseSeed, bool ended) external useCurrentTime {
        uint256 leaseId = ended ? _firstLease(leaseSeed, _isDisputableEnded) : 0;
        if (leaseId == 0) leaseId = _firstLease(leaseSeed, _isDisputable);
        if (leaseId == 0) return _skip(Action.OpenDispute);
        address pub = market.getLease(leaseId).publisher;
        token.mint(pub, court.params().disputeBond);
        uint256 courtBefore = token.balanceOf(address(court));
        if (market.getLease(leaseId).status == LeaseStatus.Closed) ++ghost_lateDisputes;
        vm.prank(pub);
        uint256 disputeId = court.openDispute(leaseId, EVIDENCE);
        ghost_courtIn += token.balanceOf(address(court)) - courtBefore;
        ghost_openDispute[leaseId] = disputeId;
        _done(Action.OpenDispute);
    }

    /// @notice Anyone releases the collateral a closed lease still holds: once its dispute window is over (letting
    ///         time pass to then only if `wait`), or at once, as compensation to the publisher, when its provider was
    ///         reported dark since.
    function releaseCollateral(uint256 leaseSeed, uint256 callerSeed, bool wait) external useCurrentTime {
        uint256 leaseId = _firstLease(leaseSeed, _holdsCollateral);
        if (leaseId == 0) return _skip(Action.ReleaseCollateral);
        Lease memory lease = market.getLease(leaseId);
        bool dark = lease.epoch != market.stakeOf(lease.provider).epoch;
        uint256 releasableAt = uint256(lease.endedAt) + market.params().disputeWindow;
        if (!dark && currentTime < releasableAt) {
            if (!wait) return _skip(Action.ReleaseCollateral);
            _warpTo(releasableAt);
        }
        uint256 before = token.balanceOf(lease.publisher);
        vm.recordLogs();
        vm.prank(_anyone(callerSeed));
        market.releaseCollateral(leaseId);
        uint256 received = token.balanceOf(lease.publisher) - before;
        if (!dark) {
            if (received != 0) ++ghost_compensationMismatches;
            _recordRelease(leaseId, lease.provider, lease.collateral);
        } else {
            // Closed in its window, then its provider went dark: the publisher's share of the slash, now.
            uint256 expected =
                uint256(lease.collateral) * _darkGhosts[lease.provider][lease.epoch].compensationBps / BPS;
            if (received != expected) ++ghost_compensationMismatches;
            if (_loggedAmount(IPodnetMarket.CompensationPaid.selector, leaseId) != expected) {
                ++ghost_compensationMismatches;
            }
            _darkGhosts[lease.provider][lease.epoch].compensated += expected;
            ghost_compensation[leaseId] += expected;
            ghost_totalCompensation += expected;
            ghost_darkReceipts += received;
            ghost_tokensOut += received;
        }
        _done(Action.ReleaseCollateral);
    }

    /// @notice Governance changes the dispute window (0 .. 3 days here); it applies to every lease from then on.
    function setDisputeWindow(uint256 window) external useCurrentTime {
        MarketParams memory p = market.params();
        p.disputeWindow = uint40(_bound(window, 0, 3 days));
        _govern(p, Action.SetDisputeWindow);
    }

    /// @notice Governance sets the bid cap (1 .. PROVIDER_COUNT, so that orders fill up and evict here) and the
    ///         minimum bid collateral (0 .. 100% of the collateral of a bid at the order's maximum).
    function setBidRules(uint256 maxBids, uint256 floorBps) external useCurrentTime {
        MarketParams memory p = market.params();
        p.maxBidsPerOrder = uint8(_bound(maxBids, 1, PROVIDER_COUNT));
        p.minBidCollateralBps = uint16(_bound(floorBps, 0, BPS));
        _govern(p, Action.SetBidRules);
    }

    /// @notice The provider answers an open dispute within the answer window.
    function answerDispute(uint256 disputeSeed) external useCurrentTime {
        uint256 disputeId = _firstDispute(disputeSeed, _isAnswerable);
        if (disputeId == 0) return _skip(Action.AnswerDispute);
        vm.prank(market.getLease(court.getDispute(disputeId).leaseId).provider);
        court.answerDispute(disputeId, EVIDENCE);
        _done(Action.AnswerDispute);
    }

    /// @notice The arbiter slashes up to `amount` (sometimes more than the collateral) of a disputed lease.
    /// @param wait Whether to let the answer window pass when the provider has not answered.
    function slashDispute(uint256 disputeSeed, uint256 amount, bool wait) external useCurrentTime {
        uint256 disputeId = _rulableAfterWait(disputeSeed, wait);
        if (disputeId == 0) return _skip(Action.SlashDispute);
        uint256 collateral = market.getLease(court.getDispute(disputeId).leaseId).collateral;
        amount = _bound(amount, 1, collateral == 0 ? TOKEN : collateral * 2);
        _settle(disputeId, 1, amount);
        _done(Action.SlashDispute);
    }

    function dismissDispute(uint256 disputeSeed, bool wait) external useCurrentTime {
        uint256 disputeId = _rulableAfterWait(disputeSeed, wait);
        if (disputeId == 0) return _skip(Action.DismissDispute);
        _settle(disputeId, 2, 0);
        _done(Action.DismissDispute);
    }

    /// @param wait Whether to let the ruling window pass when it is still open.
    function lapseDispute(uint256 disputeSeed, bool wait) external useCurrentTime {
        uint256 disputeId = _firstDispute(disputeSeed, _isOpenDispute);
        if (disputeId == 0) return _skip(Action.LapseDispute);
        uint256 ruleBy = court.getDispute(disputeId).ruleBy;
        if (currentTime <= ruleBy) {
            if (!wait) return _skip(Action.LapseDispute);
            _warpTo(ruleBy + 1);
        }
        _settle(disputeId, 3, 0);
        _done(Action.LapseDispute);
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
        _govern(p, Action.SetFee);
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

    function darkGhost(address provider, uint256 epoch) external view returns (DarkGhost memory) {
        return _darkGhosts[provider][epoch];
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
            "setFee",
            "heartbeat",
            "reportDark",
            "unjail",
            "closeDarkLease",
            "openDispute",
            "answerDispute",
            "slashDispute",
            "dismissDispute",
            "lapseDispute",
            "setDarkParams",
            "releaseCollateral",
            "setDisputeWindow",
            "setBidRules"
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
                "  dark slashed: ",
                vm.toString(ghost_totalDarkSlashed),
                ", rewards: ",
                vm.toString(ghost_totalRewards),
                ", compensation: ",
                vm.toString(ghost_totalCompensation),
                ", swept: ",
                vm.toString(ghost_totalSwept),
                ", disputes: ",
                vm.toString(court.disputeCount()),
                ", reports through a dark gap: ",
                vm.toString(ghost_gapReports),
                ", collateral releases: ",
                vm.toString(ghost_releases),
                ", disputes on ended leases: ",
                vm.toString(ghost_lateDisputes),
                ", evictions: ",
                vm.toString(ghost_evictions),
                ", fall-throughs: ",
                vm.toString(ghost_fallThroughs)
            )
        );
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

    /// @dev Governance (the AccessManager's admin) sets `p`.
    function _govern(MarketParams memory p, Action action) internal {
        vm.prank(admin);
        market.setParams(p);
        _done(action);
    }

    function _done(Action action) internal {
        ++doneCalls[uint256(action)];
    }

    function _skip(Action action) internal {
        ++skippedCalls[uint256(action)];
    }

    /// @dev A provider about to take work (a lease, a bid, a match) heartbeats first if it has been silent for longer
    ///      than the threshold: a silent provider is reportable and takes no new work.
    function _ensureAlive(address prov) internal {
        if (currentTime <= uint256(market.stakeOf(prov).lastHeartbeat) + market.params().heartbeatThreshold) return;
        vm.prank(prov);
        market.heartbeat();
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

    /// @dev Closes a lease as `callerSeed` picks (0: publisher, 1: provider, 2: stranger, 3: reporter; the last two
    ///      only when anyone may close), recomputing here what the publisher must receive: the escrow not accrued
    ///      up to now (or up to darkAt for a dark lease) plus, for a dark lease, compensationBps of its collateral.
    function _closeLease(uint256 leaseId, uint256 callerSeed) internal {
        Lease memory lease = market.getLease(leaseId);
        bool dark = lease.epoch != market.stakeOf(lease.provider).epoch;
        (uint256 expectedRefund, uint256 expectedCompensation) = _expectClose(lease, dark);

        uint256 who = callerSeed % 4;
        address caller = who == 1 ? lease.provider : lease.publisher;
        // Anyone may close once the funds ran out (nothing to refund) or the provider went dark.
        if (dark || expectedRefund == 0) {
            if (who == 2) caller = stranger;
            else if (who == 3) caller = reporter;
        }

        uint256 before = token.balanceOf(lease.publisher);
        vm.recordLogs();
        vm.prank(caller);
        market.closeLease(leaseId);
        uint256 received = token.balanceOf(lease.publisher) - before;

        if (received != expectedRefund + expectedCompensation) ++ghost_closeMismatches;
        if (_loggedAmount(IPodnetMarket.CompensationPaid.selector, leaseId) != expectedCompensation) {
            ++ghost_compensationMismatches;
        }
        // The refund is what the publisher received beyond the compensation it is owed.
        ghost_refunded[leaseId] = received > expectedCompensation ? received - expectedCompensation : 0;
        ghost_endedAt[leaseId] = market.getLease(leaseId).endedAt;
        ghost_closed[leaseId] = true;
        ghost_tokensOut += received;
        if (dark) {
            ghost_darkClosed[leaseId] = true;
            _darkGhosts[lease.provider][lease.epoch].compensated += expectedCompensation;
            ghost_compensation[leaseId] += expectedCompensation;
            ghost_totalCompensation += expectedCompensation;
            ghost_darkReceipts += received;
            ghost_darkUnspentEscrow += expectedRefund;
        } else if (lease.collateral != 0 && market.getLease(leaseId).collateral == 0) {
            // Released at once: only when the lease ended at least a dispute window ago.
            _recordRelease(leaseId, lease.provider, lease.collateral);
        }
    }

    /// @dev A live provider's collateral left the dispute hold: it must not be before endedAt + disputeWindow.
    function _recordRelease(uint256 leaseId, address prov, uint256 collateral) internal {
        Lease memory lease = market.getLease(leaseId);
        if (currentTime < uint256(lease.endedAt) + market.params().disputeWindow) ++ghost_earlyReleases;
        ghost_locked[prov] -= collateral;
        ++ghost_releases;
    }

    /// @dev The refund (escrow not accrued up to now, or up to darkAt for a dark lease) and compensation
    ///      (compensationBps of the collateral, dark leases only) a close must pay the publisher, recomputed here.
    function _expectClose(Lease memory lease, bool dark) internal view returns (uint256 refund, uint256 compensation) {
        DarkGhost storage g = _darkGhosts[lease.provider][lease.epoch];
        uint256 at = dark ? g.darkAt : currentTime;
        uint256 earned;
        if (at > lease.settledAt) earned = _min(uint256(lease.pricePerSecond) * (at - lease.settledAt), lease.balance);
        refund = lease.balance - earned;
        if (dark) compensation = uint256(lease.collateral) * g.compensationBps / BPS;
    }

    /// @dev Releases a bid; a void bid (from before a dark report) frees nothing and its share of the dark pool,
    ///      compensationBps of its reservation, goes to the fees.
    function _releaseBid(uint256 orderId, address prov, Bid memory bid, uint256 callerSeed) internal {
        bool void = bid.epoch != market.stakeOf(prov).epoch;
        vm.recordLogs();
        vm.prank(_anyone(callerSeed));
        market.releaseBid(orderId, prov);
        if (!void) {
            ghost_locked[prov] -= bid.reserved;
            return;
        }
        _recordSweep(prov, bid);
    }

    /// @dev A void bid of `prov` left the order (released or evicted; logs recorded around the call): its share of
    ///      its dark epoch's pool, compensationBps of its reservation, must have gone to the fees.
    function _recordSweep(address prov, Bid memory bid) internal {
        DarkGhost storage g = _darkGhosts[prov][bid.epoch];
        uint256 expected = uint256(bid.reserved) * g.compensationBps / BPS;
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 swept;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(market) && logs[i].topics[0] == IPodnetMarket.DarkPoolSwept.selector) {
                (, swept) = abi.decode(logs[i].data, (uint24, uint256));
            }
        }
        if (swept != expected) ++ghost_sweepMismatches;
        g.swept += expected;
        ghost_totalSwept += expected;
        ghost_feesAccrued += expected;
    }

    /// @dev What the handler expects of one ruling, and balances before it.
    struct Ruling {
        uint256 leaseId;
        address provider;
        address publisher;
        address bondTo;
        uint256 bond;
        uint256 epoch;
        bool live;
        bool closed;
        uint256 expectedSlashed;
        uint256 expectedReleased;
        uint256 publisherBefore;
        uint256 bondToBefore;
        uint256 courtBefore;
    }

    /// @dev Ends a dispute: kind 1 slash (`amount`), 2 dismiss (arbiter), 3 lapse (the stranger). Recomputes what the
    ///      market's settleDispute must do: a live provider's collateral is slashed (capped at the collateral) and,
    ///      for a closed lease, the rest released; a closed lease of a dark epoch receives its compensation instead.
    function _settle(uint256 disputeId, uint256 kind, uint256 amount) internal {
        Ruling memory r = _expectRuling(disputeId, kind, amount);
        vm.recordLogs();
        vm.prank(kind == 3 ? stranger : arbiter);
        if (kind == 1) court.slash(disputeId, amount);
        else if (kind == 2) court.dismiss(disputeId);
        else court.lapse(disputeId);

        (uint256 slashed, uint256 released) = _loggedSettlement(r.leaseId);
        uint256 received = token.balanceOf(r.publisher) - r.publisherBefore;
        uint256 bondPart = r.bondTo == r.publisher ? r.bond : 0;
        uint256 fromMarket = received > bondPart ? received - bondPart : 0;
        uint256 courtOut = r.courtBefore - token.balanceOf(address(court));
        if (
            slashed != r.expectedSlashed || released != r.expectedReleased || fromMarket != r.expectedSlashed
                || received < bondPart || courtOut != r.bond || token.balanceOf(r.bondTo) - r.bondToBefore < r.bond
        ) ++ghost_disputeMismatches;
        ghost_courtOut += courtOut;
        ghost_tokensOut += fromMarket;
        ghost_openDispute[r.leaseId] = 0;
        if (r.live) {
            ghost_stakeSlashed[r.provider] += r.expectedSlashed;
            ghost_locked[r.provider] -= r.expectedSlashed + r.expectedReleased;
            ghost_disputeSlashed[r.leaseId] += r.expectedSlashed;
        } else if (r.closed) {
            // Closed under dispute, then its provider went dark: the ruling pays the lease's share of the pool.
            if (slashed != r.expectedSlashed) ++ghost_compensationMismatches;
            _darkGhosts[r.provider][r.epoch].compensated += r.expectedSlashed;
            ghost_compensation[r.leaseId] += r.expectedSlashed;
            ghost_totalCompensation += r.expectedSlashed;
            ghost_darkReceipts += fromMarket;
        }
    }

    function _expectRuling(uint256 disputeId, uint256 kind, uint256 amount) internal view returns (Ruling memory r) {
        Dispute memory d = court.getDispute(disputeId);
        Lease memory lease = market.getLease(d.leaseId);
        r.leaseId = d.leaseId;
        r.provider = lease.provider;
        r.publisher = lease.publisher;
        r.bondTo = kind == 2 ? lease.provider : lease.publisher;
        r.bond = d.bond;
        r.epoch = lease.epoch;
        r.live = lease.epoch == market.stakeOf(lease.provider).epoch;
        r.closed = lease.status == LeaseStatus.Closed;
        if (r.live) {
            r.expectedSlashed = _min(amount, lease.collateral);
            if (r.closed) r.expectedReleased = lease.collateral - r.expectedSlashed;
        } else if (r.closed) {
            r.expectedSlashed =
                uint256(lease.collateral) * _darkGhosts[lease.provider][lease.epoch].compensationBps / BPS;
        }
        r.publisherBefore = token.balanceOf(r.publisher);
        r.bondToBefore = token.balanceOf(r.bondTo);
        r.courtBefore = token.balanceOf(address(court));
    }

    /// @dev The amount of the recorded `selector` event of the market about `leaseId` (first topic), 0 if none.
    function _loggedAmount(bytes32 selector, uint256 leaseId) internal returns (uint256 amount) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (
                logs[i].emitter == address(market) && logs[i].topics[0] == selector
                    && uint256(logs[i].topics[1]) == leaseId
            ) amount = abi.decode(logs[i].data, (uint256));
        }
    }

    function _loggedSettlement(uint256 leaseId) internal returns (uint256 slashed, uint256 released) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (
                logs[i].emitter == address(market) && logs[i].topics[0] == IPodnetMarket.DisputeSettled.selector
                    && uint256(logs[i].topics[1]) == leaseId
            ) (slashed, released) = abi.decode(logs[i].data, (uint256, uint256));
        }
    }

    /// @dev The first dispute, starting at `seed`, for which `ok` holds; 0 if none.
    function _firstDispute(uint256 seed, function(Dispute memory) internal view returns (bool) ok)
        internal
        view
        returns (uint256)
    {
        uint256 count = court.disputeCount();
        for (uint256 i; i < count; ++i) {
            uint256 disputeId = (seed % count + i) % count + 1;
            if (ok(court.getDispute(disputeId))) return disputeId;
        }
        return 0;
    }

    /// @dev An open dispute the arbiter may rule on now; failing that, if `wait`, one whose answer window is still
    ///      open, after warping past it (the ruling window follows it, so the ruling is then allowed).
    function _rulableAfterWait(uint256 seed, bool wait) internal returns (uint256 disputeId) {
        disputeId = _firstDispute(seed, _isRulable);
        if (disputeId != 0 || !wait) return disputeId;
        disputeId = _firstDispute(seed, _isRulableLater);
        if (disputeId != 0) _warpTo(uint256(court.getDispute(disputeId).answerBy) + 1);
    }

    function _isOpenDispute(Dispute memory d) internal pure returns (bool) {
        return d.status == DisputeStatus.Open;
    }

    function _isAnswerable(Dispute memory d) internal view returns (bool) {
        return d.status == DisputeStatus.Open && !d.answered && currentTime <= d.answerBy;
    }

    function _isRulable(Dispute memory d) internal view returns (bool) {
        return d.status == DisputeStatus.Open && currentTime <= d.ruleBy && (d.answered || currentTime > d.answerBy);
    }

    function _isRulableLater(Dispute memory d) internal view returns (bool) {
        return d.status == DisputeStatus.Open && currentTime <= d.answerBy;
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
    function _firstOrder(uint256 seed, function(uint256, Order memory) internal view returns (bool) ok)
        internal
        view
        returns (uint256 orderId, Order memory order)
    {
        uint256 count = market.orderCount();
        for (uint256 i; i < count; ++i) {
            orderId = (seed % count + i) % count + 1;
            order = market.getOrder(orderId);
            if (ok(orderId, order)) return (orderId, order);
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
            BidStatus status = market.getBid(orderId, prov).status;
            if ((status != BidStatus.None && status != BidStatus.Evicted) || !registry.isActive(prov)) continue;
            Stake memory s = market.stakeOf(prov);
            // Free stake for the smallest reservation the order allows (the floor, or a 1 wei/s bid).
            uint256 smallest = _max(1, _bidFloor(order.maxPricePerSecond)) * p.collateralSeconds;
            if (s.jailed || uint256(s.free) + s.locked < minStake || s.free < smallest) continue;
            (bool ok,) = registry.hasAttributes(prov, required);
            if (ok) return prov;
        }
        return address(0);
    }

    /// @dev Staked and not jailed: what a heartbeat needs.
    function _hasStaked(address prov) internal view returns (bool) {
        Stake memory s = market.stakeOf(prov);
        return s.lastHeartbeat != 0 && !s.jailed;
    }

    function _isReportable(address prov) internal view returns (bool) {
        Stake memory s = market.stakeOf(prov);
        return s.lastHeartbeat != 0 && !s.jailed;
    }

    function _isJailed(address prov) internal view returns (bool) {
        return market.stakeOf(prov).jailed;
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
        return !s.jailed && uint256(s.free) + s.locked >= p.minProviderStake && s.free >= p.collateralSeconds;
    }

    function _isActive(uint256 leaseId) internal view returns (bool) {
        return market.getLease(leaseId).status == LeaseStatus.Active;
    }

    /// @dev Active, and its provider was reported dark since it started.
    function _isDark(uint256 leaseId) internal view returns (bool) {
        Lease memory lease = market.getLease(leaseId);
        return lease.status == LeaseStatus.Active && lease.epoch != market.stakeOf(lease.provider).epoch;
    }

    /// @dev Its provider live (not reported dark since it started), no dispute open, and either active or ended
    ///      less than the dispute window ago with its collateral still held: what a dispute needs.
    function _isDisputable(uint256 leaseId) internal view returns (bool) {
        Lease memory lease = market.getLease(leaseId);
        if (lease.disputed || lease.epoch != market.stakeOf(lease.provider).epoch) return false;
        if (lease.status == LeaseStatus.Active) return true;
        return lease.status == LeaseStatus.Closed && lease.collateral != 0
            && currentTime < uint256(lease.endedAt) + market.params().disputeWindow;
    }

    function _isDisputableEnded(uint256 leaseId) internal view returns (bool) {
        return market.getLease(leaseId).status == LeaseStatus.Closed && _isDisputable(leaseId);
    }

    /// @dev Closed and still holding collateral, no dispute open: releasable once the window is over (at once when
    ///      its provider went dark since).
    function _holdsCollateral(uint256 leaseId) internal view returns (bool) {
        Lease memory lease = market.getLease(leaseId);
        return lease.status == LeaseStatus.Closed && lease.collateral != 0 && !lease.disputed;
    }

    /// @dev Active, provider live and not out of funds: what topUp and updateLeaseSpec need.
    function _isRunning(uint256 leaseId) internal view returns (bool) {
        Lease memory lease = market.getLease(leaseId);
        if (lease.status != LeaseStatus.Active || lease.epoch != market.stakeOf(lease.provider).epoch) return false;
        (, bool outOfFunds) = market.withdrawable(leaseId);
        return !outOfFunds;
    }

    function _isOpen(uint256, Order memory order) internal pure returns (bool) {
        return order.status == OrderStatus.Open;
    }

    /// @dev Open, not expired and with a bid that is not void (its provider not reported dark since it bid).
    function _isMatchable(uint256 orderId, Order memory order) internal view returns (bool) {
        return order.status == OrderStatus.Open
            && currentTime < uint256(order.bidDeadline) + market.params().acceptWindow
            && _validBidder(orderId, 0) != address(0);
    }

    /// @dev Open, not expired, auto-accept, bidding closed, and the best bid is not void.
    /// @dev Open, not expired, auto-accept, bidding closed, with a bid (valid or not: finalize falls through).
    function _isFinalizable(uint256, Order memory order) internal view returns (bool) {
        return order.status == OrderStatus.Open && order.autoAccept && currentTime >= order.bidDeadline
            && currentTime < uint256(order.bidDeadline) + market.params().acceptWindow && order.bestBidder != address(0);
    }

    /// @dev The first provider, starting at `seed`, with an active bid on the order from its current epoch.
    function _validBidder(uint256 orderId, uint256 seed) internal view returns (address) {
        for (uint256 j; j < PROVIDER_COUNT; ++j) {
            address prov = providers[(seed % PROVIDER_COUNT + j) % PROVIDER_COUNT];
            Bid memory bid = market.getBid(orderId, prov);
            if (bid.status == BidStatus.Active && bid.epoch == market.stakeOf(prov).epoch) return prov;
        }
        return address(0);
    }

    /// @dev Publisher `publisherSeed % PUBLISHER_COUNT` uses the quote: with a permit when bit 8 of the seed is set.
    function _sendLease(uint256 publisherSeed, Quote memory quote, bytes memory signature, uint256 deposit)
        internal
        returns (uint256 leaseId)
    {
        uint256 i = publisherSeed % PUBLISHER_COUNT;
        if ((publisherSeed >> 8) & 1 == 0) {
            vm.prank(publishers[i]);
            return market.createLease(quote, signature, uint96(deposit));
        }
        PermitSignature memory permit = _permit(i, deposit);
        vm.prank(publishers[i]);
        leaseId = market.createLeaseWithPermit(quote, signature, uint96(deposit), permit);
        _approve(publishers[i]); // the permit replaced the standing approval, and the lease spent it
        ++ghost_permits;
    }

    /// @dev Publisher `i`'s EIP-2612 permit of `value` for the market, valid for a minute.
    function _permit(uint256 i, uint256 value) internal view returns (PermitSignature memory p) {
        p.deadline = currentTime + 1 minutes;
        (p.v, p.r, p.s) =
            vm.sign(publisherKeys[i], Permits.digest(token, publishers[i], address(market), value, p.deadline));
    }

    function _noBidders() internal pure returns (address[] memory) {
        return new address[](0);
    }

    /// @dev The least price a bid's reservation is computed at: minBidCollateralBps of the order's maximum.
    function _bidFloor(uint256 maxPrice) internal view returns (uint256) {
        return maxPrice * market.params().minBidCollateralBps / BPS;
    }

    /// @dev What a bid at `price` on an order at `maxPrice` reserves, recomputed here.
    function _reservationFor(uint256 price, uint256 maxPrice) internal view returns (uint256) {
        return _max(price, _bidFloor(maxPrice)) * market.params().collateralSeconds;
    }

    /// @dev The providers with an active bid on the order, in ascending address order.
    function _standingList(uint256 orderId) internal view returns (address[] memory list) {
        list = new address[](PROVIDER_COUNT);
        uint256 n;
        for (uint256 i; i < PROVIDER_COUNT; ++i) {
            if (market.getBid(orderId, providers[i]).status == BidStatus.Active) list[n++] = providers[i];
        }
        assembly ("memory-safe") {
            mstore(list, n)
        }
        SortedAddresses.sort(list);
    }

    /// @dev Whether `a`'s bid is worse than `b`'s (evicted first): void, higher price, later, higher address.
    function _worseBid(uint256 orderId, address a, address b) internal view returns (bool) {
        Bid memory x = market.getBid(orderId, a);
        Bid memory y = market.getBid(orderId, b);
        bool xVoid = x.epoch != market.stakeOf(a).epoch;
        bool yVoid = y.epoch != market.stakeOf(b).epoch;
        if (xVoid != yVoid) return xVoid;
        if (x.pricePerSecond != y.pricePerSecond) return x.pricePerSecond > y.pricePerSecond;
        if (x.placedAt != y.placedAt) return x.placedAt > y.placedAt;
        return a > b;
    }

    /// @dev Whether `a`'s bid is better than `b`'s (wins first): lower price, earlier, lower address.
    function _betterBid(uint256 orderId, address a, address b) internal view returns (bool) {
        Bid memory x = market.getBid(orderId, a);
        Bid memory y = market.getBid(orderId, b);
        if (x.pricePerSecond != y.pricePerSecond) return x.pricePerSecond < y.pricePerSecond;
        if (x.placedAt != y.placedAt) return x.placedAt < y.placedAt;
        return a < b;
    }

    /// @dev Whether `prov`'s bid can become a lease now: active, of its current epoch, its provider alive.
    function _canBack(uint256 orderId, address prov) internal view returns (bool) {
        Bid memory bid = market.getBid(orderId, prov);
        Stake memory s = market.stakeOf(prov);
        return bid.status == BidStatus.Active && bid.epoch == s.epoch
            && currentTime <= uint256(s.lastHeartbeat) + market.params().heartbeatThreshold;
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    function _max(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a : b;
    }
}
