// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AppLimits} from "../types/VaultTypes.sol";
import {IAutoscalerNetwork} from "./IAutoscalerNetwork.sol";
import {IDisputeCourt} from "./IDisputeCourt.sol";
import {IPodnetMarket} from "./IPodnetMarket.sol";

/// @title IAppVaultFactory
/// @notice Creates apps: each an AppVault clone (EIP-1167) at an address fixed by its owner and a salt the owner picks,
///         so a CLI or an autoscaler can compute an app's address before it exists.
interface IAppVaultFactory {
    /// @notice An address that must be set is zero (`field` names it).
    error VaultFactoryZeroAddress(string field);
    /// @notice The caller already created an app with this salt, at `vault`.
    error VaultFactoryAppExists(address vault);

    /// @notice `owner` created the app at `vault` with `salt`. Emitted before the vault's own setup events
    ///         (OwnershipTransferred, SpecUpdated, ConfigUpdated, LimitsSet, ControllerSet), so an indexer that follows
    ///         vaults from this event sees all of them.
    event AppCreated(
        address indexed vault, address indexed owner, bytes32 indexed salt, bytes32 specHash, bytes32 configHash
    );

    /// @notice Creates an app owned by the caller at `predictApp(msg.sender, salt)`.
    /// @param specHash The pod spec its leases must run (not zero).
    /// @param configHash The hash of its selection config (app.yaml); may be zero.
    /// @param limits What controllers may spend (all zero: nothing until the owner sets limits).
    /// @param controllers The first controllers (e.g. the autoscaler's key); more can be added later.
    function createApp(
        bytes32 salt,
        bytes32 specHash,
        bytes32 configHash,
        AppLimits calldata limits,
        address[] calldata controllers
    ) external returns (address vault);

    /// @notice The address of the app `owner` creates (or created) with `salt`.
    function predictApp(address owner, bytes32 salt) external view returns (address);

    /// @notice The AppVault every app is a clone of (created by this factory; never initialized itself).
    function implementation() external view returns (address);

    function market() external view returns (IPodnetMarket);

    function court() external view returns (IDisputeCourt);

    /// @notice The autoscaler network every app of this factory can hand itself to (network mode).
    function network() external view returns (IAutoscalerNetwork);
}
