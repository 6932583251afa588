// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {NetworkParams, NodeInfo, NodeProfile} from "../types/NetworkTypes.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IAutoscalerNetwork
/// @notice The registry of autoscaler nodes that keep network-mode apps alive. Operators register a node (its API
///         endpoint, X25519 key and DNS address) with a stake and keep it live with heartbeats; apps in network mode
///         (AppVault `setNetworkTerms`) accept every live node as a controller, and pay the node that places a lease.
/// @dev Who serves which app is not decided here: every node computes the same rendezvous assignment over the live
///      nodes (sdk/src/protocol/assignment.ts), and the vault's slot compare-and-swap is the only arbiter when two
///      nodes act on one slot. A node whose heartbeats stop is no longer live: the vault refuses it, and the others
///      drop it from the assignment, so its apps move within one liveness window.
interface IAutoscalerNetwork {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    error NetworkAlreadyRegistered(address node);
    error NetworkNotRegistered(address node);
    error NetworkNotActive(address node);
    error NetworkStakeTooLow(uint256 stake, uint256 minStake);
    error NetworkZeroAmount();
    /// @notice `field` of the profile or parameters is invalid because of `reason`.
    error NetworkInvalid(string field, string reason);
    error NetworkExitPending(address node, uint256 exitAt);
    error NetworkTooManyNodes(uint256 max);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    event NodeRegistered(
        address indexed node, string endpoint, bytes32 encryptionKey, bytes4 dnsIpv4, bytes16 dnsIpv6, uint256 stake
    );
    event NodeUpdated(address indexed node, string endpoint, bytes32 encryptionKey, bytes4 dnsIpv4, bytes16 dnsIpv6);
    event NodeHeartbeat(address indexed node, uint256 at);
    event NodeStakeAdded(address indexed node, uint256 amount, uint256 stake);
    event NodeExitStarted(address indexed node, uint256 exitAt);
    event NodeStakeWithdrawn(address indexed node, uint256 amount);
    event NetworkParamsSet(uint96 minStake, uint32 heartbeatPeriod, uint32 livenessWindow, uint32 exitDelay);

    /*//////////////////////////////////////////////////////////////
                                 NODES
    //////////////////////////////////////////////////////////////*/

    /// @notice Registers the caller as a node with `profile`, pulling `stake` (at least `minStake`) from it. Counts as
    ///         its first heartbeat. A node that exited and withdrew may register again.
    function register(NodeProfile calldata profile, uint96 stake) external;

    /// @notice Replaces the caller's profile (an active node).
    function updateProfile(NodeProfile calldata profile) external;

    /// @notice The caller (an active node) is alive now.
    function heartbeat() external;

    /// @notice Adds `amount` to the caller's stake (an active node).
    function addStake(uint96 amount) external;

    /// @notice The caller leaves: not live from now on; its stake can be withdrawn after `exitDelay`.
    function startExit() external;

    /// @notice An exited node takes its stake back (after the exit delay); its record is cleared.
    function withdrawStake() external;

    /*//////////////////////////////////////////////////////////////
                               GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    /// @notice Sets the parameters (governance, through the AccessManager).
    function setParams(NetworkParams calldata params) external;

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    function token() external view returns (IERC20);

    function params() external view returns (NetworkParams memory);

    /// @notice Whether `node` is active and its last heartbeat is at most `livenessWindow` old.
    function isLive(address node) external view returns (bool);

    function getNode(address node) external view returns (NodeInfo memory);

    /// @notice Every address that ever registered, in order (exited ones included; `getNode` tells).
    function nodes() external view returns (address[] memory);

    /// @notice The live nodes now, in registration order.
    function liveNodes() external view returns (address[] memory);
}
