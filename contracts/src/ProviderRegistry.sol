// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";
import {PricingMath} from "./libraries/PricingMath.sol";
import {Pricing, ProviderProfile, ProviderStatus, Resources} from "./types/MarketTypes.sol";

/// @title ProviderRegistry
/// @notice Provider listings of the Podnet marketplace.
contract ProviderRegistry is IProviderRegistry {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Longest endpoint or metadata URI, in bytes.
    uint256 public constant MAX_STRING_LENGTH = 256;
    /// @notice Most attributes one provider lists.
    uint256 public constant MAX_ATTRIBUTES = 32;
    /// @notice Most ingress addresses (IPv4 and IPv6 together) one provider publishes: a DNS answer stays small.
    uint256 public constant MAX_INGRESS_ADDRESSES = 8;

    bytes7 private constant HTTP_SCHEME = "http://";
    bytes8 private constant HTTPS_SCHEME = "https://";

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    struct Record {
        ProviderStatus status;
        uint40 registeredAt;
        uint40 updatedAt;
        ProviderProfile profile;
    }

    mapping(address provider => Record) private _records;
    mapping(address provider => mapping(bytes32 attribute => bool)) private _hasAttribute;

    struct Ingress {
        bytes4[] ipv4;
        bytes16[] ipv6;
        uint16 port;
    }

    mapping(address provider => Ingress) private _ingress;
    address[] private _providers;

    /*//////////////////////////////////////////////////////////////
                                ACTIONS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IProviderRegistry
    function register(ProviderProfile calldata profile) external {
        Record storage record = _records[msg.sender];
        if (record.status != ProviderStatus.None) revert RegistryAlreadyRegistered(msg.sender);
        _validate(profile);

        record.status = ProviderStatus.Active;
        record.registeredAt = uint40(block.timestamp);
        record.updatedAt = uint40(block.timestamp);
        _store(record, profile);
        _providers.push(msg.sender);

        emit ProviderRegistered(
            msg.sender,
            profile.endpoint,
            profile.metadataURI,
            profile.encryptionKey,
            profile.pricing,
            profile.capacity,
            profile.attributes
        );
    }

    /// @inheritdoc IProviderRegistry
    function updateProfile(ProviderProfile calldata profile) external {
        Record storage record = _records[msg.sender];
        if (record.status == ProviderStatus.None) revert RegistryNotRegistered(msg.sender);
        _validate(profile);

        bytes32[] storage old = record.profile.attributes;
        for (uint256 i; i < old.length; ++i) {
            delete _hasAttribute[msg.sender][old[i]];
        }
        record.updatedAt = uint40(block.timestamp);
        _store(record, profile);

        emit ProviderUpdated(
            msg.sender,
            profile.endpoint,
            profile.metadataURI,
            profile.encryptionKey,
            profile.pricing,
            profile.capacity,
            profile.attributes
        );
    }

    /// @inheritdoc IProviderRegistry
    function pause() external {
        Record storage record = _records[msg.sender];
        if (record.status != ProviderStatus.Active) revert RegistryWrongStatus(msg.sender, record.status);
        record.status = ProviderStatus.Paused;
        emit ProviderPaused(msg.sender);
    }

    /// @inheritdoc IProviderRegistry
    function resume() external {
        Record storage record = _records[msg.sender];
        if (record.status != ProviderStatus.Paused) revert RegistryWrongStatus(msg.sender, record.status);
        record.status = ProviderStatus.Active;
        emit ProviderResumed(msg.sender);
    }

    /// @inheritdoc IProviderRegistry
    function setIngress(bytes4[] calldata ipv4, bytes16[] calldata ipv6, uint16 port) external {
        if (_records[msg.sender].status == ProviderStatus.None) revert RegistryNotRegistered(msg.sender);
        uint256 count = ipv4.length + ipv6.length;
        if (count > MAX_INGRESS_ADDRESSES) revert RegistryTooManyIngressAddresses(count, MAX_INGRESS_ADDRESSES);
        if ((count == 0) != (port == 0)) revert RegistryInvalidIngressPort(port);
        // O(n^2) duplicate check over at most 8 addresses: cheaper than marking them in storage.
        for (uint256 i; i < ipv4.length; ++i) {
            if (ipv4[i] == bytes4(0)) revert RegistryInvalidIngressAddress(i);
            for (uint256 j; j < i; ++j) {
                if (ipv4[j] == ipv4[i]) revert RegistryInvalidIngressAddress(i);
            }
        }
        for (uint256 i; i < ipv6.length; ++i) {
            if (ipv6[i] == bytes16(0)) revert RegistryInvalidIngressAddress(ipv4.length + i);
            for (uint256 j; j < i; ++j) {
                if (ipv6[j] == ipv6[i]) revert RegistryInvalidIngressAddress(ipv4.length + i);
            }
        }
        Ingress storage stored = _ingress[msg.sender];
        stored.ipv4 = ipv4;
        stored.ipv6 = ipv6;
        stored.port = port;
        emit ProviderIngressSet(msg.sender, ipv4, ipv6, port);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IProviderRegistry
    function getProvider(address provider)
        external
        view
        returns (ProviderProfile memory profile, ProviderStatus status, uint40 registeredAt, uint40 updatedAt)
    {
        Record storage record = _records[provider];
        return (record.profile, record.status, record.registeredAt, record.updatedAt);
    }

    /// @inheritdoc IProviderRegistry
    function statusOf(address provider) external view returns (ProviderStatus) {
        return _records[provider].status;
    }

    /// @inheritdoc IProviderRegistry
    function isActive(address provider) external view returns (bool) {
        return _records[provider].status == ProviderStatus.Active;
    }

    /// @inheritdoc IProviderRegistry
    function hasAttributes(address provider, bytes32[] calldata required)
        external
        view
        returns (bool ok, bytes32 missing)
    {
        mapping(bytes32 => bool) storage has = _hasAttribute[provider];
        for (uint256 i; i < required.length; ++i) {
            if (!has[required[i]]) return (false, required[i]);
        }
        return (true, bytes32(0));
    }

    /// @inheritdoc IProviderRegistry
    function priceFor(address provider, Resources calldata resources) external view returns (uint256) {
        Record storage record = _records[provider];
        if (record.status == ProviderStatus.None) revert RegistryNotRegistered(provider);
        return PricingMath.pricePerSecond(record.profile.pricing, resources);
    }

    /// @inheritdoc IProviderRegistry
    function getIngress(address provider)
        external
        view
        returns (bytes4[] memory ipv4, bytes16[] memory ipv6, uint16 port)
    {
        Ingress storage stored = _ingress[provider];
        return (stored.ipv4, stored.ipv6, stored.port);
    }

    /// @inheritdoc IProviderRegistry
    function providerCount() external view returns (uint256) {
        return _providers.length;
    }

    /// @inheritdoc IProviderRegistry
    function providerAt(uint256 index) external view returns (address) {
        return _providers[index];
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _store(Record storage record, ProviderProfile calldata profile) private {
        ProviderProfile storage stored = record.profile;
        stored.endpoint = profile.endpoint;
        stored.metadataURI = profile.metadataURI;
        stored.encryptionKey = profile.encryptionKey;
        stored.pricing = profile.pricing;
        stored.capacity = profile.capacity;
        stored.attributes = profile.attributes;
        for (uint256 i; i < profile.attributes.length; ++i) {
            _hasAttribute[msg.sender][profile.attributes[i]] = true;
        }
    }

    /// @dev Duplicate attributes are caught against the previous ones in a small O(n^2) loop (n <= 32), which is
    ///      cheaper than marking them in storage first.
    function _validate(ProviderProfile calldata profile) private pure {
        _validateEndpoint(profile.endpoint);
        uint256 uriLength = bytes(profile.metadataURI).length;
        if (uriLength > MAX_STRING_LENGTH) revert RegistryMetadataURITooLong(uriLength, MAX_STRING_LENGTH);
        if (profile.encryptionKey == bytes32(0)) revert RegistryZeroEncryptionKey();
        if (profile.capacity.cpuMillis == 0 || profile.capacity.memoryMiB == 0) {
            revert RegistryInvalidCapacity(profile.capacity);
        }
        Pricing calldata pricing = profile.pricing;
        if (pricing.perCpuMilli == 0 && pricing.perMemoryMiB == 0 && pricing.perStorageMiB == 0 && pricing.flat == 0) {
            revert RegistryZeroPricing();
        }
        bytes32[] calldata attributes = profile.attributes;
        if (attributes.length > MAX_ATTRIBUTES) revert RegistryTooManyAttributes(attributes.length, MAX_ATTRIBUTES);
        for (uint256 i; i < attributes.length; ++i) {
            if (attributes[i] == bytes32(0)) revert RegistryInvalidAttribute(i, attributes[i]);
            for (uint256 j; j < i; ++j) {
                if (attributes[j] == attributes[i]) revert RegistryInvalidAttribute(i, attributes[i]);
            }
        }
    }

    function _validateEndpoint(string calldata endpoint) private pure {
        bytes calldata raw = bytes(endpoint);
        bool ok = raw.length <= MAX_STRING_LENGTH
            && ((raw.length > 7 && bytes7(raw[:7]) == HTTP_SCHEME)
                || (raw.length > 8 && bytes8(raw[:8]) == HTTPS_SCHEME));
        if (!ok) revert RegistryInvalidEndpoint(endpoint);
    }
}
