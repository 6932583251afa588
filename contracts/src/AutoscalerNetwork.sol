// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAutoscalerNetwork} from "./interfaces/IAutoscalerNetwork.sol";
import {NetworkParams, NodeInfo, NodeProfile, NodeStatus} from "./types/NetworkTypes.sol";
import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title AutoscalerNetwork
/// @notice The registry of autoscaler nodes that serve network-mode apps: profile, stake, heartbeats, exit.
/// @dev Liveness is the only thing apps rely on: AppVault asks `isLive` on every controller call of a node, and the
///      nodes compute who serves which app from `liveNodes()`. The stake is what a node costs: without it one operator
///      could register nodes for free until rendezvous hashing hands it most apps. Governed setters are `restricted`
///      through the AccessManager, like the market's.
contract AutoscalerNetwork is IAutoscalerNetwork, AccessManaged, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Longest endpoint, in bytes.
    uint256 public constant MAX_ENDPOINT_LENGTH = 256;
    /// @notice Most nodes registered at once (exited nodes count until they withdraw): `liveNodes()` loops over them.
    uint256 public constant MAX_NODES = 128;

    bytes7 private constant HTTP_SCHEME = "http://";
    bytes8 private constant HTTPS_SCHEME = "https://";

    /// @inheritdoc IAutoscalerNetwork
    IERC20 public immutable token;

    NetworkParams private _params;
    mapping(address node => NodeInfo) private _nodes;
    address[] private _list;
    /// @dev 1-based position in `_list` (0: not listed), for removal in O(1) when a node withdraws.
    mapping(address node => uint256) private _position;

    constructor(IERC20 token_, address authority, NetworkParams memory params_) AccessManaged(authority) {
        if (address(token_) == address(0)) revert NetworkInvalid("token", "zero address");
        token = token_;
        _setParams(params_);
    }

    /*//////////////////////////////////////////////////////////////
                                 NODES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAutoscalerNetwork
    function register(NodeProfile calldata profile, uint96 stake) external nonReentrant {
        NodeInfo storage info = _nodes[msg.sender];
        if (info.status != NodeStatus.None) revert NetworkAlreadyRegistered(msg.sender);
        _validate(profile);
        uint96 minStake = _params.minStake;
        if (stake < minStake || stake == 0) revert NetworkStakeTooLow(stake, minStake);
        if (_list.length >= MAX_NODES) revert NetworkTooManyNodes(MAX_NODES);

        info.status = NodeStatus.Active;
        info.registeredAt = uint40(block.timestamp);
        info.lastHeartbeat = uint40(block.timestamp);
        info.exitAt = 0;
        info.stake = stake;
        info.profile = profile;
        _list.push(msg.sender);
        _position[msg.sender] = _list.length;

        emit NodeRegistered(
            msg.sender, profile.endpoint, profile.encryptionKey, profile.dnsIpv4, profile.dnsIpv6, stake
        );
        emit NodeHeartbeat(msg.sender, block.timestamp);
        token.safeTransferFrom(msg.sender, address(this), stake);
    }

    /// @inheritdoc IAutoscalerNetwork
    function updateProfile(NodeProfile calldata profile) external {
        NodeInfo storage info = _activeNode(msg.sender);
        _validate(profile);
        info.profile = profile;
        emit NodeUpdated(msg.sender, profile.endpoint, profile.encryptionKey, profile.dnsIpv4, profile.dnsIpv6);
    }

    /// @inheritdoc IAutoscalerNetwork
    function heartbeat() external {
        NodeInfo storage info = _activeNode(msg.sender);
        info.lastHeartbeat = uint40(block.timestamp);
        emit NodeHeartbeat(msg.sender, block.timestamp);
    }

    /// @inheritdoc IAutoscalerNetwork
    function addStake(uint96 amount) external nonReentrant {
        NodeInfo storage info = _activeNode(msg.sender);
        if (amount == 0) revert NetworkZeroAmount();
        uint96 stake = info.stake + amount;
        info.stake = stake;
        emit NodeStakeAdded(msg.sender, amount, stake);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IAutoscalerNetwork
    function startExit() external {
        NodeInfo storage info = _activeNode(msg.sender);
        uint40 exitAt = uint40(block.timestamp + _params.exitDelay);
        info.status = NodeStatus.Exiting;
        info.exitAt = exitAt;
        emit NodeExitStarted(msg.sender, exitAt);
    }

    /// @inheritdoc IAutoscalerNetwork
    function withdrawStake() external nonReentrant {
        NodeInfo storage info = _nodes[msg.sender];
        if (info.status == NodeStatus.None) revert NetworkNotRegistered(msg.sender);
        if (info.status == NodeStatus.Active) revert NetworkNotActive(msg.sender);
        if (block.timestamp < info.exitAt) revert NetworkExitPending(msg.sender, info.exitAt);
        uint96 amount = info.stake;
        delete _nodes[msg.sender];
        _unlist(msg.sender);
        emit NodeStakeWithdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /*//////////////////////////////////////////////////////////////
                               GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAutoscalerNetwork
    function setParams(NetworkParams calldata params_) external restricted {
        _setParams(params_);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAutoscalerNetwork
    function params() external view returns (NetworkParams memory) {
        return _params;
    }

    /// @inheritdoc IAutoscalerNetwork
    function isLive(address node) public view returns (bool) {
        NodeInfo storage info = _nodes[node];
        return
            info.status == NodeStatus.Active && block.timestamp <= uint256(info.lastHeartbeat) + _params.livenessWindow;
    }

    /// @inheritdoc IAutoscalerNetwork
    function getNode(address node) external view returns (NodeInfo memory) {
        return _nodes[node];
    }

    /// @inheritdoc IAutoscalerNetwork
    function nodes() external view returns (address[] memory) {
        return _list;
    }

    /// @inheritdoc IAutoscalerNetwork
    function liveNodes() external view returns (address[] memory live) {
        uint256 count = _list.length;
        live = new address[](count);
        uint256 n;
        for (uint256 i; i < count; ++i) {
            address node = _list[i];
            if (isLive(node)) live[n++] = node;
        }
        // Shrink the array in place to the live ones.
        assembly ("memory-safe") {
            mstore(live, n)
        }
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _activeNode(address node) private view returns (NodeInfo storage info) {
        info = _nodes[node];
        if (info.status == NodeStatus.None) revert NetworkNotRegistered(node);
        if (info.status != NodeStatus.Active) revert NetworkNotActive(node);
    }

    function _unlist(address node) private {
        uint256 position = _position[node];
        uint256 last = _list.length;
        if (position != last) {
            address moved = _list[last - 1];
            _list[position - 1] = moved;
            _position[moved] = position;
        }
        _list.pop();
        delete _position[node];
    }

    function _setParams(NetworkParams memory params_) private {
        if (params_.minStake == 0) revert NetworkInvalid("minStake", "zero");
        if (params_.heartbeatPeriod == 0) revert NetworkInvalid("heartbeatPeriod", "zero");
        if (params_.livenessWindow < params_.heartbeatPeriod) {
            revert NetworkInvalid("livenessWindow", "shorter than heartbeatPeriod");
        }
        // The stake must outlive the node's apps moving away: at least one liveness window after it stops being live.
        if (params_.exitDelay < params_.livenessWindow) {
            revert NetworkInvalid("exitDelay", "shorter than livenessWindow");
        }
        _params = params_;
        emit NetworkParamsSet(params_.minStake, params_.heartbeatPeriod, params_.livenessWindow, params_.exitDelay);
    }

    function _validate(NodeProfile calldata profile) private pure {
        bytes calldata raw = bytes(profile.endpoint);
        bool ok = raw.length <= MAX_ENDPOINT_LENGTH
            && ((raw.length > 7 && bytes7(raw[:7]) == HTTP_SCHEME)
                || (raw.length > 8 && bytes8(raw[:8]) == HTTPS_SCHEME));
        if (!ok) revert NetworkInvalid("endpoint", "not an http(s) URL of at most 256 bytes");
        if (profile.encryptionKey == bytes32(0)) revert NetworkInvalid("encryptionKey", "zero");
    }
}
