// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PodnetLaunch} from "../../script/PodnetLaunch.sol";
import {AppVaultFactory} from "../../src/AppVaultFactory.sol";
import {AutoscalerNetwork} from "../../src/AutoscalerNetwork.sol";
import {DisputeCourt} from "../../src/DisputeCourt.sol";
import {PodnetMarket} from "../../src/PodnetMarket.sol";
import {ProviderRegistry} from "../../src/ProviderRegistry.sol";
import {PodnetTestToken} from "../../src/dev/PodnetTestToken.sol";
import {IPodnetMarket} from "../../src/interfaces/IPodnetMarket.sol";
import {IProviderRegistry} from "../../src/interfaces/IProviderRegistry.sol";
import {CourtParams} from "../../src/types/CourtTypes.sol";
import {
    BidStatus,
    MarketParams,
    Pricing,
    ProviderProfile,
    Quote,
    Requirements,
    Resources
} from "../../src/types/MarketTypes.sol";
import {ReleaseBuild} from "./ReleaseBuild.sol";
import {SortedAddresses} from "./SortedAddresses.sol";
import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Test} from "forge-std/Test.sol";

/// @notice Deploys the market the way the deploy script does and offers helpers to set up providers, quotes,
///         leases and orders. Tests inherit it.
abstract contract MarketFixture is Test {
    uint256 internal constant TOKEN = 1e18;
    uint256 internal constant START_TIME = 1_800_000_000;

    PodnetTestToken internal token;
    ProviderRegistry internal registry;
    AccessManager internal manager;
    PodnetMarket internal market;
    DisputeCourt internal court;
    AutoscalerNetwork internal network;

    address internal admin = makeAddr("admin");
    address internal treasury = makeAddr("treasury");
    address internal publisher = makeAddr("publisher");
    address internal otherPublisher = makeAddr("otherPublisher");
    address internal stranger = makeAddr("stranger");
    address internal arbiter = makeAddr("arbiter");

    address internal provider;
    uint256 internal providerKey;
    address internal provider2;
    uint256 internal provider2Key;

    bytes32 internal constant SPEC = keccak256("pod.yaml v1");
    bytes32 internal constant SPEC2 = keccak256("pod.yaml v2");
    bytes32 internal constant ATTESTATION = keccak256("attestation");
    bytes32 internal constant REGION_EU = "region=eu-west";
    bytes32 internal constant TEE_SGX = "tee=sgx";

    uint96 internal constant PRICE = 1e12; // base units per second
    uint96 internal constant DEPOSIT = uint96(PRICE) * 1 days;
    /// @dev The launch dispute window: a closed lease's collateral stays locked this long after it ended.
    uint40 internal constant DISPUTE_WINDOW = 2 days;

    /// @dev A market of the release build (test/utils/ReleaseBuild.sol), governed by this fixture's manager.
    function _deployMarket(address token_, address registry_, address treasury_, MarketParams memory p)
        internal
        returns (PodnetMarket)
    {
        return PodnetMarket(ReleaseBuild.deploy("PodnetMarket", _marketArgs(token_, registry_, treasury_, p)));
    }

    /// @dev The market constructor's arguments, ABI-encoded, with this fixture's manager.
    function _marketArgs(address token_, address registry_, address treasury_, MarketParams memory p)
        internal
        view
        returns (bytes memory)
    {
        return abi.encode(token_, registry_, address(manager), treasury_, p);
    }

    /// @dev A dispute court of the release build for `market_`, governed by this fixture's manager.
    function _deployCourt(address market_, CourtParams memory p) internal returns (DisputeCourt) {
        return DisputeCourt(ReleaseBuild.deploy("DisputeCourt", abi.encode(market_, address(manager), p)));
    }

    /// @dev An app vault factory of the release build for `market_` and `court_`.
    function _deployFactory(address market_, address court_, address network_) internal returns (AppVaultFactory) {
        return AppVaultFactory(ReleaseBuild.deploy("AppVaultFactory", abi.encode(market_, court_, network_)));
    }

    function setUp() public virtual {
        vm.warp(START_TIME);
        token = PodnetTestToken(ReleaseBuild.deploy("PodnetTestToken", ""));
        registry = ProviderRegistry(ReleaseBuild.deploy("ProviderRegistry", ""));
        manager = AccessManager(ReleaseBuild.deploy("AccessManager", abi.encode(admin)));
        market = _deployMarket(address(token), address(registry), treasury, defaultParams());
        court = _deployCourt(address(market), defaultCourtParams());
        network = AutoscalerNetwork(
            ReleaseBuild.deploy(
                "AutoscalerNetwork", abi.encode(address(token), address(manager), PodnetLaunch.networkParams())
            )
        );
        _wireRoles();

        (provider, providerKey) = makeAddrAndKey("provider");
        (provider2, provider2Key) = makeAddrAndKey("provider2");
        _fund(publisher, 1_000_000 * TOKEN);
        _fund(otherPublisher, 1_000_000 * TOKEN);
        _fund(stranger, 1_000_000 * TOKEN);
    }

    /// @dev The deploy script's launch parameters, with two clocks slowed down on purpose: the tests are written around
    ///      hour-long leases (`MIN_DEPOSIT = PRICE * 1 hours` is the smallest deposit) and warp an hour or more
    ///      between heartbeats without a provider turning reportable (`THRESHOLD = 1 hours` in the liveness tests).
    function defaultParams() internal pure returns (MarketParams memory p) {
        p = PodnetLaunch.marketParams();
        p.minLeaseDuration = 1 hours; // launch: 10 minutes
        p.heartbeatThreshold = 1 hours; // launch: 10 minutes
    }

    function defaultCourtParams() internal pure returns (CourtParams memory) {
        return PodnetLaunch.courtParams();
    }

    /// @dev The deploy script's roles, wired by the same function: the court may hold/settle collateral, `arbiter`
    ///      may rule. `admin` holds the manager's admin role here, as the deployer does in the script.
    function _wireRoles() internal {
        vm.startPrank(admin);
        PodnetLaunch.wireRoles(manager, market, court, arbiter);
        vm.stopPrank();
    }

    /// @dev Waits out a closed lease's dispute window and releases its collateral (as `stranger`: anyone may).
    function _releaseAfterWindow(uint256 leaseId) internal {
        uint256 releasableAt = uint256(market.getLease(leaseId).endedAt) + market.params().disputeWindow;
        if (block.timestamp < releasableAt) vm.warp(releasableAt);
        vm.prank(stranger);
        market.releaseCollateral(leaseId);
    }

    function _heartbeat(address who) internal {
        vm.prank(who);
        market.heartbeat();
    }

    function defaultResources() internal pure returns (Resources memory) {
        return Resources({cpuMillis: 500, memoryMiB: 512, storageMiB: 1024});
    }

    function defaultProfile() internal pure returns (ProviderProfile memory profile) {
        bytes32[] memory attributes = new bytes32[](2);
        attributes[0] = REGION_EU;
        attributes[1] = TEE_SGX;
        profile = ProviderProfile({
            endpoint: "https://provider.example:8443",
            metadataURI: "ipfs://bafy-provider-metadata",
            encryptionKey: keccak256("x25519 public key"),
            pricing: Pricing({perCpuMilli: 1e8, perMemoryMiB: 1e8, perStorageMiB: 1e7, flat: 1e9}),
            capacity: Resources({cpuMillis: 8000, memoryMiB: 16_384, storageMiB: 102_400}),
            attributes: attributes
        });
    }

    /// @dev Mints `amount` to `who` and approves the market for all of it.
    function _fund(address who, uint256 amount) internal {
        token.mint(who, amount);
        vm.prank(who);
        token.approve(address(market), type(uint256).max);
    }

    function _register(address who) internal {
        vm.prank(who);
        registry.register(defaultProfile());
    }

    /// @dev Registers `who` with the default profile and stakes `amount`.
    function _onboard(address who, uint256 amount) internal {
        _register(who);
        _fund(who, amount);
        vm.prank(who);
        market.stake(amount);
    }

    function _quote(address quoteProvider, uint96 price, uint256 nonce) internal view returns (Quote memory) {
        return Quote({
            provider: quoteProvider,
            publisher: publisher,
            specHash: SPEC,
            resources: defaultResources(),
            pricePerSecond: price,
            validUntil: uint40(block.timestamp + 10 minutes),
            attestationHash: ATTESTATION,
            nonce: nonce
        });
    }

    function _sign(uint256 key, Quote memory quote) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, market.hashQuote(quote));
        return abi.encodePacked(r, s, v);
    }

    /// @dev `publisher` leases from `provider` at `price` with `deposit`, using quote nonce `nonce`.
    function _lease(uint96 price, uint96 deposit, uint256 nonce) internal returns (uint256 leaseId) {
        Quote memory quote = _quote(provider, price, nonce);
        bytes memory signature = _sign(providerKey, quote);
        vm.prank(publisher);
        leaseId = market.createLease(quote, signature, deposit);
    }

    function _requirements(uint128 minStake, bytes32 attribute) internal pure returns (Requirements memory r) {
        bytes32[] memory attributes;
        if (attribute != bytes32(0)) {
            attributes = new bytes32[](1);
            attributes[0] = attribute;
        }
        r = Requirements({minStake: minStake, attributes: attributes});
    }

    /// @dev `publisher` orders SPEC with a one-hour bid window.
    function _order(uint96 maxPrice, uint96 deposit, bool autoAccept) internal returns (uint256 orderId) {
        vm.prank(publisher);
        orderId = market.createOrder(
            SPEC,
            defaultResources(),
            maxPrice,
            deposit,
            uint40(block.timestamp + 1 hours),
            _requirements(0, REGION_EU),
            autoAccept
        );
    }

    /// @dev The standing-bidder list of placeBid and finalizeOrder when the order is not full / its best bid is valid.
    function _noBidders() internal pure returns (address[] memory) {
        return new address[](0);
    }

    /// @dev Every standing bidder of `orderId` among `candidates`, in ascending address order (what placeBid on a full
    ///      order and finalizeOrder's fall-through need).
    function _standingBidders(uint256 orderId, address[] memory candidates)
        internal
        view
        returns (address[] memory list)
    {
        uint256 n;
        list = new address[](candidates.length);
        for (uint256 i; i < candidates.length; ++i) {
            if (market.getBid(orderId, candidates[i]).status == BidStatus.Active) list[n++] = candidates[i];
        }
        assembly ("memory-safe") {
            mstore(list, n)
        }
        SortedAddresses.sort(list);
    }

    function _bid(address bidder, uint256 orderId, uint96 price) internal {
        vm.prank(bidder);
        market.placeBid(orderId, price, _noBidders());
    }
}
