// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Pricing, Resources} from "../types/MarketTypes.sol";

/// @title PricingMath
/// @notice The one pricing rule of Podnet: a provider's per-unit, per-second prices applied to a pod's resources.
/// @dev The SDK's protocol layer implements the same formula; both are tested against each other.
library PricingMath {
    /// @notice Price per second, in token base units, of `resources` at `pricing`.
    /// @dev Cannot overflow: each term is below 2^128, the sum below 2^130.
    function pricePerSecond(Pricing memory pricing, Resources memory resources) internal pure returns (uint256) {
        return uint256(resources.cpuMillis) * pricing.perCpuMilli + uint256(resources.memoryMiB) * pricing.perMemoryMiB
            + uint256(resources.storageMiB) * pricing.perStorageMiB + pricing.flat;
    }
}
