// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Pricing, ProviderProfile, ProviderStatus, Resources} from "../types/MarketTypes.sol";

/// @title IProviderRegistry
/// @notice Where providers list themselves: API endpoint, encryption key, prices, capacity and attributes.
/// @dev Holds no tokens. The market reads it to tell whether a provider may take new work.
interface IProviderRegistry {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice `provider` is already registered.
    error RegistryAlreadyRegistered(address provider);
    /// @notice `provider` is not registered.
    error RegistryNotRegistered(address provider);
    /// @notice The endpoint is empty, longer than MAX_STRING_LENGTH or not an http(s) URL.
    error RegistryInvalidEndpoint(string endpoint);
    /// @notice The metadata URI is longer than MAX_STRING_LENGTH.
    error RegistryMetadataURITooLong(uint256 length, uint256 maxLength);
    /// @notice The X25519 encryption key is zero.
    error RegistryZeroEncryptionKey();
    /// @notice Capacity needs at least some CPU and memory.
    error RegistryInvalidCapacity(Resources capacity);
    /// @notice Every price is zero.
    error RegistryZeroPricing();
    /// @notice More attributes than MAX_ATTRIBUTES.
    error RegistryTooManyAttributes(uint256 count, uint256 maxCount);
    /// @notice Attribute number `index` is zero or repeats an earlier one.
    error RegistryInvalidAttribute(uint256 index, bytes32 attribute);
    /// @notice The provider is not in the status this call needs.
    error RegistryWrongStatus(address provider, ProviderStatus status);
    /// @notice More ingress addresses than MAX_INGRESS_ADDRESSES.
    error RegistryTooManyIngressAddresses(uint256 count, uint256 maxCount);
    /// @notice Ingress address number `index` (IPv4 first, then IPv6) is all zeros or repeats an earlier one.
    error RegistryInvalidIngressAddress(uint256 index);
    /// @notice The port is zero while addresses are given, or nonzero while none are.
    error RegistryInvalidIngressPort(uint16 port);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice A provider registered, with its whole profile.
    event ProviderRegistered(
        address indexed provider,
        string endpoint,
        string metadataURI,
        bytes32 encryptionKey,
        Pricing pricing,
        Resources capacity,
        bytes32[] attributes
    );
    /// @notice A provider replaced its profile.
    event ProviderUpdated(
        address indexed provider,
        string endpoint,
        string metadataURI,
        bytes32 encryptionKey,
        Pricing pricing,
        Resources capacity,
        bytes32[] attributes
    );
    /// @notice A provider published where its HTTP ingress listens (empty lists and port 0: it withdrew it). App DNS
    ///         answers these addresses for the apps the provider runs.
    event ProviderIngressSet(address indexed provider, bytes4[] ipv4, bytes16[] ipv6, uint16 port);
    /// @notice A provider stopped taking new leases and bids. Running leases go on.
    event ProviderPaused(address indexed provider);
    /// @notice A paused provider takes new work again.
    event ProviderResumed(address indexed provider);

    /*//////////////////////////////////////////////////////////////
                                 ACTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Registers the caller as a provider. It starts Active; it also needs stake in the market to work.
    function register(ProviderProfile calldata profile) external;

    /// @notice Replaces the caller's profile (endpoint, key, prices, capacity, attributes). Running leases keep
    ///         the price they were agreed at.
    function updateProfile(ProviderProfile calldata profile) external;

    /// @notice Stops the caller from taking new direct leases or placing bids. Running leases go on, and bids
    ///         already placed stay binding: the order's publisher can still accept them.
    function pause() external;

    /// @notice Lets a paused caller take new work again.
    function resume() external;

    /// @notice Publishes (replaces) where the caller's HTTP ingress listens: IPv4 and IPv6 addresses and one port.
    ///         Empty lists with port 0 withdraw it. Whether an address is public is for the reader to judge (App
    ///         DNS ignores private ones by default); the registry only keeps the list small and well formed.
    function setIngress(bytes4[] calldata ipv4, bytes16[] calldata ipv6, uint16 port) external;

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The provider's profile and status.
    function getProvider(address provider)
        external
        view
        returns (ProviderProfile memory profile, ProviderStatus status, uint40 registeredAt, uint40 updatedAt);

    /// @notice The provider's status (None when not registered).
    function statusOf(address provider) external view returns (ProviderStatus);

    /// @notice Whether the provider is registered and not paused.
    function isActive(address provider) external view returns (bool);

    /// @notice Whether the provider has every attribute in `required`; if not, the first one it lacks.
    function hasAttributes(address provider, bytes32[] calldata required)
        external
        view
        returns (bool ok, bytes32 missing);

    /// @notice The provider's listed price per second for `resources`.
    function priceFor(address provider, Resources calldata resources) external view returns (uint256);

    /// @notice Where the provider's HTTP ingress listens (empty with port 0 when it published none).
    function getIngress(address provider)
        external
        view
        returns (bytes4[] memory ipv4, bytes16[] memory ipv6, uint16 port);

    /// @notice Number of providers ever registered.
    function providerCount() external view returns (uint256);

    /// @notice The provider registered `index`-th (0-based), for enumeration.
    function providerAt(uint256 index) external view returns (address);
}
