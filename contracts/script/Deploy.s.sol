// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PodnetMarket} from "../src/PodnetMarket.sol";
import {ProviderRegistry} from "../src/ProviderRegistry.sol";
import {PodnetTestToken} from "../src/dev/PodnetTestToken.sol";
import {IProviderRegistry} from "../src/interfaces/IProviderRegistry.sol";
import {MarketParams} from "../src/types/MarketTypes.sol";
import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Script} from "forge-std/Script.sol";

/// @notice Deploys Podnet: AccessManager (governance), ProviderRegistry and PodnetMarket.
/// @dev Environment:
///      DEPLOYER_PRIVATE_KEY  the deploying account (read here, so the key never appears on a command line).
///      PAYMENT_TOKEN  the ERC-20 to pay in; unset deploys PodnetTestToken (local chains only).
///      TREASURY       where protocol fees go; defaults to the deployer.
///      The deployer is the AccessManager's first admin. `script/deploy-local.ts` runs this script and writes
///      deployments/<chainId>.json from the broadcast receipts.
contract Deploy is Script {
    function run()
        external
        returns (IERC20 token, AccessManager manager, ProviderRegistry registry, PodnetMarket market)
    {
        uint256 deployerKey = vm.envUint("DEPLOYER_PRIVATE_KEY");
        address deployer = vm.addr(deployerKey);
        address treasury = vm.envOr("TREASURY", deployer);
        address paymentToken = vm.envOr("PAYMENT_TOKEN", address(0));

        vm.startBroadcast(deployerKey);
        token = paymentToken == address(0) ? IERC20(address(new PodnetTestToken())) : IERC20(paymentToken);
        manager = new AccessManager(deployer);
        registry = new ProviderRegistry();
        market = new PodnetMarket(token, IProviderRegistry(address(registry)), address(manager), treasury, params());
        vm.stopBroadcast();
    }

    /// @notice Launch parameters; governance changes them later through the AccessManager.
    function params() public pure returns (MarketParams memory) {
        return MarketParams({
            feeBps: 100, // 1% of provider withdrawals
            unbondingDelay: 7 days,
            collateralSeconds: 1 days, // a day of the lease's price is locked from the provider's stake
            minLeaseDuration: 10 minutes,
            maxBidWindow: 1 days,
            acceptWindow: 1 days,
            maxBidsPerOrder: 20,
            minProviderStake: 100e18
        });
    }
}
