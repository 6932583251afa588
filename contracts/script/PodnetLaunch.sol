// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDisputeCourt} from "../src/interfaces/IDisputeCourt.sol";
import {IPodnetMarket} from "../src/interfaces/IPodnetMarket.sol";
import {CourtParams, PodnetRoles} from "../src/types/CourtTypes.sol";
import {MarketParams} from "../src/types/MarketTypes.sol";
import {NetworkParams} from "../src/types/NetworkTypes.sol";
import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";

/// @title PodnetLaunch
/// @notice What a Podnet deployment configures besides creating the contracts: the launch parameters and the
///         AccessManager roles. The deploy script and the forge test fixture both use it, so the tests run against
///         the wiring that is deployed.
/// @dev Internal functions only: they are inlined into the caller, so every AccessManager call is sent by the calling
///      contract's context (the broadcasting deployer in `Deploy`, the pranked admin in `MarketFixture`).
library PodnetLaunch {
    /// @notice Market parameters at launch; governance changes them later through the timelock.
    function marketParams() internal pure returns (MarketParams memory) {
        return MarketParams({
            feeBps: 100, // 1% of provider withdrawals
            unbondingDelay: 7 days,
            collateralSeconds: 1 days, // a day of the lease's price is locked from the provider's stake
            minLeaseDuration: 10 minutes,
            maxBidWindow: 1 days,
            acceptWindow: 1 days,
            maxBidsPerOrder: 20,
            reporterRewardBps: 1000, // 10% of a dark provider's slashed stake to whoever reports it
            darkSlashBps: 10_000, // a dark provider loses all of its locked collateral
            minProviderStake: 100e18,
            heartbeatThreshold: 10 minutes,
            jailCooldown: 1 days, // a provider reported dark waits a day before it may take work again
            disputeWindow: 2 days, // a lease's collateral stays locked, and disputable, for 2 days after it ends
            minBidCollateralBps: 5000 // a bid reserves at least the collateral of a bid at half the order's maximum
        });
    }

    /// @notice Autoscaler network parameters at launch; governance changes them later through the timelock.
    /// @dev A node heartbeats every minute and is dropped 90 s after its last one (one missed heartbeat plus half a
    ///      period of slack for a late transaction), so its apps move to another node within two heartbeat periods of
    ///      it going dark (the issue's goal), the other nodes' 2 s tick included.
    function networkParams() internal pure returns (NetworkParams memory) {
        return NetworkParams({
            minStake: 100e18,
            heartbeatPeriod: 60,
            livenessWindow: 90,
            exitDelay: 7 days // the stake stays a week after the node left
        });
    }

    /// @notice Dispute court parameters at launch; governance changes them later through the timelock.
    function courtParams() internal pure returns (CourtParams memory) {
        return CourtParams({disputeBond: 10e18, answerWindow: 2 days, rulingWindow: 5 days});
    }

    /// @notice Grants the roles: the court may hold and settle collateral in the market; `arbiter` may rule in the
    ///         court. Labels both roles.
    /// @dev The caller must hold the AccessManager's admin role.
    function wireRoles(AccessManager manager, IPodnetMarket market, IDisputeCourt court, address arbiter) internal {
        bytes4[] memory hooks = new bytes4[](2);
        hooks[0] = IPodnetMarket.holdCollateral.selector;
        hooks[1] = IPodnetMarket.settleDispute.selector;
        manager.setTargetFunctionRole(address(market), hooks, PodnetRoles.COURT);
        manager.grantRole(PodnetRoles.COURT, address(court), 0);

        bytes4[] memory rulings = new bytes4[](2);
        rulings[0] = IDisputeCourt.slash.selector;
        rulings[1] = IDisputeCourt.dismiss.selector;
        manager.setTargetFunctionRole(address(court), rulings, PodnetRoles.ARBITER);
        manager.grantRole(PodnetRoles.ARBITER, arbiter, 0);
        manager.labelRole(PodnetRoles.COURT, "COURT");
        manager.labelRole(PodnetRoles.ARBITER, "ARBITER");
    }
}
