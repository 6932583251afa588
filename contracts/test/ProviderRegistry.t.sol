// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IProviderRegistry} from "../src/interfaces/IProviderRegistry.sol";
import {Pricing, ProviderProfile, ProviderStatus, Resources} from "../src/types/MarketTypes.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {stdError} from "forge-std/StdError.sol";

contract ProviderRegistryTest is MarketFixture {
    bytes32 internal constant GPU_A100 = "gpu=a100";

    /*//////////////////////////////////////////////////////////////
                                HELPERS
    //////////////////////////////////////////////////////////////*/

    function _filled(uint256 length) internal pure returns (bytes memory raw) {
        raw = new bytes(length);
        for (uint256 i; i < length; ++i) {
            raw[i] = "a";
        }
    }

    /// @dev An https endpoint of exactly `length` bytes (length >= 9).
    function _endpointOfLength(uint256 length) internal pure returns (string memory) {
        return string(abi.encodePacked("https://", _filled(length - 8)));
    }

    function _attributes(uint256 count) internal pure returns (bytes32[] memory attributes) {
        attributes = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            attributes[i] = bytes32(i + 1);
        }
    }

    function _one(bytes32 attribute) internal pure returns (bytes32[] memory attributes) {
        attributes = new bytes32[](1);
        attributes[0] = attribute;
    }

    function _updatedProfile() internal pure returns (ProviderProfile memory profile) {
        bytes32[] memory attributes = new bytes32[](2);
        attributes[0] = GPU_A100;
        attributes[1] = TEE_SGX;
        profile = ProviderProfile({
            endpoint: "http://10.0.0.1:8080",
            metadataURI: "",
            encryptionKey: keccak256("rotated x25519 key"),
            pricing: Pricing({perCpuMilli: 0, perMemoryMiB: 0, perStorageMiB: 0, flat: 5}),
            capacity: Resources({cpuMillis: 1, memoryMiB: 1, storageMiB: 0}),
            attributes: attributes
        });
    }

    function _assertProfile(ProviderProfile memory actual, ProviderProfile memory expected) internal pure {
        assertEq(actual.endpoint, expected.endpoint, "endpoint");
        assertEq(actual.metadataURI, expected.metadataURI, "metadataURI");
        assertEq(actual.encryptionKey, expected.encryptionKey, "encryptionKey");
        assertEq(actual.pricing.perCpuMilli, expected.pricing.perCpuMilli, "perCpuMilli");
        assertEq(actual.pricing.perMemoryMiB, expected.pricing.perMemoryMiB, "perMemoryMiB");
        assertEq(actual.pricing.perStorageMiB, expected.pricing.perStorageMiB, "perStorageMiB");
        assertEq(actual.pricing.flat, expected.pricing.flat, "flat");
        assertEq(actual.capacity.cpuMillis, expected.capacity.cpuMillis, "cpuMillis");
        assertEq(actual.capacity.memoryMiB, expected.capacity.memoryMiB, "memoryMiB");
        assertEq(actual.capacity.storageMiB, expected.capacity.storageMiB, "storageMiB");
        assertEq(actual.attributes, expected.attributes, "attributes");
    }

    function _expectRegisterRevert(ProviderProfile memory profile, bytes memory reason) internal {
        vm.expectRevert(reason);
        vm.prank(provider);
        registry.register(profile);
    }

    /*//////////////////////////////////////////////////////////////
                                REGISTER
    //////////////////////////////////////////////////////////////*/

    function test_register_storesProfileAndStatus() public {
        ProviderProfile memory profile = defaultProfile();
        vm.prank(provider);
        registry.register(profile);

        (ProviderProfile memory stored, ProviderStatus status, uint40 registeredAt, uint40 updatedAt) =
            registry.getProvider(provider);
        _assertProfile(stored, profile);
        assertEq(uint8(status), uint8(ProviderStatus.Active));
        assertEq(registeredAt, START_TIME);
        assertEq(updatedAt, START_TIME);
        assertEq(uint8(registry.statusOf(provider)), uint8(ProviderStatus.Active));
        assertTrue(registry.isActive(provider));
        assertEq(registry.providerCount(), 1);
        assertEq(registry.providerAt(0), provider);
    }

    function test_register_emitsProviderRegistered() public {
        ProviderProfile memory profile = defaultProfile();
        vm.expectEmit(true, false, false, true, address(registry));
        emit IProviderRegistry.ProviderRegistered(
            provider,
            profile.endpoint,
            profile.metadataURI,
            profile.encryptionKey,
            profile.pricing,
            profile.capacity,
            profile.attributes
        );
        vm.prank(provider);
        registry.register(profile);
    }

    function test_register_enumeratesProvidersInOrder() public {
        _register(provider2);
        _register(provider);
        assertEq(registry.providerCount(), 2);
        assertEq(registry.providerAt(0), provider2);
        assertEq(registry.providerAt(1), provider);
    }

    function test_register_acceptsBoundaryValues() public {
        ProviderProfile memory profile = defaultProfile();
        profile.endpoint = _endpointOfLength(256);
        profile.metadataURI = string(_filled(256));
        profile.attributes = _attributes(32);
        profile.pricing = Pricing({perCpuMilli: 0, perMemoryMiB: 0, perStorageMiB: 1, flat: 0});
        profile.capacity = Resources({cpuMillis: 1, memoryMiB: 1, storageMiB: 0});
        vm.prank(provider);
        registry.register(profile);

        (ProviderProfile memory stored,,,) = registry.getProvider(provider);
        _assertProfile(stored, profile);
        assertEq(bytes(stored.endpoint).length, 256);
        (bool ok,) = registry.hasAttributes(provider, _attributes(32));
        assertTrue(ok);
    }

    function test_register_acceptsShortestHttpAndHttpsEndpoints() public {
        ProviderProfile memory profile = defaultProfile();
        profile.endpoint = "http://a";
        vm.prank(provider);
        registry.register(profile);

        profile.endpoint = "https://a";
        vm.prank(provider2);
        registry.register(profile);

        (ProviderProfile memory stored,,,) = registry.getProvider(provider);
        assertEq(stored.endpoint, "http://a");
        (stored,,,) = registry.getProvider(provider2);
        assertEq(stored.endpoint, "https://a");
    }

    function test_register_revertsWhenAlreadyRegistered() public {
        _register(provider);
        _expectRegisterRevert(
            defaultProfile(), abi.encodeWithSelector(IProviderRegistry.RegistryAlreadyRegistered.selector, provider)
        );
    }

    function test_register_revertsWhenAlreadyRegisteredAndPaused() public {
        _register(provider);
        vm.prank(provider);
        registry.pause();
        _expectRegisterRevert(
            defaultProfile(), abi.encodeWithSelector(IProviderRegistry.RegistryAlreadyRegistered.selector, provider)
        );
    }

    function test_register_revertsWhenEndpointEmpty() public {
        ProviderProfile memory profile = defaultProfile();
        profile.endpoint = "";
        _expectRegisterRevert(profile, abi.encodeWithSelector(IProviderRegistry.RegistryInvalidEndpoint.selector, ""));
    }

    function test_register_revertsWhenEndpointNotHttp() public {
        ProviderProfile memory profile = defaultProfile();
        profile.endpoint = "ftp://x";
        _expectRegisterRevert(
            profile, abi.encodeWithSelector(IProviderRegistry.RegistryInvalidEndpoint.selector, "ftp://x")
        );
    }

    function test_register_revertsWhenEndpointSchemeOnly() public {
        ProviderProfile memory profile = defaultProfile();
        profile.endpoint = "http://";
        _expectRegisterRevert(
            profile, abi.encodeWithSelector(IProviderRegistry.RegistryInvalidEndpoint.selector, "http://")
        );

        profile.endpoint = "https://";
        _expectRegisterRevert(
            profile, abi.encodeWithSelector(IProviderRegistry.RegistryInvalidEndpoint.selector, "https://")
        );
    }

    function test_register_revertsWhenEndpointSchemeIsUppercase() public {
        ProviderProfile memory profile = defaultProfile();
        profile.endpoint = "HTTPS://provider.example";
        _expectRegisterRevert(
            profile,
            abi.encodeWithSelector(IProviderRegistry.RegistryInvalidEndpoint.selector, "HTTPS://provider.example")
        );
    }

    function test_register_revertsWhenEndpointTooLong() public {
        ProviderProfile memory profile = defaultProfile();
        string memory endpoint = _endpointOfLength(257);
        assertEq(bytes(endpoint).length, 257);
        profile.endpoint = endpoint;
        _expectRegisterRevert(
            profile, abi.encodeWithSelector(IProviderRegistry.RegistryInvalidEndpoint.selector, endpoint)
        );
    }

    function test_register_revertsWhenMetadataURITooLong() public {
        ProviderProfile memory profile = defaultProfile();
        profile.metadataURI = string(_filled(257));
        _expectRegisterRevert(
            profile, abi.encodeWithSelector(IProviderRegistry.RegistryMetadataURITooLong.selector, 257, 256)
        );
    }

    function test_register_revertsWhenEncryptionKeyZero() public {
        ProviderProfile memory profile = defaultProfile();
        profile.encryptionKey = bytes32(0);
        _expectRegisterRevert(profile, abi.encodeWithSelector(IProviderRegistry.RegistryZeroEncryptionKey.selector));
    }

    function test_register_revertsWhenCapacityHasNoCpu() public {
        ProviderProfile memory profile = defaultProfile();
        profile.capacity = Resources({cpuMillis: 0, memoryMiB: 1024, storageMiB: 1024});
        _expectRegisterRevert(
            profile, abi.encodeWithSelector(IProviderRegistry.RegistryInvalidCapacity.selector, profile.capacity)
        );
    }

    function test_register_revertsWhenCapacityHasNoMemory() public {
        ProviderProfile memory profile = defaultProfile();
        profile.capacity = Resources({cpuMillis: 1000, memoryMiB: 0, storageMiB: 1024});
        _expectRegisterRevert(
            profile, abi.encodeWithSelector(IProviderRegistry.RegistryInvalidCapacity.selector, profile.capacity)
        );
    }

    function test_register_revertsWhenPricingZero() public {
        ProviderProfile memory profile = defaultProfile();
        profile.pricing = Pricing({perCpuMilli: 0, perMemoryMiB: 0, perStorageMiB: 0, flat: 0});
        _expectRegisterRevert(profile, abi.encodeWithSelector(IProviderRegistry.RegistryZeroPricing.selector));
    }

    function test_register_revertsWhenTooManyAttributes() public {
        ProviderProfile memory profile = defaultProfile();
        profile.attributes = _attributes(33);
        _expectRegisterRevert(
            profile, abi.encodeWithSelector(IProviderRegistry.RegistryTooManyAttributes.selector, 33, 32)
        );
    }

    function test_register_revertsWhenAttributeZero() public {
        ProviderProfile memory profile = defaultProfile();
        bytes32[] memory attributes = _attributes(3);
        attributes[2] = bytes32(0);
        profile.attributes = attributes;
        _expectRegisterRevert(
            profile, abi.encodeWithSelector(IProviderRegistry.RegistryInvalidAttribute.selector, 2, bytes32(0))
        );
    }

    function test_register_revertsWhenAttributeDuplicated() public {
        ProviderProfile memory profile = defaultProfile();
        bytes32[] memory attributes = new bytes32[](4);
        attributes[0] = REGION_EU;
        attributes[1] = TEE_SGX;
        attributes[2] = GPU_A100;
        attributes[3] = REGION_EU;
        profile.attributes = attributes;
        _expectRegisterRevert(
            profile, abi.encodeWithSelector(IProviderRegistry.RegistryInvalidAttribute.selector, 3, REGION_EU)
        );
    }

    function test_register_failedAttemptLeavesNoTrace() public {
        ProviderProfile memory profile = defaultProfile();
        profile.encryptionKey = bytes32(0);
        _expectRegisterRevert(profile, abi.encodeWithSelector(IProviderRegistry.RegistryZeroEncryptionKey.selector));

        assertEq(uint8(registry.statusOf(provider)), uint8(ProviderStatus.None));
        assertEq(registry.providerCount(), 0);
        (bool ok, bytes32 missing) = registry.hasAttributes(provider, _one(REGION_EU));
        assertFalse(ok);
        assertEq(missing, REGION_EU);
    }

    /*//////////////////////////////////////////////////////////////
                             UPDATE PROFILE
    //////////////////////////////////////////////////////////////*/

    function test_updateProfile_replacesProfile() public {
        _register(provider);
        vm.warp(START_TIME + 1 days);
        ProviderProfile memory profile = _updatedProfile();
        vm.prank(provider);
        registry.updateProfile(profile);

        (ProviderProfile memory stored, ProviderStatus status, uint40 registeredAt, uint40 updatedAt) =
            registry.getProvider(provider);
        _assertProfile(stored, profile);
        assertEq(uint8(status), uint8(ProviderStatus.Active));
        assertEq(registeredAt, START_TIME);
        assertEq(updatedAt, START_TIME + 1 days);
        assertEq(registry.providerCount(), 1, "update does not enumerate twice");
    }

    function test_updateProfile_emitsProviderUpdated() public {
        _register(provider);
        ProviderProfile memory profile = _updatedProfile();
        vm.expectEmit(true, false, false, true, address(registry));
        emit IProviderRegistry.ProviderUpdated(
            provider,
            profile.endpoint,
            profile.metadataURI,
            profile.encryptionKey,
            profile.pricing,
            profile.capacity,
            profile.attributes
        );
        vm.prank(provider);
        registry.updateProfile(profile);
    }

    function test_updateProfile_replacesAttributes() public {
        _register(provider);
        // default: REGION_EU, TEE_SGX; updated: GPU_A100, TEE_SGX
        vm.prank(provider);
        registry.updateProfile(_updatedProfile());

        (bool ok, bytes32 missing) = registry.hasAttributes(provider, _one(REGION_EU));
        assertFalse(ok, "old attribute dropped");
        assertEq(missing, REGION_EU);
        (ok, missing) = registry.hasAttributes(provider, _one(TEE_SGX));
        assertTrue(ok, "kept attribute still there");
        assertEq(missing, bytes32(0));
        (ok,) = registry.hasAttributes(provider, _one(GPU_A100));
        assertTrue(ok, "new attribute added");
    }

    function test_updateProfile_toNoAttributesClearsAll() public {
        _register(provider);
        ProviderProfile memory profile = defaultProfile();
        profile.attributes = new bytes32[](0);
        vm.prank(provider);
        registry.updateProfile(profile);

        (bool ok, bytes32 missing) = registry.hasAttributes(provider, _one(TEE_SGX));
        assertFalse(ok);
        assertEq(missing, TEE_SGX);
        (ProviderProfile memory stored,,,) = registry.getProvider(provider);
        assertEq(stored.attributes.length, 0);
    }

    function test_updateProfile_keepsPausedStatus() public {
        _register(provider);
        vm.prank(provider);
        registry.pause();
        vm.prank(provider);
        registry.updateProfile(_updatedProfile());
        assertEq(uint8(registry.statusOf(provider)), uint8(ProviderStatus.Paused));
        assertFalse(registry.isActive(provider));
    }

    function test_updateProfile_changesPriceFor() public {
        _register(provider);
        vm.prank(provider);
        registry.updateProfile(_updatedProfile());
        assertEq(registry.priceFor(provider, defaultResources()), 5);
    }

    function test_updateProfile_revertsWhenNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.RegistryNotRegistered.selector, provider));
        vm.prank(provider);
        registry.updateProfile(defaultProfile());
    }

    function test_updateProfile_revertsWhenEndpointInvalid() public {
        _register(provider);
        ProviderProfile memory profile = defaultProfile();
        profile.endpoint = "http://";
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.RegistryInvalidEndpoint.selector, "http://"));
        vm.prank(provider);
        registry.updateProfile(profile);
    }

    function test_updateProfile_revertsWhenAttributeDuplicated() public {
        _register(provider);
        ProviderProfile memory profile = defaultProfile();
        bytes32[] memory attributes = new bytes32[](2);
        attributes[0] = GPU_A100;
        attributes[1] = GPU_A100;
        profile.attributes = attributes;
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.RegistryInvalidAttribute.selector, 1, GPU_A100));
        vm.prank(provider);
        registry.updateProfile(profile);

        // the old attributes survive the failed update
        (bool ok,) = registry.hasAttributes(provider, defaultProfile().attributes);
        assertTrue(ok);
    }

    function test_updateProfile_revertsWhenPricingZero() public {
        _register(provider);
        ProviderProfile memory profile = defaultProfile();
        profile.pricing = Pricing({perCpuMilli: 0, perMemoryMiB: 0, perStorageMiB: 0, flat: 0});
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.RegistryZeroPricing.selector));
        vm.prank(provider);
        registry.updateProfile(profile);
    }

    /*//////////////////////////////////////////////////////////////
                             PAUSE / RESUME
    //////////////////////////////////////////////////////////////*/

    function test_pause_setsPausedAndEmits() public {
        _register(provider);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IProviderRegistry.ProviderPaused(provider);
        vm.prank(provider);
        registry.pause();

        assertEq(uint8(registry.statusOf(provider)), uint8(ProviderStatus.Paused));
        assertFalse(registry.isActive(provider));
        (, ProviderStatus status,,) = registry.getProvider(provider);
        assertEq(uint8(status), uint8(ProviderStatus.Paused));
    }

    function test_pause_revertsWhenNotRegistered() public {
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.RegistryWrongStatus.selector, provider, ProviderStatus.None)
        );
        vm.prank(provider);
        registry.pause();
    }

    function test_pause_revertsWhenAlreadyPaused() public {
        _register(provider);
        vm.prank(provider);
        registry.pause();
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.RegistryWrongStatus.selector, provider, ProviderStatus.Paused)
        );
        vm.prank(provider);
        registry.pause();
    }

    function test_resume_setsActiveAndEmits() public {
        _register(provider);
        vm.prank(provider);
        registry.pause();

        vm.expectEmit(true, false, false, true, address(registry));
        emit IProviderRegistry.ProviderResumed(provider);
        vm.prank(provider);
        registry.resume();

        assertEq(uint8(registry.statusOf(provider)), uint8(ProviderStatus.Active));
        assertTrue(registry.isActive(provider));
    }

    function test_resume_revertsWhenActive() public {
        _register(provider);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.RegistryWrongStatus.selector, provider, ProviderStatus.Active)
        );
        vm.prank(provider);
        registry.resume();
    }

    function test_resume_revertsWhenNotRegistered() public {
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.RegistryWrongStatus.selector, provider, ProviderStatus.None)
        );
        vm.prank(provider);
        registry.resume();
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    function test_getProvider_returnsEmptyForUnknown() public view {
        (ProviderProfile memory profile, ProviderStatus status, uint40 registeredAt, uint40 updatedAt) =
            registry.getProvider(stranger);
        assertEq(bytes(profile.endpoint).length, 0);
        assertEq(bytes(profile.metadataURI).length, 0);
        assertEq(profile.encryptionKey, bytes32(0));
        assertEq(profile.attributes.length, 0);
        assertEq(uint8(status), uint8(ProviderStatus.None));
        assertEq(registeredAt, 0);
        assertEq(updatedAt, 0);
    }

    function test_statusOf_andIsActive_forUnknown() public view {
        assertEq(uint8(registry.statusOf(stranger)), uint8(ProviderStatus.None));
        assertFalse(registry.isActive(stranger));
    }

    function test_hasAttributes_returnsFirstMissing() public {
        _register(provider);
        bytes32[] memory required = new bytes32[](4);
        required[0] = TEE_SGX;
        required[1] = GPU_A100;
        required[2] = REGION_EU;
        required[3] = "zone=b";
        (bool ok, bytes32 missing) = registry.hasAttributes(provider, required);
        assertFalse(ok);
        assertEq(missing, GPU_A100);
    }

    function test_hasAttributes_trueWhenAllPresent() public {
        _register(provider);
        bytes32[] memory required = new bytes32[](2);
        required[0] = TEE_SGX;
        required[1] = REGION_EU;
        (bool ok, bytes32 missing) = registry.hasAttributes(provider, required);
        assertTrue(ok);
        assertEq(missing, bytes32(0));
    }

    function test_hasAttributes_trueForEmptyRequirement() public view {
        (bool ok, bytes32 missing) = registry.hasAttributes(stranger, new bytes32[](0));
        assertTrue(ok);
        assertEq(missing, bytes32(0));
    }

    function test_hasAttributes_isPerProvider() public {
        _register(provider);
        (bool ok, bytes32 missing) = registry.hasAttributes(provider2, _one(REGION_EU));
        assertFalse(ok);
        assertEq(missing, REGION_EU);
    }

    function test_priceFor_appliesPricing() public {
        _register(provider);
        // 500 * 1e8 + 512 * 1e8 + 1024 * 1e7 + 1e9
        assertEq(registry.priceFor(provider, defaultResources()), 500e8 + 512e8 + 1024e7 + 1e9);
        assertEq(registry.priceFor(provider, Resources({cpuMillis: 0, memoryMiB: 0, storageMiB: 0})), 1e9);
    }

    function test_priceFor_worksWhilePaused() public {
        _register(provider);
        vm.prank(provider);
        registry.pause();
        assertEq(registry.priceFor(provider, defaultResources()), 500e8 + 512e8 + 1024e7 + 1e9);
    }

    function test_priceFor_revertsWhenNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.RegistryNotRegistered.selector, stranger));
        registry.priceFor(stranger, defaultResources());
    }

    function test_providerCount_startsAtZero() public view {
        assertEq(registry.providerCount(), 0);
    }

    function test_providerAt_revertsOutOfRange() public {
        _register(provider);
        vm.expectRevert(stdError.indexOOBError);
        registry.providerAt(1);
    }

    function test_constants() public view {
        assertEq(registry.MAX_STRING_LENGTH(), 256);
        assertEq(registry.MAX_ATTRIBUTES(), 32);
        assertEq(registry.MAX_INGRESS_ADDRESSES(), 8);
    }

    /*//////////////////////////////////////////////////////////////
                                INGRESS
    //////////////////////////////////////////////////////////////*/

    function _v4(uint256 count) internal pure returns (bytes4[] memory list) {
        list = new bytes4[](count);
        for (uint256 i; i < count; ++i) {
            list[i] = bytes4(uint32(0xcb007100 + i + 1)); // 203.0.113.<i+1>
        }
    }

    function _v6(uint256 count) internal pure returns (bytes16[] memory list) {
        list = new bytes16[](count);
        for (uint256 i; i < count; ++i) {
            list[i] = bytes16(uint128(0x20010db8000000000000000000000000) + uint128(i + 1)); // 2001:db8::<i+1>
        }
    }

    function _assertIngress(address who, bytes4[] memory ipv4, bytes16[] memory ipv6, uint16 port) internal view {
        (bytes4[] memory storedV4, bytes16[] memory storedV6, uint16 storedPort) = registry.getIngress(who);
        assertEq(storedV4.length, ipv4.length, "ipv4 count");
        for (uint256 i; i < ipv4.length; ++i) {
            assertEq(storedV4[i], ipv4[i], "ipv4");
        }
        assertEq(storedV6.length, ipv6.length, "ipv6 count");
        for (uint256 i; i < ipv6.length; ++i) {
            assertEq(storedV6[i], ipv6[i], "ipv6");
        }
        assertEq(storedPort, port, "port");
    }

    function test_setIngress_storesReplacesAndEmits() public {
        _register(provider);
        _assertIngress(provider, _v4(0), _v6(0), 0);

        vm.expectEmit(true, false, false, true, address(registry));
        emit IProviderRegistry.ProviderIngressSet(provider, _v4(2), _v6(1), 443);
        vm.prank(provider);
        registry.setIngress(_v4(2), _v6(1), 443);
        _assertIngress(provider, _v4(2), _v6(1), 443);

        // A shorter list replaces the whole set, nothing of the old one stays.
        vm.prank(provider);
        registry.setIngress(_v4(1), _v6(0), 80);
        _assertIngress(provider, _v4(1), _v6(0), 80);

        // Withdrawn: empty lists and port 0.
        vm.expectEmit(true, false, false, true, address(registry));
        emit IProviderRegistry.ProviderIngressSet(provider, _v4(0), _v6(0), 0);
        vm.prank(provider);
        registry.setIngress(_v4(0), _v6(0), 0);
        _assertIngress(provider, _v4(0), _v6(0), 0);
    }

    function test_setIngress_worksWhilePausedAndIsPerProvider() public {
        _register(provider);
        vm.prank(provider);
        registry.pause();
        vm.prank(provider);
        registry.setIngress(_v4(8), _v6(0), 8080);
        _assertIngress(provider, _v4(8), _v6(0), 8080);
        _assertIngress(publisher, _v4(0), _v6(0), 0);
    }

    function test_setIngress_revertsWhenNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.RegistryNotRegistered.selector, provider));
        vm.prank(provider);
        registry.setIngress(_v4(1), _v6(0), 80);
    }

    function test_setIngress_revertsWhenTooManyAddresses() public {
        _register(provider);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.RegistryTooManyIngressAddresses.selector, 9, 8));
        vm.prank(provider);
        registry.setIngress(_v4(5), _v6(4), 80);
    }

    function test_setIngress_revertsOnPortWithoutAddressesAndAddressesWithoutPort() public {
        _register(provider);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.RegistryInvalidIngressPort.selector, uint16(80)));
        vm.prank(provider);
        registry.setIngress(_v4(0), _v6(0), 80);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.RegistryInvalidIngressPort.selector, uint16(0)));
        vm.prank(provider);
        registry.setIngress(_v4(1), _v6(0), 0);
    }

    function test_setIngress_revertsOnZeroOrRepeatedAddress() public {
        _register(provider);
        bytes4[] memory v4 = _v4(3);
        v4[2] = v4[0];
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.RegistryInvalidIngressAddress.selector, 2));
        vm.prank(provider);
        registry.setIngress(v4, _v6(0), 80);

        bytes16[] memory v6 = _v6(2);
        v6[1] = bytes16(0);
        // Indexes count IPv4 first, then IPv6.
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.RegistryInvalidIngressAddress.selector, 3));
        vm.prank(provider);
        registry.setIngress(_v4(2), v6, 80);

        v4 = _v4(1);
        v4[0] = bytes4(0);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.RegistryInvalidIngressAddress.selector, 0));
        vm.prank(provider);
        registry.setIngress(v4, _v6(0), 80);
        _assertIngress(provider, _v4(0), _v6(0), 0);
    }

    /*//////////////////////////////////////////////////////////////
                                  FUZZ
    //////////////////////////////////////////////////////////////*/

    function test_fuzz_priceFor_matchesFormula(Pricing memory pricing, Resources memory resources) public {
        if (pricing.perCpuMilli == 0 && pricing.perMemoryMiB == 0 && pricing.perStorageMiB == 0 && pricing.flat == 0) {
            pricing.flat = 1;
        }
        ProviderProfile memory profile = defaultProfile();
        profile.pricing = pricing;
        vm.prank(provider);
        registry.register(profile);

        uint256 expected = uint256(resources.cpuMillis) * pricing.perCpuMilli + uint256(resources.memoryMiB)
            * pricing.perMemoryMiB + uint256(resources.storageMiB) * pricing.perStorageMiB + pricing.flat;
        assertEq(registry.priceFor(provider, resources), expected);
    }

    function test_fuzz_register_endpointLength(uint256 length) public {
        length = bound(length, 9, 400);
        ProviderProfile memory profile = defaultProfile();
        string memory endpoint = _endpointOfLength(length);
        profile.endpoint = endpoint;
        if (length > 256) {
            vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.RegistryInvalidEndpoint.selector, endpoint));
        }
        vm.prank(provider);
        registry.register(profile);
        assertEq(registry.isActive(provider), length <= 256);
    }

    function test_fuzz_register_attributeCount(uint256 count) public {
        count = bound(count, 0, 40);
        ProviderProfile memory profile = defaultProfile();
        profile.attributes = _attributes(count);
        if (count > 32) {
            vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.RegistryTooManyAttributes.selector, count, 32));
        }
        vm.prank(provider);
        registry.register(profile);
        assertEq(registry.isActive(provider), count <= 32);
    }
}
