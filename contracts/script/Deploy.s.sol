// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {DisputeCourt} from "../src/DisputeCourt.sol";
import {PodnetMarket} from "../src/PodnetMarket.sol";
import {ProviderRegistry} from "../src/ProviderRegistry.sol";
import {PodnetTestToken} from "../src/dev/PodnetTestToken.sol";
import {IPodnetMarket} from "../src/interfaces/IPodnetMarket.sol";
import {IProviderRegistry} from "../src/interfaces/IProviderRegistry.sol";
import {PodnetLaunch} from "./PodnetLaunch.sol";
import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Script} from "forge-std/Script.sol";

/// @notice Deploys Podnet: AccessManager, TimelockController, ProviderRegistry, PodnetMarket and DisputeCourt with the
///         launch parameters, wires the roles (both in `PodnetLaunch`), and hands the AccessManager's admin role to
///         the timelock.
/// @dev Environment:
///      DEPLOYER_PRIVATE_KEY  the deploying account (read here, so the key never appears on a command line).
///      PAYMENT_TOKEN         the ERC-20 to pay in; unset deploys PodnetTestToken (local chains only).
///      TREASURY              where protocol fees go; defaults to the deployer.
///      ARBITER               the first arbiter; defaults to the deployer.
///      GOVERNOR              proposer and executor of the timelock; defaults to the deployer.
///      TIMELOCK_DELAY        seconds between scheduling and executing a governed change; defaults to 2 days.
///      After this script only the timelock administers the AccessManager: every parameter and role change is
///      scheduled on the timelock and executed after the delay.
contract Deploy is Script {
    struct Deployment {
        IERC20 token;
        AccessManager manager;
        TimelockController timelock;
        ProviderRegistry registry;
        PodnetMarket market;
        DisputeCourt court;
    }

    function run() external returns (Deployment memory d) {
        uint256 deployerKey = vm.envUint("DEPLOYER_PRIVATE_KEY");
        address deployer = vm.addr(deployerKey);
        address governor = vm.envOr("GOVERNOR", deployer);
        uint256 delay = vm.envOr("TIMELOCK_DELAY", uint256(2 days));

        vm.startBroadcast(deployerKey);
        address paymentToken = vm.envOr("PAYMENT_TOKEN", address(0));
        d.token = paymentToken == address(0) ? IERC20(address(new PodnetTestToken())) : IERC20(paymentToken);
        d.manager = new AccessManager(deployer);
        d.registry = new ProviderRegistry();
        d.market = new PodnetMarket(
            d.token,
            IProviderRegistry(address(d.registry)),
            address(d.manager),
            vm.envOr("TREASURY", deployer),
            PodnetLaunch.marketParams()
        );
        d.court = new DisputeCourt(IPodnetMarket(address(d.market)), address(d.manager), PodnetLaunch.courtParams());
        PodnetLaunch.wireRoles(d.manager, d.market, d.court, vm.envOr("ARBITER", deployer));

        address[] memory governors = new address[](1);
        governors[0] = governor;
        d.timelock = new TimelockController(delay, governors, governors, address(0));
        d.manager.grantRole(d.manager.ADMIN_ROLE(), address(d.timelock), 0);
        d.manager.renounceRole(d.manager.ADMIN_ROLE(), deployer);
        vm.stopBroadcast();
    }
}
