// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Where an autoscaler node stands in the AutoscalerNetwork.
enum NodeStatus {
    /// @dev Never registered, or exited and withdrew its stake.
    None,
    /// @dev Registered and staked: live while its heartbeats are fresh.
    Active,
    /// @dev Left (or is leaving): never live again; the stake comes back after the exit delay.
    Exiting
}

/// @notice What a node publishes about itself.
struct NodeProfile {
    /// @dev The node's HTTP API (http:// or https://): app bundles are handed over here, app status is read here.
    string endpoint;
    /// @dev The node's X25519 public key: an app's content keys are wrapped to it (never plaintext on chain).
    bytes32 encryptionKey;
    /// @dev The IPv4 address its DNS server answers on (0: none), the NS glue of the app zone.
    bytes4 dnsIpv4;
    /// @dev The IPv6 address its DNS server answers on (0: none).
    bytes16 dnsIpv6;
}

/// @notice One node's record.
struct NodeInfo {
    NodeStatus status;
    uint40 registeredAt;
    /// @dev The block time of its last heartbeat (registering counts as one).
    uint40 lastHeartbeat;
    /// @dev When an exiting node may withdraw its stake.
    uint40 exitAt;
    uint96 stake;
    NodeProfile profile;
}

/// @notice The network's governed parameters.
struct NetworkParams {
    /// @dev Least stake a node registers with (token base units): a node costs something, so one operator cannot
    ///      cheaply register many nodes to be assigned most apps.
    uint96 minStake;
    /// @dev Seconds between a node's heartbeats.
    uint32 heartbeatPeriod;
    /// @dev A node is live while its last heartbeat is at most this old (>= heartbeatPeriod: one late transaction must
    ///      not drop a node).
    uint32 livenessWindow;
    /// @dev Seconds from startExit until the stake can be withdrawn.
    uint32 exitDelay;
}

/// @notice How an app pays the network's nodes (AppVault network mode).
/// @dev A fee per replacement is exact and needs no trust in anyone's clock: the vault pays it in the very call that
///      places a lease into a slot, to the node that made the call. The daily cap bounds what nodes can earn by
///      churning instances.
struct NetworkTerms {
    /// @dev Live nodes of the network may act as the app's controllers.
    bool enabled;
    /// @dev Paid to the node for each lease it places into a slot (replaceSlot, acceptBid).
    uint96 feePerReplacement;
    /// @dev Most fees paid in one UTC day (block time / 1 days); a replacement past it is paid what is left (maybe 0)
    ///      and still happens: the app must stay up.
    uint96 maxFeesPerDay;
}
