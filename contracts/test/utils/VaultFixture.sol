// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AppVault} from "../../src/AppVault.sol";
import {AppVaultFactory} from "../../src/AppVaultFactory.sol";
import {IDisputeCourt} from "../../src/interfaces/IDisputeCourt.sol";
import {IPodnetMarket} from "../../src/interfaces/IPodnetMarket.sol";
import {Quote} from "../../src/types/MarketTypes.sol";
import {AppLimits} from "../../src/types/VaultTypes.sol";
import {MarketFixture} from "./MarketFixture.sol";

/// @notice The market fixture plus an AppVaultFactory and one app (`vault`) owned by `appOwner`, with two
///         controllers, the default limits and a funded balance. Two staked providers are onboarded.
abstract contract VaultFixture is MarketFixture {
    bytes32 internal constant APP_SALT = keccak256("app");
    bytes32 internal constant CONFIG = keccak256("app.yaml v1");
    bytes32 internal constant CONFIG2 = keccak256("app.yaml v2");
    uint16 internal constant MAX_INSTANCES = 3;
    /// @dev The limits: twice the fixture's price, two days of it as the most escrow per lease.
    uint96 internal constant MAX_PRICE = 2 * PRICE;
    uint96 internal constant MAX_DEPOSIT = 2 * DEPOSIT;
    uint256 internal constant FUNDING = 1000 * TOKEN;

    AppVaultFactory internal factory;
    AppVault internal vault;

    address internal appOwner;
    uint256 internal appOwnerKey;
    address internal controller;
    uint256 internal controllerKey;
    address internal controller2;
    uint256 internal controller2Key;
    address internal funder = makeAddr("funder");

    function setUp() public virtual override {
        super.setUp();
        (appOwner, appOwnerKey) = makeAddrAndKey("appOwner");
        (controller, controllerKey) = makeAddrAndKey("controller");
        (controller2, controller2Key) = makeAddrAndKey("controller2");
        factory = _deployFactory(address(market), address(court), address(network));
        vault = _createApp(appOwner, APP_SALT, _controllers(controller, controller2));
        _onboard(provider, 10_000 * TOKEN);
        _onboard(provider2, 10_000 * TOKEN);
        _fundVault(vault, FUNDING);
    }

    function defaultLimits() internal pure returns (AppLimits memory) {
        return AppLimits({maxPricePerSecond: MAX_PRICE, maxDepositPerLease: MAX_DEPOSIT, maxInstances: MAX_INSTANCES});
    }

    function _controllers(address a, address b) internal pure returns (address[] memory list) {
        list = new address[](2);
        (list[0], list[1]) = (a, b);
    }

    function _createApp(address who, bytes32 salt, address[] memory controllers_) internal returns (AppVault) {
        vm.prank(who);
        return AppVault(factory.createApp(salt, SPEC, CONFIG, defaultLimits(), controllers_));
    }

    /// @dev `funder` mints `amount` and funds `app` with it.
    function _fundVault(AppVault app, uint256 amount) internal {
        token.mint(funder, amount);
        vm.startPrank(funder);
        token.approve(address(app), amount);
        app.fund(amount);
        vm.stopPrank();
    }

    /// @dev `quoteProvider`'s quote for the vault (as publisher) of SPEC at `price`.
    function _vaultQuote(AppVault app, address quoteProvider, uint96 price, uint256 nonce)
        internal
        view
        returns (Quote memory quote)
    {
        quote = _quote(quoteProvider, price, nonce);
        quote.publisher = address(app);
    }

    function _keyOf(address quoteProvider) internal view returns (uint256) {
        return quoteProvider == provider ? providerKey : provider2Key;
    }

    /// @dev `by` places a lease from `quoteProvider` at `price` with `deposit` into `slot` of `app` (CAS on
    ///      `expected`), using quote nonce `nonce`.
    function _replace(
        AppVault app,
        address by,
        uint256 slot,
        uint256 expected,
        address quoteProvider,
        uint96 price,
        uint96 deposit,
        uint256 nonce
    ) internal returns (uint256 leaseId) {
        Quote memory quote = _vaultQuote(app, quoteProvider, price, nonce);
        bytes memory signature = _sign(_keyOf(quoteProvider), quote);
        vm.prank(by);
        leaseId = app.replaceSlot(slot, expected, quote, signature, deposit);
    }

    /// @dev `controller` fills `slot` of `vault` (empty) from `provider` at PRICE with DEPOSIT.
    function _fill(uint256 slot, uint256 nonce) internal returns (uint256) {
        return _replace(vault, controller, slot, 0, provider, PRICE, DEPOSIT, nonce);
    }
}
