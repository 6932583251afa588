// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AppVault} from "./AppVault.sol";
import {IAppVaultFactory} from "./interfaces/IAppVaultFactory.sol";
import {IAutoscalerNetwork} from "./interfaces/IAutoscalerNetwork.sol";
import {IDisputeCourt} from "./interfaces/IDisputeCourt.sol";
import {IPodnetMarket} from "./interfaces/IPodnetMarket.sol";
import {AppLimits} from "./types/VaultTypes.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";

/// @title AppVaultFactory
/// @notice Creates apps of the autoscaler protocol: each an EIP-1167 clone of one AppVault, at an address fixed by
///         the owner and a salt, initialized in the same transaction.
/// @dev The implementation is created by this constructor, so it knows this factory as the only account that may
///      initialize clones. A clone costs a fraction of a full vault deployment.
contract AppVaultFactory is IAppVaultFactory {
    /// @inheritdoc IAppVaultFactory
    address public immutable implementation;
    /// @inheritdoc IAppVaultFactory
    IPodnetMarket public immutable market;
    /// @inheritdoc IAppVaultFactory
    IDisputeCourt public immutable court;
    /// @inheritdoc IAppVaultFactory
    IAutoscalerNetwork public immutable network;

    constructor(IPodnetMarket market_, IDisputeCourt court_, IAutoscalerNetwork network_) {
        if (address(market_) == address(0)) revert VaultFactoryZeroAddress("market");
        if (address(court_) == address(0)) revert VaultFactoryZeroAddress("court");
        if (address(network_) == address(0)) revert VaultFactoryZeroAddress("network");
        market = market_;
        court = court_;
        network = network_;
        implementation = address(new AppVault(market_, court_, network_));
    }

    /// @inheritdoc IAppVaultFactory
    function createApp(
        bytes32 salt,
        bytes32 specHash,
        bytes32 configHash,
        AppLimits calldata limits,
        address[] calldata controllers
    ) external returns (address vault) {
        bytes32 cloneSalt = _cloneSalt(msg.sender, salt);
        address predicted = Clones.predictDeterministicAddress(implementation, cloneSalt);
        if (predicted.code.length != 0) revert VaultFactoryAppExists(predicted);
        vault = Clones.cloneDeterministic(implementation, cloneSalt);
        // Before the vault's own setup events, so that an indexer following vaults from this event sees them all.
        emit AppCreated(vault, msg.sender, salt, specHash, configHash);
        AppVault(vault).initialize(msg.sender, specHash, configHash, limits, controllers);
    }

    /// @inheritdoc IAppVaultFactory
    function predictApp(address owner, bytes32 salt) external view returns (address) {
        return Clones.predictDeterministicAddress(implementation, _cloneSalt(owner, salt));
    }

    /// @dev The owner is part of the salt: nobody can take (or front-run) another owner's app address.
    function _cloneSalt(address owner, bytes32 salt) private pure returns (bytes32) {
        return keccak256(abi.encode(owner, salt));
    }
}
