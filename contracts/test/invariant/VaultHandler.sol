// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AppVault} from "../../src/AppVault.sol";
import {AppVaultFactory} from "../../src/AppVaultFactory.sol";
import {AutoscalerNetwork} from "../../src/AutoscalerNetwork.sol";
import {PodnetMarket} from "../../src/PodnetMarket.sol";
import {PodnetTestToken} from "../../src/dev/PodnetTestToken.sol";
import {IAppVault} from "../../src/interfaces/IAppVault.sol";
import {IPodnetMarket} from "../../src/interfaces/IPodnetMarket.sol";
import {
    Bid,
    BidStatus,
    Lease,
    LeaseStatus,
    MarketParams,
    Order,
    OrderStatus,
    Quote,
    Requirements,
    Resources,
    Stake
} from "../../src/types/MarketTypes.sol";
import {NetworkTerms, NodeProfile} from "../../src/types/NetworkTypes.sol";
import {AppLimits} from "../../src/types/VaultTypes.sol";
import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Vm} from "forge-std/Vm.sol";
import {console} from "forge-std/console.sol";

/// @notice Drives two apps (AppVaults, one controller shared between them) and three providers through random,
///         always-valid sequences: funding and withdrawals, leases placed and replaced in slots, top-ups, slot
///         clears, orders and bids, spec and limit changes, provider withdrawals, heartbeats, dark reports and jail,
///         closes by anyone and collateral releases, with time passing in between. App 1 is in network mode: two
///         autoscaler nodes act as its controllers too and are paid per replacement within a daily cap; probes check
///         that a node that went dark, or a node on app 0 (not in network mode), is refused.
/// @dev Each action checks beforehand that it can succeed and returns early (counting a skip) when it cannot: the
///      campaign runs with fail_on_revert. The money ghosts come from the events the vaults and the market emit (what
///      each claims it moved), read back after every action; the invariants then compare them with the token balances
///      and the market's own storage, which they did not come from. A compare-and-swap probe tries a stale slot
///      expectation after every successful slot change and counts it if it does not revert.
contract VaultHandler is CommonBase, StdCheats, StdUtils {
    uint256 public constant PROVIDER_COUNT = 3;
    uint256 public constant APP_COUNT = 2;
    uint256 internal constant TOKEN = 1e18;
    uint256 internal constant QUOTE_LIFETIME = 10 minutes;
    uint256 internal constant INITIAL_STAKE = 1000 * TOKEN;
    bytes32 internal constant SPEC_A = keccak256("app pod.yaml A");
    bytes32 internal constant SPEC_B = keccak256("app pod.yaml B");

    enum Action {
        Fund,
        Withdraw,
        ReplaceSlot,
        ClearSlot,
        TopUp,
        UpdateLeaseSpec,
        CreateOrder,
        PlaceBid,
        AcceptBid,
        CancelOrder,
        SetLimits,
        SetSpec,
        ProviderWithdraw,
        Heartbeat,
        ReportDark,
        Unjail,
        CloseByStranger,
        ReleaseCollateral,
        Warp,
        NodeProbe
    }

    uint256 internal constant ACTION_COUNT = 20;
    uint256 public constant NODE_COUNT = 2;
    /// @notice App 1's network terms: a fee per replacement and a cap a busy day reaches.
    uint96 public constant NODE_FEE = 1e15;
    uint96 public constant NODE_DAY_CAP = 25e14;

    PodnetMarket public immutable market;
    PodnetTestToken public immutable token;
    AppVaultFactory public immutable factory;
    AutoscalerNetwork public immutable network;
    address[NODE_COUNT] public nodes;

    AppVault[APP_COUNT] public apps;
    address[APP_COUNT] public owners;
    /// @dev app 0: controllers 0 and 1; app 1: controllers 1 and 2 (controller 1 controls both).
    address[3] public controllers;
    address[PROVIDER_COUNT] public providers;
    uint256[PROVIDER_COUNT] internal providerKeys;
    address public funder;
    address public stranger;
    address public reporter;

    uint256 public currentTime;
    mapping(address provider => uint256) internal _nextNonce;
    mapping(address provider => uint256[]) internal _providerLeases;
    /// @dev Orders of each app, in creation order.
    mapping(uint256 app => uint256[]) internal _orders;
    /// @dev Every lease a vault published, in creation order.
    uint256[] internal _vaultLeases;

    /*//////////////////////////////////////////////////////////////
                      GHOSTS, FROM THE EVENTS, PER APP
    //////////////////////////////////////////////////////////////*/

    mapping(uint256 app => uint256) public ghost_funded;
    mapping(uint256 app => uint256) public ghost_withdrawn;
    /// @notice Deposits of direct leases and top-ups the vault paid (LeaseCreated from a quote, LeaseToppedUp).
    mapping(uint256 app => uint256) public ghost_paidIntoLeases;
    mapping(uint256 app => uint256) public ghost_paidIntoOrders;
    mapping(uint256 app => uint256) public ghost_orderRefunds;
    mapping(uint256 app => uint256) public ghost_leaseRefunds;
    mapping(uint256 app => uint256) public ghost_compensation;
    /// @notice What providers withdrew from the app's leases (LeaseSettled).
    mapping(uint256 leaseId => uint256) public ghost_settled;
    /// @notice Which app published a lease (index + 1; 0: not a vault's).
    mapping(uint256 leaseId => uint256) public ghost_appOfLease;

    /// @notice Leases started above the limits or for another spec than the app's, top-ups past the escrow cap, and
    ///         stale compare-and-swaps that went through.
    uint256 public ghost_limitViolations;
    uint256 public ghost_specViolations;
    uint256 public ghost_escrowViolations;
    uint256 public ghost_casViolations;
    uint256 public ghost_casProbes;

    /// @notice Fees the vaults said they paid to nodes (NodeFeePaid), per app and per app and day.
    mapping(uint256 app => uint256) public ghost_nodeFees;
    mapping(uint256 app => mapping(uint256 day => uint256)) public ghost_nodeFeesOnDay;
    /// @notice A day's fees past the cap, a fee to someone who is not a node, and node calls that should have been
    ///         refused (a dark node, or a node on an app not in network mode) but went through.
    uint256 public ghost_feeCapViolations;
    uint256 public ghost_feePayeeViolations;
    uint256 public ghost_nodeRightViolations;
    uint256 public ghost_nodeProbes;

    uint256[ACTION_COUNT] public doneCalls;
    uint256[ACTION_COUNT] public skippedCalls;

    constructor(PodnetMarket market_, PodnetTestToken token_, AppVaultFactory factory_) {
        market = market_;
        token = token_;
        factory = factory_;
        network = AutoscalerNetwork(address(factory_.network()));
        currentTime = block.timestamp;
        funder = makeAddr("vinv.funder");
        stranger = makeAddr("vinv.stranger");
        reporter = makeAddr("vinv.reporter");
        for (uint256 i; i < controllers.length; ++i) {
            controllers[i] = makeAddr(string.concat("vinv.controller", vm.toString(i)));
        }
        for (uint256 i; i < PROVIDER_COUNT; ++i) {
            (providers[i], providerKeys[i]) = makeAddrAndKey(string.concat("vinv.provider", vm.toString(i)));
        }
        for (uint256 a; a < APP_COUNT; ++a) {
            owners[a] = makeAddr(string.concat("vinv.owner", vm.toString(a)));
            address[] memory list = new address[](2);
            (list[0], list[1]) = (controllers[a], controllers[a + 1]);
            vm.prank(owners[a]);
            apps[a] = AppVault(factory.createApp(bytes32(a), SPEC_A, bytes32(0), _limitsFor(a, 0), list));
        }
        for (uint256 i; i < NODE_COUNT; ++i) {
            nodes[i] = makeAddr(string.concat("vinv.node", vm.toString(i)));
            uint96 stake = network.params().minStake;
            token.mint(nodes[i], stake);
            vm.startPrank(nodes[i]);
            token.approve(address(network), stake);
            network.register(
                NodeProfile({endpoint: "https://node.example", encryptionKey: bytes32(i + 1), dnsIpv4: 0, dnsIpv6: 0}),
                stake
            );
            vm.stopPrank();
        }
        vm.prank(owners[1]);
        apps[1].setNetworkTerms(NetworkTerms({enabled: true, feePerReplacement: NODE_FEE, maxFeesPerDay: NODE_DAY_CAP}));
        vm.recordLogs();
        for (uint256 a; a < APP_COUNT; ++a) {
            _fund(a, 50 * TOKEN);
        }
        _absorbLogs();
    }

    /// @dev The nodes heartbeat at every step, as running nodes do, so the one picked as a controller is live.
    modifier step() {
        vm.warp(currentTime);
        for (uint256 i; i < NODE_COUNT; ++i) {
            vm.prank(nodes[i]);
            network.heartbeat();
        }
        vm.recordLogs();
        _;
        _absorbLogs();
    }

    /// @dev Start limits of app `a`, and those `setLimits` picks with `seed`: prices around 1e12 per second, deposits of
    ///      a few hours to two days, one to three instances.
    function _limitsFor(uint256 a, uint256 seed) internal pure returns (AppLimits memory) {
        uint96 maxPrice = uint96(1e12 >> (a + seed % 2));
        return AppLimits({
            maxPricePerSecond: maxPrice,
            maxDepositPerLease: uint96(uint256(maxPrice) * (2 hours + (seed % 47) * 1 hours)),
            maxInstances: uint16(3 - (seed / 7) % 3)
        });
    }

    /*//////////////////////////////////////////////////////////////
                                FUNDING
    //////////////////////////////////////////////////////////////*/

    function fund(uint256 appSeed, uint256 amount) external step {
        _fund(appSeed % APP_COUNT, _bound(amount, 1, 20 * TOKEN));
        _done(Action.Fund);
    }

    function _fund(uint256 a, uint256 amount) internal {
        token.mint(funder, amount);
        vm.startPrank(funder);
        token.approve(address(apps[a]), amount);
        apps[a].fund(amount);
        vm.stopPrank();
    }

    function withdraw(uint256 appSeed, uint256 amount) external step {
        AppVault app = apps[appSeed % APP_COUNT];
        uint256 held = app.balance();
        if (held == 0) return _skip(Action.Withdraw);
        vm.prank(app.owner());
        app.withdraw(funder, _bound(amount, 1, held));
        _done(Action.Withdraw);
    }

    /*//////////////////////////////////////////////////////////////
                                 SLOTS
    //////////////////////////////////////////////////////////////*/

    function replaceSlot(
        uint256 appSeed,
        uint256 controllerSeed,
        uint256 slotSeed,
        uint256 providerSeed,
        uint256 price,
        uint256 deposit
    ) external step {
        uint256 a = appSeed % APP_COUNT;
        (bool ok, uint256 slot, address prov, uint96 leasePrice, uint96 leaseDeposit) =
            _planLease(apps[a], slotSeed, providerSeed, price, deposit);
        if (!ok) return _skip(Action.ReplaceSlot);
        _replace(a, _controllerOf(a, controllerSeed), slot, prov, leasePrice, leaseDeposit);
        _probeStaleSlot(a, slot, _lastExpected, controllerSeed, false);
        _done(Action.ReplaceSlot);
    }

    /// @dev The slot's content before the last `_replace`.
    uint256 internal _lastExpected;

    function _replace(uint256 a, address by, uint256 slot, address prov, uint96 price, uint96 deposit) internal {
        AppVault app = apps[a];
        uint256 expected = app.leaseOf(slot);
        _lastExpected = expected;
        Quote memory quote = _quote(app, prov, price);
        bytes memory signature = _signQuote(prov, quote);
        vm.prank(by);
        uint256 leaseId = app.replaceSlot(slot, expected, quote, signature, deposit);
        _providerLeases[prov].push(leaseId);
    }

    /// @dev A slot, a live provider with the free stake, a price and a deposit within the app's limits and balance.
    function _planLease(AppVault app, uint256 slotSeed, uint256 providerSeed, uint256 price, uint256 deposit)
        internal
        returns (bool ok, uint256 slot, address prov, uint96 leasePrice, uint96 leaseDeposit)
    {
        AppLimits memory limits = app.limits();
        if (limits.maxInstances == 0) return (false, 0, address(0), 0, 0);
        slot = slotSeed % limits.maxInstances;
        MarketParams memory p = market.params();
        price = _bound(price, 1, limits.maxPricePerSecond);
        if (price * p.minLeaseDuration > limits.maxDepositPerLease) return (false, 0, address(0), 0, 0);
        deposit = _bound(deposit, price * p.minLeaseDuration, limits.maxDepositPerLease);
        // Paid before the old lease's refund arrives: a conservative check, enough for a valid action.
        if (app.balance() < deposit) return (false, 0, address(0), 0, 0);
        prov = _liveProvider(providerSeed);
        if (prov == address(0) || market.stakeOf(prov).free < price * p.collateralSeconds) {
            return (false, 0, address(0), 0, 0);
        }
        return (true, slot, prov, uint96(price), uint96(deposit));
    }

    function clearSlot(uint256 appSeed, uint256 controllerSeed, uint256 slotSeed) external step {
        uint256 a = appSeed % APP_COUNT;
        uint256 slot = slotSeed % 3;
        uint256 leaseId = apps[a].leaseOf(slot);
        if (leaseId == 0) return _skip(Action.ClearSlot);
        vm.prank(_controllerOf(a, controllerSeed));
        apps[a].clearSlot(slot, leaseId);
        _probeStaleSlot(a, slot, leaseId, controllerSeed, true);
        _done(Action.ClearSlot);
    }

    function topUp(uint256 appSeed, uint256 controllerSeed, uint256 slotSeed, uint256 amount) external step {
        uint256 a = appSeed % APP_COUNT;
        AppVault app = apps[a];
        uint256 slot = slotSeed % 3;
        uint256 leaseId = app.leaseOf(slot);
        if (leaseId == 0 || !_isRunning(leaseId)) return _skip(Action.TopUp);
        uint256 unspent = _unspent(leaseId);
        uint256 cap = app.limits().maxDepositPerLease;
        if (unspent >= cap) return _skip(Action.TopUp);
        amount = _bound(amount, 1, cap - unspent);
        if (app.balance() < amount) return _skip(Action.TopUp);
        vm.prank(_controllerOf(a, controllerSeed));
        app.topUp(slot, leaseId, uint96(amount));
        _done(Action.TopUp);
    }

    function updateLeaseSpec(uint256 appSeed, uint256 controllerSeed, uint256 slotSeed) external step {
        uint256 a = appSeed % APP_COUNT;
        uint256 slot = slotSeed % 3;
        uint256 leaseId = apps[a].leaseOf(slot);
        if (leaseId == 0 || !_isRunning(leaseId)) return _skip(Action.UpdateLeaseSpec);
        vm.prank(_controllerOf(a, controllerSeed));
        apps[a].updateLeaseSpec(slot, leaseId);
        _done(Action.UpdateLeaseSpec);
    }

    /*//////////////////////////////////////////////////////////////
                             REVERSE MARKET
    //////////////////////////////////////////////////////////////*/

    function createOrder(uint256 appSeed, uint256 controllerSeed, uint256 maxPrice, uint256 deposit, uint256 window)
        external
        step
    {
        uint256 a = appSeed % APP_COUNT;
        AppVault app = apps[a];
        AppLimits memory limits = app.limits();
        // As an autoscaler would: make room by cancelling an order that can no longer be matched.
        if (app.openOrders() >= limits.maxInstances) _cancelExpiredOrder(a, controllerSeed);
        if (app.openOrders() >= limits.maxInstances) return _skip(Action.CreateOrder);
        uint256 minLease = market.params().minLeaseDuration;
        maxPrice = _bound(maxPrice, 1, limits.maxPricePerSecond);
        if (maxPrice * minLease > limits.maxDepositPerLease) return _skip(Action.CreateOrder);
        deposit = _bound(deposit, maxPrice * minLease, limits.maxDepositPerLease);
        if (app.balance() < deposit) return _skip(Action.CreateOrder);
        uint256 bidDeadline = currentTime + _bound(window, 1 hours, market.params().maxBidWindow);
        vm.prank(_controllerOf(a, controllerSeed));
        uint256 orderId = app.createOrder(
            Resources({cpuMillis: 500, memoryMiB: 512, storageMiB: 1024}),
            uint96(maxPrice),
            uint96(deposit),
            uint40(bidDeadline),
            Requirements({minStake: 0, attributes: new bytes32[](0)})
        );
        _orders[a].push(orderId);
        _done(Action.CreateOrder);
    }

    function placeBid(uint256 appSeed, uint256 orderSeed, uint256 providerSeed, uint256 price) external step {
        uint256 orderId = _biddableOrder(appSeed % APP_COUNT, orderSeed);
        if (orderId == 0) return _skip(Action.PlaceBid);
        Order memory order = market.getOrder(orderId);
        address prov;
        for (uint256 i; i < PROVIDER_COUNT && prov == address(0); ++i) {
            address candidate = providers[(providerSeed % PROVIDER_COUNT + i) % PROVIDER_COUNT];
            BidStatus status = market.getBid(orderId, candidate).status;
            Stake memory st = market.stakeOf(candidate);
            bool canBid = !st.jailed && uint256(st.free) + st.locked >= market.params().minProviderStake;
            if (canBid && (status == BidStatus.None || status == BidStatus.Evicted)) prov = candidate;
        }
        if (prov == address(0)) return _skip(Action.PlaceBid);
        _ensureAlive(prov);
        MarketParams memory p = market.params();
        price = _bound(price, 1, order.maxPricePerSecond);
        uint256 floor = uint256(order.maxPricePerSecond) * p.minBidCollateralBps / 10_000;
        uint256 reserved = (price > floor ? price : floor) * p.collateralSeconds;
        if (market.stakeOf(prov).free < reserved) return _skip(Action.PlaceBid);
        vm.prank(prov);
        market.placeBid(orderId, uint96(price), new address[](0));
        _done(Action.PlaceBid);
    }

    function acceptBid(
        uint256 appSeed,
        uint256 controllerSeed,
        uint256 orderSeed,
        uint256 providerSeed,
        uint256 slotSeed
    ) external step {
        uint256 a = appSeed % APP_COUNT;
        (uint256 orderId, address prov) = _acceptableBid(a, orderSeed, providerSeed);
        if (orderId == 0) return _skip(Action.AcceptBid);
        _ensureAlive(prov);
        uint256 slot = slotSeed % apps[a].limits().maxInstances;
        uint256 expected = apps[a].leaseOf(slot);
        vm.prank(_controllerOf(a, controllerSeed));
        uint256 leaseId = apps[a].acceptBid(orderId, prov, slot, expected);
        _providerLeases[prov].push(leaseId);
        _probeStaleSlot(a, slot, expected, controllerSeed, false);
        _done(Action.AcceptBid);
    }

    /// @dev The first of app `a`'s orders, from `seed` on, still open for bids; 0 if none.
    function _biddableOrder(uint256 a, uint256 seed) internal view returns (uint256) {
        uint256[] storage orders = _orders[a];
        for (uint256 i; i < orders.length; ++i) {
            uint256 orderId = orders[(seed % orders.length + i) % orders.length];
            Order memory order = market.getOrder(orderId);
            if (order.status == OrderStatus.Open && currentTime < order.bidDeadline) return orderId;
        }
        return 0;
    }

    function _cancelExpiredOrder(uint256 a, uint256 controllerSeed) internal {
        uint256[] storage orders = _orders[a];
        for (uint256 i; i < orders.length; ++i) {
            Order memory order = market.getOrder(orders[i]);
            if (order.status == OrderStatus.Open && currentTime >= uint256(order.bidDeadline) + order.acceptWindow) {
                vm.prank(_controllerOf(a, controllerSeed));
                apps[a].cancelOrder(orders[i]);
                return;
            }
        }
    }

    /// @dev The first of app `a`'s orders, from `seed` on, still open (expired or not); 0 if none.
    function _openOrder(uint256 a, uint256 seed) internal view returns (uint256) {
        uint256[] storage orders = _orders[a];
        for (uint256 i; i < orders.length; ++i) {
            uint256 orderId = orders[(seed % orders.length + i) % orders.length];
            if (market.getOrder(orderId).status == OrderStatus.Open) return orderId;
        }
        return 0;
    }

    /// @dev The first (order, provider) of app `a`, from the seeds on, that the vault can match now; (0, 0) if none.
    function _acceptableBid(uint256 a, uint256 orderSeed, uint256 providerSeed)
        internal
        view
        returns (uint256, address)
    {
        uint256[] storage orders = _orders[a];
        for (uint256 i; i < orders.length; ++i) {
            uint256 orderId = orders[(orderSeed % orders.length + i) % orders.length];
            for (uint256 j; j < PROVIDER_COUNT; ++j) {
                address prov = providers[(providerSeed % PROVIDER_COUNT + j) % PROVIDER_COUNT];
                if (_canAccept(apps[a], orderId, prov)) return (orderId, prov);
            }
        }
        return (0, address(0));
    }

    /// @dev The app's order is open and not expired, still for its spec and within its limits, and `prov`'s bid on it
    ///      can back a lease (its epoch, alive).
    function _canAccept(AppVault app, uint256 orderId, address prov) internal view returns (bool) {
        Order memory order = market.getOrder(orderId);
        AppLimits memory limits = app.limits();
        if (
            order.status != OrderStatus.Open || currentTime >= uint256(order.bidDeadline) + order.acceptWindow
                || limits.maxInstances == 0 || order.specHash != app.specHash()
                || order.deposit > limits.maxDepositPerLease
        ) return false;
        Bid memory bid = market.getBid(orderId, prov);
        Stake memory s = market.stakeOf(prov);
        // A silent bidder heartbeats first (_ensureAlive); a jailed one's bid is of an earlier epoch anyway.
        return bid.status == BidStatus.Active && bid.epoch == s.epoch && !s.jailed
            && bid.pricePerSecond <= limits.maxPricePerSecond;
    }

    function cancelOrder(uint256 appSeed, uint256 controllerSeed, uint256 orderSeed) external step {
        uint256 a = appSeed % APP_COUNT;
        uint256 orderId = _openOrder(a, orderSeed);
        if (orderId == 0) return _skip(Action.CancelOrder);
        vm.prank(_controllerOf(a, controllerSeed));
        apps[a].cancelOrder(orderId);
        _done(Action.CancelOrder);
    }

    /*//////////////////////////////////////////////////////////////
                                 OWNER
    //////////////////////////////////////////////////////////////*/

    function setLimits(uint256 appSeed, uint256 seed) external step {
        uint256 a = appSeed % APP_COUNT;
        vm.prank(owners[a]);
        apps[a].setLimits(_limitsFor(a, seed));
        _done(Action.SetLimits);
    }

    function setSpec(uint256 appSeed) external step {
        AppVault app = apps[appSeed % APP_COUNT];
        bytes32 next = app.specHash() == SPEC_A ? SPEC_B : SPEC_A;
        vm.prank(app.owner());
        app.setSpec(next);
        _done(Action.SetSpec);
    }

    /*//////////////////////////////////////////////////////////////
                         PROVIDERS AND ANYONE
    //////////////////////////////////////////////////////////////*/

    function providerWithdraw(uint256 providerSeed) external step {
        address prov = providers[providerSeed % PROVIDER_COUNT];
        if (_providerLeases[prov].length == 0) return _skip(Action.ProviderWithdraw);
        vm.prank(prov);
        market.withdraw(_providerLeases[prov]);
        _done(Action.ProviderWithdraw);
    }

    function heartbeat(uint256 providerSeed) external step {
        address prov = providers[providerSeed % PROVIDER_COUNT];
        if (market.stakeOf(prov).jailed) return _skip(Action.Heartbeat);
        vm.prank(prov);
        market.heartbeat();
        _done(Action.Heartbeat);
    }

    function reportDark(uint256 providerSeed) external step {
        address prov;
        for (uint256 i; i < PROVIDER_COUNT && prov == address(0); ++i) {
            address candidate = providers[(providerSeed % PROVIDER_COUNT + i) % PROVIDER_COUNT];
            Stake memory s = market.stakeOf(candidate);
            if (!s.jailed && currentTime > uint256(s.lastHeartbeat) + market.params().heartbeatThreshold) {
                prov = candidate;
            }
        }
        if (prov == address(0)) return _skip(Action.ReportDark);
        vm.prank(reporter);
        market.reportDark(prov);
        _done(Action.ReportDark);
    }

    function unjail(uint256 providerSeed) external step {
        address prov = providers[providerSeed % PROVIDER_COUNT];
        Stake memory s = market.stakeOf(prov);
        if (
            !s.jailed || currentTime < market.darkRecord(prov, s.epoch - 1).jailedUntil
                || uint256(s.free) + s.locked < market.params().minProviderStake
        ) return _skip(Action.Unjail);
        vm.prank(prov);
        market.unjail();
        _done(Action.Unjail);
    }

    /// @notice Anyone closes an app's lease that ran out of funds or whose provider was reported dark: the refund and
    ///         the compensation still go to the app.
    function closeByStranger(uint256 leaseSeed) external step {
        uint256 leaseId = _firstLease(leaseSeed, _closableByAnyone);
        if (leaseId == 0) return _skip(Action.CloseByStranger);
        vm.prank(stranger);
        market.closeLease(leaseId);
        _done(Action.CloseByStranger);
    }

    function releaseCollateral(uint256 leaseSeed) external step {
        uint256 leaseId = _firstLease(leaseSeed, _releasable);
        if (leaseId == 0) return _skip(Action.ReleaseCollateral);
        vm.prank(stranger);
        market.releaseCollateral(leaseId);
        _done(Action.ReleaseCollateral);
    }

    /// @param long Up to 3 days instead of 2 hours: leases run out, providers go silent, jails end.
    function warp(uint256 seconds_, bool long) external {
        currentTime += _bound(seconds_, 1, long ? 3 days : 2 hours);
        _done(Action.Warp);
    }

    /// @notice A node that went dark (one second past the liveness window) tries to lease into app 1, and a live node
    ///         tries to lease into app 0, which is not in network mode: both must be refused as not a controller.
    function nodeProbe(uint256 nodeSeed, uint256 slotSeed) external step {
        address node = nodes[nodeSeed % NODE_COUNT];
        ghost_nodeProbes += 2;
        Quote memory quote = _quote(apps[0], providers[0], 1);
        uint96 deposit = uint96(market.params().minLeaseDuration);
        _expectNotController(apps[0], node, slotSeed % 3, quote, deposit);
        vm.warp(currentTime + network.params().livenessWindow + 1);
        quote = _quote(apps[1], providers[0], 1);
        _expectNotController(apps[1], node, slotSeed % 3, quote, deposit);
        vm.warp(currentTime);
        _done(Action.NodeProbe);
    }

    function _expectNotController(AppVault app, address node, uint256 slot, Quote memory quote, uint96 deposit)
        internal
    {
        uint256 expected = app.leaseOf(slot);
        vm.prank(node);
        try app.replaceSlot(slot, expected, quote, "", deposit) {
            ++ghost_nodeRightViolations;
        } catch (bytes memory reason) {
            if (reason.length < 4 || bytes4(reason) != IAppVault.VaultNotController.selector) {
                ++ghost_nodeRightViolations;
            }
        }
    }

    /// @dev The first of the apps' leases, from `seed` on, that `eligible` accepts; 0 if none.
    function _firstLease(uint256 seed, function(uint256) internal view returns (bool) eligible)
        internal
        view
        returns (uint256)
    {
        uint256 n = _vaultLeases.length;
        for (uint256 i; i < n; ++i) {
            uint256 leaseId = _vaultLeases[(seed % n + i) % n];
            if (eligible(leaseId)) return leaseId;
        }
        return 0;
    }

    /// @dev Active and out of funds, or its provider was reported dark since it started.
    function _closableByAnyone(uint256 leaseId) internal view returns (bool) {
        Lease memory lease = market.getLease(leaseId);
        if (lease.status != LeaseStatus.Active) return false;
        (, bool outOfFunds) = market.withdrawable(leaseId);
        return outOfFunds || lease.epoch != market.stakeOf(lease.provider).epoch;
    }

    /// @dev Closed, collateral held and not disputed, and its window over (or its provider reported dark since).
    function _releasable(uint256 leaseId) internal view returns (bool) {
        Lease memory lease = market.getLease(leaseId);
        if (lease.status != LeaseStatus.Closed || lease.collateral == 0 || lease.disputed) return false;
        return lease.epoch != market.stakeOf(lease.provider).epoch
            || currentTime >= uint256(lease.endedAt) + market.params().disputeWindow;
    }

    /*//////////////////////////////////////////////////////////////
                                 GHOSTS
    //////////////////////////////////////////////////////////////*/

    /// @dev Reads back what the last action emitted and books every token movement that concerns an app.
    function _absorbLogs() internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory log = logs[i];
            bytes32 sig = log.topics[0];
            if (log.emitter == address(market)) {
                _absorbMarketLog(sig, log);
                continue;
            }
            uint256 a = _appIndex(log.emitter);
            if (a == APP_COUNT) continue;
            if (sig == IAppVault.Funded.selector) ghost_funded[a] += abi.decode(log.data, (uint256));
            else if (sig == IAppVault.Withdrawn.selector) ghost_withdrawn[a] += abi.decode(log.data, (uint256));
            else if (sig == IAppVault.NodeFeePaid.selector) _absorbNodeFee(a, log);
        }
    }

    function _absorbNodeFee(uint256 a, Vm.Log memory log) internal {
        uint256 amount = abi.decode(log.data, (uint256));
        uint256 day = currentTime / 1 days;
        ghost_nodeFees[a] += amount;
        ghost_nodeFeesOnDay[a][day] += amount;
        NetworkTerms memory terms = apps[a].networkTerms();
        if (ghost_nodeFeesOnDay[a][day] > terms.maxFeesPerDay || amount > terms.feePerReplacement) {
            ++ghost_feeCapViolations;
        }
        address payee = address(uint160(uint256(log.topics[1])));
        bool isNode;
        for (uint256 i; i < NODE_COUNT; ++i) {
            if (nodes[i] == payee) isNode = true;
        }
        if (!isNode) ++ghost_feePayeeViolations;
    }

    function _absorbMarketLog(bytes32 sig, Vm.Log memory log) internal {
        if (sig == IPodnetMarket.LeaseCreated.selector) {
            uint256 a = _appIndex(address(uint160(uint256(log.topics[2]))));
            if (a == APP_COUNT) return;
            uint256 leaseId = uint256(log.topics[1]);
            (uint256 orderId, bytes32 spec,, uint256 price, uint256 deposit,,) =
                abi.decode(log.data, (uint256, bytes32, Resources, uint256, uint256, uint256, bytes32));
            ghost_appOfLease[leaseId] = a + 1;
            _vaultLeases.push(leaseId);
            AppLimits memory limits = apps[a].limits();
            if (price > limits.maxPricePerSecond || deposit > limits.maxDepositPerLease) ++ghost_limitViolations;
            if (spec != apps[a].specHash()) ++ghost_specViolations;
            // A lease from an order is paid with the order's deposit, already booked when the order was created.
            if (orderId == 0) ghost_paidIntoLeases[a] += deposit;
        } else if (sig == IPodnetMarket.LeaseToppedUp.selector) {
            uint256 leaseId = uint256(log.topics[1]);
            uint256 a = _appIndex(address(uint160(uint256(log.topics[2]))));
            if (a == APP_COUNT) return;
            (uint256 amount,) = abi.decode(log.data, (uint256, uint256));
            ghost_paidIntoLeases[a] += amount;
            if (_unspent(leaseId) > apps[a].limits().maxDepositPerLease) ++ghost_escrowViolations;
        } else if (sig == IPodnetMarket.LeaseClosed.selector) {
            uint256 app = ghost_appOfLease[uint256(log.topics[1])];
            if (app == 0) return;
            (,,, uint256 refund,,) = abi.decode(log.data, (uint8, uint256, uint256, uint256, uint256, uint256));
            ghost_leaseRefunds[app - 1] += refund;
        } else if (sig == IPodnetMarket.CompensationPaid.selector) {
            uint256 a = _appIndex(address(uint160(uint256(log.topics[2]))));
            if (a != APP_COUNT) ghost_compensation[a] += abi.decode(log.data, (uint256));
        } else if (sig == IPodnetMarket.LeaseSettled.selector) {
            uint256 leaseId = uint256(log.topics[1]);
            if (ghost_appOfLease[leaseId] == 0) return;
            (uint256 amount,) = abi.decode(log.data, (uint256, uint256));
            ghost_settled[leaseId] += amount;
        } else if (sig == IPodnetMarket.OrderCreated.selector) {
            uint256 a = _appIndex(address(uint160(uint256(log.topics[2]))));
            if (a == APP_COUNT) return;
            (,,, uint256 deposit,,,) =
                abi.decode(log.data, (bytes32, Resources, uint256, uint256, uint40, bool, Requirements));
            ghost_paidIntoOrders[a] += deposit;
        } else if (sig == IPodnetMarket.OrderCancelled.selector) {
            uint256 a = _appIndex(market.getOrder(uint256(log.topics[1])).publisher);
            if (a != APP_COUNT) ghost_orderRefunds[a] += abi.decode(log.data, (uint256));
        }
    }

    /// @dev Right after a slot change, another controller that still expects the slot's old content must be refused by
    ///      the compare-and-swap itself (VaultSlotMismatch), whatever else would follow: it tries to clear the slot
    ///      (after a clear) or to lease into it (otherwise; the quote is unsigned, the check comes first).
    function _probeStaleSlot(uint256 a, uint256 slot, uint256 stale, uint256 controllerSeed, bool viaClear) internal {
        AppVault app = apps[a];
        ++ghost_casProbes;
        address other = _controllerOf(a, controllerSeed % 2 + 1);
        bytes memory reason;
        if (viaClear) {
            vm.prank(other);
            try app.clearSlot(slot, stale) {
                ++ghost_casViolations;
                return;
            } catch (bytes memory r) {
                reason = r;
            }
        } else {
            Quote memory quote = _quote(app, providers[0], 1);
            uint96 deposit = uint96(market.params().minLeaseDuration);
            vm.prank(other);
            try app.replaceSlot(slot, stale, quote, "", deposit) {
                ++ghost_casViolations;
                return;
            } catch (bytes memory r) {
                reason = r;
            }
        }
        if (reason.length < 4 || bytes4(reason) != IAppVault.VaultSlotMismatch.selector) ++ghost_casViolations;
    }

    /*//////////////////////////////////////////////////////////////
                                HELPERS
    //////////////////////////////////////////////////////////////*/

    function appCount() external pure returns (uint256) {
        return APP_COUNT;
    }

    function vaultLeases() external view returns (uint256[] memory) {
        return _vaultLeases;
    }

    function _appIndex(address who) internal view returns (uint256) {
        for (uint256 a; a < APP_COUNT; ++a) {
            if (address(apps[a]) == who) return a;
        }
        return APP_COUNT;
    }

    /// @dev App 1 (network mode) is also served by the nodes: one seed in three picks one.
    function _controllerOf(uint256 a, uint256 seed) internal view returns (address) {
        if (a == 1 && seed % 3 == 2) return nodes[(seed / 3) % NODE_COUNT];
        return controllers[a + seed % 2];
    }

    /// @dev A provider that can take work now (heartbeating first if it went quiet), or address(0).
    function _liveProvider(uint256 seed) internal returns (address) {
        for (uint256 i; i < PROVIDER_COUNT; ++i) {
            address prov = providers[(seed % PROVIDER_COUNT + i) % PROVIDER_COUNT];
            Stake memory s = market.stakeOf(prov);
            if (s.jailed || uint256(s.free) + s.locked < market.params().minProviderStake) continue;
            _ensureAlive(prov);
            return prov;
        }
        return address(0);
    }

    /// @dev A provider about to take work heartbeats first if it has been silent past the threshold.
    function _ensureAlive(address prov) internal {
        if (currentTime <= uint256(market.stakeOf(prov).lastHeartbeat) + market.params().heartbeatThreshold) return;
        vm.prank(prov);
        market.heartbeat();
    }

    function _quote(AppVault app, address prov, uint256 price) internal returns (Quote memory) {
        return Quote({
            provider: prov,
            publisher: address(app),
            specHash: app.specHash(),
            resources: Resources({cpuMillis: 500, memoryMiB: 512, storageMiB: 1024}),
            pricePerSecond: uint96(price),
            validUntil: uint40(currentTime + QUOTE_LIFETIME),
            attestationHash: bytes32(0),
            nonce: _nextNonce[prov]++
        });
    }

    function _signQuote(address prov, Quote memory quote) internal view returns (bytes memory) {
        uint256 key;
        for (uint256 i; i < PROVIDER_COUNT; ++i) {
            if (providers[i] == prov) key = providerKeys[i];
        }
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, market.hashQuote(quote));
        return abi.encodePacked(r, s, v);
    }

    /// @dev Active, provider not reported dark since it started, and funds left.
    function _isRunning(uint256 leaseId) internal view returns (bool) {
        Lease memory lease = market.getLease(leaseId);
        if (lease.status != LeaseStatus.Active || lease.epoch != market.stakeOf(lease.provider).epoch) return false;
        (, bool outOfFunds) = market.withdrawable(leaseId);
        return !outOfFunds;
    }

    function _unspent(uint256 leaseId) internal view returns (uint256) {
        (uint256 earned,) = market.withdrawable(leaseId);
        return market.getLease(leaseId).balance - earned;
    }

    function _done(Action action) internal {
        ++doneCalls[uint256(action)];
    }

    function _skip(Action action) internal {
        ++skippedCalls[uint256(action)];
    }

    function callSummary() external view {
        string[ACTION_COUNT] memory names = [
            "fund",
            "withdraw",
            "replaceSlot",
            "clearSlot",
            "topUp",
            "updateLeaseSpec",
            "createOrder",
            "placeBid",
            "acceptBid",
            "cancelOrder",
            "setLimits",
            "setSpec",
            "providerWithdraw",
            "heartbeat",
            "reportDark",
            "unjail",
            "closeByStranger",
            "releaseCollateral",
            "warp",
            "nodeProbe"
        ];
        for (uint256 i; i < ACTION_COUNT; ++i) {
            console.log(names[i], doneCalls[i], skippedCalls[i]);
        }
        console.log("CAS probes", ghost_casProbes);
        console.log("node probes", ghost_nodeProbes);
        console.log("node fees (app 1)", ghost_nodeFees[1]);
    }

    /// @dev Registration and first stake of the providers, done by the test's setUp (the registry is not the
    ///      handler's).
    function providerStake(uint256 i) external {
        address prov = providers[i];
        token.mint(prov, INITIAL_STAKE);
        vm.startPrank(prov);
        token.approve(address(market), INITIAL_STAKE);
        market.stake(INITIAL_STAKE);
        vm.stopPrank();
    }
}
