// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AppVault} from "../src/AppVault.sol";
import {AppVaultFactory} from "../src/AppVaultFactory.sol";
import {IAppVault} from "../src/interfaces/IAppVault.sol";
import {IAppVaultFactory} from "../src/interfaces/IAppVaultFactory.sol";
import {IAutoscalerNetwork} from "../src/interfaces/IAutoscalerNetwork.sol";
import {IDisputeCourt} from "../src/interfaces/IDisputeCourt.sol";
import {IPodnetMarket} from "../src/interfaces/IPodnetMarket.sol";
import {AppLimits} from "../src/types/VaultTypes.sol";
import {ReleaseBuild} from "./utils/ReleaseBuild.sol";
import {VaultFixture} from "./utils/VaultFixture.sol";
import {Vm} from "forge-std/Vm.sol";

/// @notice Creating apps: deterministic clone addresses, setup events in an indexer-friendly order, refusals.
contract AppVaultFactoryTest is VaultFixture {
    function test_createApp_atPredictedAddress() public {
        bytes32 salt = keccak256("second app");
        address predicted = factory.predictApp(stranger, salt);
        assertEq(predicted.code.length, 0);
        vm.prank(stranger);
        address app = factory.createApp(salt, SPEC2, CONFIG2, defaultLimits(), new address[](0));
        assertEq(app, predicted);
        assertEq(AppVault(app).owner(), stranger);
        assertEq(AppVault(app).specHash(), SPEC2);
        assertEq(AppVault(app).configHash(), CONFIG2);
        assertEq(AppVault(app).balance(), 0);
        // An EIP-1167 minimal proxy of the implementation: 45 bytes of code.
        assertEq(app.code.length, 45);
    }

    /// @dev AppCreated comes first, then the vault's own setup events, so an indexer that starts following the vault
    ///      at AppCreated sees every one of them.
    function test_createApp_emitsAppCreatedBeforeSetup() public {
        bytes32 salt = keccak256("third app");
        address predicted = factory.predictApp(appOwner, salt);
        vm.recordLogs();
        vm.prank(appOwner);
        factory.createApp(salt, SPEC, CONFIG, defaultLimits(), _controllers(controller, controller2));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 7);
        assertEq(logs[0].emitter, address(factory));
        assertEq(logs[0].topics[0], IAppVaultFactory.AppCreated.selector);
        assertEq(logs[0].topics[1], bytes32(uint256(uint160(predicted))));
        assertEq(logs[0].topics[2], bytes32(uint256(uint160(appOwner))));
        assertEq(logs[0].topics[3], salt);
        assertEq(abi.decode(logs[0].data, (bytes32)), SPEC);
        bytes32[6] memory setup = [
            IAppVault.OwnershipTransferred.selector,
            IAppVault.SpecUpdated.selector,
            IAppVault.ConfigUpdated.selector,
            IAppVault.LimitsSet.selector,
            IAppVault.ControllerSet.selector,
            IAppVault.ControllerSet.selector
        ];
        for (uint256 i; i < setup.length; ++i) {
            assertEq(logs[i + 1].emitter, predicted);
            assertEq(logs[i + 1].topics[0], setup[i]);
        }
    }

    function test_createApp_revertsOnReusedSalt() public {
        address existing = factory.predictApp(appOwner, APP_SALT);
        vm.expectRevert(abi.encodeWithSelector(IAppVaultFactory.VaultFactoryAppExists.selector, existing));
        vm.prank(appOwner);
        factory.createApp(APP_SALT, SPEC, CONFIG, defaultLimits(), new address[](0));
    }

    /// @dev The owner is part of the salt: another account using the same salt gets its own address, so nobody can
    ///      take or front-run an owner's app address.
    function test_createApp_sameSaltOtherOwner() public {
        vm.prank(stranger);
        address app = factory.createApp(APP_SALT, SPEC, CONFIG, defaultLimits(), new address[](0));
        assertTrue(app != address(vault));
        assertEq(AppVault(app).owner(), stranger);
        assertEq(vault.owner(), appOwner);
    }

    function test_createApp_revertsOnBadSetup() public {
        vm.expectRevert(IAppVault.VaultZeroSpecHash.selector);
        vm.prank(stranger);
        factory.createApp(keccak256("a"), bytes32(0), CONFIG, defaultLimits(), new address[](0));
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultZeroAddress.selector, "controller"));
        vm.prank(stranger);
        factory.createApp(keccak256("a"), SPEC, CONFIG, defaultLimits(), _controllers(controller, address(0)));
        // Nothing was created.
        assertEq(factory.predictApp(stranger, keccak256("a")).code.length, 0);
    }

    /// @dev Zero limits and no controllers: a frozen app until its owner sets them (the config hash may be zero).
    function test_createApp_allowsEmptyApp() public {
        vm.prank(stranger);
        AppVault app =
            AppVault(factory.createApp(keccak256("empty"), SPEC, bytes32(0), AppLimits(0, 0, 0), new address[](0)));
        assertEq(app.limits().maxInstances, 0);
        assertEq(app.configHash(), bytes32(0));
    }

    function test_constructor_revertsOnZeroAddresses() public {
        bytes memory code = ReleaseBuild.creationCode("AppVaultFactory");
        vm.expectRevert(abi.encodeWithSelector(IAppVaultFactory.VaultFactoryZeroAddress.selector, "market"));
        ReleaseBuild.create(code, abi.encode(address(0), court, network));
        vm.expectRevert(abi.encodeWithSelector(IAppVaultFactory.VaultFactoryZeroAddress.selector, "court"));
        ReleaseBuild.create(code, abi.encode(market, address(0), network));
        vm.expectRevert(abi.encodeWithSelector(IAppVaultFactory.VaultFactoryZeroAddress.selector, "network"));
        ReleaseBuild.create(code, abi.encode(market, court, address(0)));
    }

    /// @dev The implementation knows the factory, has no owner, and cannot be initialized by anyone else.
    function test_implementation_isInert() public {
        AppVault implementation = AppVault(factory.implementation());
        assertEq(implementation.factory(), address(factory));
        assertEq(implementation.owner(), address(0));
        assertEq(address(implementation.market()), address(market));
        assertEq(address(factory.market()), address(market));
        assertEq(address(factory.court()), address(court));
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotFactory.selector, stranger));
        vm.prank(stranger);
        implementation.initialize(stranger, SPEC, CONFIG, defaultLimits(), new address[](0));
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotOwner.selector, stranger));
        vm.prank(stranger);
        implementation.withdraw(stranger, 1);
    }
}
