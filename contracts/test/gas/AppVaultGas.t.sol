// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PermitSignature, Requirements} from "../../src/types/MarketTypes.sol";
import {Permits} from "../utils/Permits.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";

/// @notice Gas of the app vault's main calls, recorded into contracts/snapshots/AppVault*.json.
/// @dev Runs in the `gas` profile (isolate = true): each call is its own transaction, so storage is cold the way it is
///      for a user. setUp warms up what an app has after its first lease: the vault holds tokens, slot 0 holds a
///      lease, the provider's quote-nonce word and token balance and the accrued fees are non-zero.
contract AppVaultGasTest is VaultFixture {
    function setUp() public override {
        super.setUp();
        _fill(0, 0);
        skip(1 hours);
        uint256[] memory ids = new uint256[](1);
        ids[0] = 1;
        vm.prank(provider);
        market.withdraw(ids);
    }

    /// @dev A new app with two controllers: the clone, its setup and the events.
    function test_gas_createApp() public {
        address newOwner = makeAddr("new app owner");
        address[] memory list = _controllers(controller, controller2);
        vm.prank(newOwner);
        factory.createApp(keccak256("gas app"), SPEC, CONFIG, defaultLimits(), list);
        vm.snapshotGasLastCall("AppVaultFactory", "createApp");
    }

    /// @dev A funder that approved exactly the amount, into a vault that already holds tokens.
    function test_gas_fund() public {
        token.mint(funder, 10 * TOKEN);
        vm.prank(funder);
        token.approve(address(vault), 10 * TOKEN);
        vm.prank(funder);
        vault.fund(10 * TOKEN);
        vm.snapshotGasLastCall("AppVault", "fund");
    }

    function test_gas_fundWithPermit() public {
        (address who, uint256 key) = makeAddrAndKey("permit funder");
        token.mint(who, 10 * TOKEN);
        PermitSignature memory p;
        p.deadline = block.timestamp + 1 hours;
        (p.v, p.r, p.s) = vm.sign(key, Permits.digest(token, who, address(vault), 10 * TOKEN, p.deadline));
        vm.prank(who);
        vault.fundWithPermit(10 * TOKEN, p);
        vm.snapshotGasLastCall("AppVault", "fundWithPermit");
    }

    /// @dev A lease into an empty slot (the slot is written from zero).
    function test_gas_replaceSlot_fill() public {
        _replace(vault, controller, 1, 0, provider, PRICE, DEPOSIT, 1);
        vm.snapshotGasLastCall("AppVault", "replaceSlot_fill");
    }

    /// @dev The failover: the running lease in slot 0 is closed (its refund comes back) and a lease from another
    ///      provider takes its place.
    function test_gas_replaceSlot_replace() public {
        _heartbeat(provider2);
        _replace(vault, controller, 0, 1, provider2, PRICE, DEPOSIT, 1);
        vm.snapshotGasLastCall("AppVault", "replaceSlot_replace");
    }

    function test_gas_topUp() public {
        vm.prank(controller);
        vault.topUp(0, 1, PRICE * 1 hours);
        vm.snapshotGasLastCall("AppVault", "topUp");
    }

    function test_gas_clearSlot() public {
        vm.prank(controller);
        vault.clearSlot(0, 1);
        vm.snapshotGasLastCall("AppVault", "clearSlot");
    }

    function test_gas_createOrder() public {
        vm.prank(controller);
        vault.createOrder(
            defaultResources(),
            PRICE,
            DEPOSIT,
            uint40(block.timestamp + 1 hours),
            Requirements({minStake: 0, attributes: new bytes32[](0)})
        );
        vm.snapshotGasLastCall("AppVault", "createOrder");
    }

    /// @dev The reverse-market failover: the order's winning bid replaces the lease in slot 0.
    function test_gas_acceptBid_replace() public {
        vm.prank(controller);
        uint256 orderId = vault.createOrder(
            defaultResources(),
            PRICE,
            DEPOSIT,
            uint40(block.timestamp + 1 hours),
            Requirements({minStake: 0, attributes: new bytes32[](0)})
        );
        _bid(provider2, orderId, PRICE);
        vm.prank(controller);
        vault.acceptBid(orderId, provider2, 0, 1);
        vm.snapshotGasLastCall("AppVault", "acceptBid_replace");
    }
}
