// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarketFixture} from "../utils/MarketFixture.sol";

/// @notice Gas of the market's main calls, recorded into contracts/snapshots/*.json.
/// @dev Runs in the `gas` profile (isolate = true): each call below is its own transaction, so storage is cold the
///      way it is for a user. Each measured call is the steady state a provider or publisher sees after its first
///      lease (quote nonce word and token balances already non-zero).
contract MarketGasTest is MarketFixture {
    function setUp() public override {
        super.setUp();
        _onboard(provider, 10_000 * TOKEN);
        _onboard(provider2, 10_000 * TOKEN);
        // Warm-up: the provider's nonce word, the market's token balance, the provider's token balance and the
        // accrued fees are no longer zero, as for any provider after its first lease and withdrawal.
        _lease(PRICE, DEPOSIT, 0);
        skip(1 hours);
        uint256[] memory ids = new uint256[](1);
        ids[0] = 1;
        vm.prank(provider);
        market.withdraw(ids);
    }

    function test_gas_register() public {
        (address newProvider,) = makeAddrAndKey("newProvider");
        vm.prank(newProvider);
        registry.register(defaultProfile());
        vm.snapshotGasLastCall("ProviderRegistry", "register");
    }

    function test_gas_stake() public {
        (address newProvider,) = makeAddrAndKey("newProvider");
        _register(newProvider);
        _fund(newProvider, 1000 * TOKEN);
        vm.prank(newProvider);
        market.stake(500 * TOKEN);
        vm.snapshotGasLastCall("PodnetMarket", "stake");
    }

    function test_gas_createLease() public {
        _lease(PRICE, DEPOSIT, 1);
        vm.snapshotGasLastCall("PodnetMarket", "createLease");
    }

    function test_gas_createOrder() public {
        _order(PRICE, DEPOSIT, true);
        vm.snapshotGasLastCall("PodnetMarket", "createOrder");
    }

    function test_gas_placeBid() public {
        uint256 orderId = _order(PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        vm.snapshotGasLastCall("PodnetMarket", "placeBid");
    }

    function test_gas_acceptBid() public {
        uint256 orderId = _order(PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE);
        _bid(provider2, orderId, PRICE - 1);
        vm.prank(publisher);
        market.acceptBid(orderId, provider2);
        vm.snapshotGasLastCall("PodnetMarket", "acceptBid");
    }

    function test_gas_withdraw_1() public {
        uint256[] memory ids = new uint256[](1);
        ids[0] = 1;
        skip(1 hours);
        vm.prank(provider);
        market.withdraw(ids);
        vm.snapshotGasLastCall("PodnetMarket", "withdraw_1");
    }

    function test_gas_withdraw_10() public {
        uint256[] memory ids = new uint256[](10);
        ids[0] = 1;
        for (uint256 i = 1; i < 10; ++i) {
            ids[i] = _lease(PRICE, DEPOSIT, i);
        }
        skip(1 hours);
        vm.prank(provider);
        market.withdraw(ids);
        vm.snapshotGasLastCall("PodnetMarket", "withdraw_10");
    }

    function test_gas_topUp() public {
        skip(1 hours);
        vm.prank(publisher);
        market.topUp(1, DEPOSIT);
        vm.snapshotGasLastCall("PodnetMarket", "topUp");
    }

    function test_gas_releaseCollateral() public {
        skip(1 hours);
        vm.prank(publisher);
        market.closeLease(1);
        skip(market.params().disputeWindow);
        vm.prank(provider);
        market.releaseCollateral(1);
        vm.snapshotGasLastCall("PodnetMarket", "releaseCollateral");
        assertEq(market.getLease(1).collateral, 0);
    }

    function test_gas_closeLease() public {
        skip(1 hours);
        vm.prank(publisher);
        market.closeLease(1);
        vm.snapshotGasLastCall("PodnetMarket", "closeLease");
    }
}
