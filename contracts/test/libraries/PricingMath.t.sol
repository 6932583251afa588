// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ProviderRegistry} from "../../src/ProviderRegistry.sol";
import {PricingMath} from "../../src/libraries/PricingMath.sol";
import {Pricing, ProviderProfile, Resources} from "../../src/types/MarketTypes.sol";
import {ReleaseBuild} from "../utils/ReleaseBuild.sol";
import {Test} from "forge-std/Test.sol";

/// @notice Fuzz tests of the pricing rule: price per second = cpu * perCpuMilli + memory * perMemoryMiB
///         + storage * perStorageMiB + flat.
contract PricingMathTest is Test {
    /// @dev The formula term by term, each product widened to 256 bits before it is taken.
    function _expected(Pricing memory p, Resources memory r) internal pure returns (uint256) {
        uint256 cpuTerm = uint256(r.cpuMillis) * uint256(p.perCpuMilli);
        uint256 memoryTerm = uint256(r.memoryMiB) * uint256(p.perMemoryMiB);
        uint256 storageTerm = uint256(r.storageMiB) * uint256(p.perStorageMiB);
        return cpuTerm + memoryTerm + storageTerm + uint256(p.flat);
    }

    function test_fuzz_pricePerSecond_matchesFormula(Pricing memory pricing, Resources memory resources) public pure {
        assertEq(PricingMath.pricePerSecond(pricing, resources), _expected(pricing, resources));
    }

    function test_fuzz_pricePerSecond_isBelow2Pow130(Pricing memory pricing, Resources memory resources) public pure {
        assertLt(PricingMath.pricePerSecond(pricing, resources), uint256(1) << 130);
    }

    function test_pricePerSecond_doesNotOverflowAtTypeMaxima() public pure {
        Pricing memory pricing = Pricing({
            perCpuMilli: type(uint96).max,
            perMemoryMiB: type(uint96).max,
            perStorageMiB: type(uint96).max,
            flat: type(uint96).max
        });
        Resources memory resources =
            Resources({cpuMillis: type(uint32).max, memoryMiB: type(uint32).max, storageMiB: type(uint32).max});

        uint256 price = PricingMath.pricePerSecond(pricing, resources);

        uint256 unitMax = type(uint96).max;
        uint256 countMax = type(uint32).max;
        assertEq(price, 3 * countMax * unitMax + unitMax);
        // (2^96 - 1) * (3 * (2^32 - 1) + 1) = (2^96 - 1) * (3 * 2^32 - 2)
        assertEq(price, ((uint256(1) << 96) - 1) * (3 * (uint256(1) << 32) - 2));
        assertLt(price, uint256(1) << 130);
    }

    function test_fuzz_pricePerSecond_isFlatForNoResources(Pricing memory pricing) public pure {
        Resources memory none = Resources({cpuMillis: 0, memoryMiB: 0, storageMiB: 0});

        assertEq(PricingMath.pricePerSecond(pricing, none), pricing.flat);
    }

    function test_fuzz_pricePerSecond_isAdditiveInResources(
        Pricing memory pricing,
        Resources memory a,
        Resources memory b
    ) public pure {
        a.cpuMillis = uint32(_bound(a.cpuMillis, 0, type(uint32).max / 2));
        a.memoryMiB = uint32(_bound(a.memoryMiB, 0, type(uint32).max / 2));
        a.storageMiB = uint32(_bound(a.storageMiB, 0, type(uint32).max / 2));
        b.cpuMillis = uint32(_bound(b.cpuMillis, 0, type(uint32).max / 2));
        b.memoryMiB = uint32(_bound(b.memoryMiB, 0, type(uint32).max / 2));
        b.storageMiB = uint32(_bound(b.storageMiB, 0, type(uint32).max / 2));
        Resources memory sum = Resources({
            cpuMillis: a.cpuMillis + b.cpuMillis,
            memoryMiB: a.memoryMiB + b.memoryMiB,
            storageMiB: a.storageMiB + b.storageMiB
        });

        // Two pods cost what one pod of both sizes costs, plus one more flat fee.
        assertEq(
            PricingMath.pricePerSecond(pricing, a) + PricingMath.pricePerSecond(pricing, b),
            PricingMath.pricePerSecond(pricing, sum) + pricing.flat
        );
    }

    function test_fuzz_pricePerSecond_isMonotonicInResources(
        Pricing memory pricing,
        Resources memory small,
        Resources memory extra
    ) public pure {
        Resources memory large = Resources({
            cpuMillis: uint32(_bound(uint256(small.cpuMillis) + extra.cpuMillis, small.cpuMillis, type(uint32).max)),
            memoryMiB: uint32(_bound(uint256(small.memoryMiB) + extra.memoryMiB, small.memoryMiB, type(uint32).max)),
            storageMiB: uint32(_bound(uint256(small.storageMiB) + extra.storageMiB, small.storageMiB, type(uint32).max))
        });

        assertLe(PricingMath.pricePerSecond(pricing, small), PricingMath.pricePerSecond(pricing, large));
    }

    /// @dev The registry quotes prices with the same rule.
    function test_fuzz_pricePerSecond_matchesRegistryPriceFor(Pricing memory pricing, Resources memory resources)
        public
    {
        vm.assume(
            pricing.perCpuMilli != 0 || pricing.perMemoryMiB != 0 || pricing.perStorageMiB != 0 || pricing.flat != 0
        );
        ProviderRegistry registry = ProviderRegistry(ReleaseBuild.deploy("ProviderRegistry", ""));
        address provider = makeAddr("provider");
        vm.prank(provider);
        registry.register(
            ProviderProfile({
                endpoint: "https://provider.example",
                metadataURI: "",
                encryptionKey: keccak256("key"),
                pricing: pricing,
                capacity: Resources({cpuMillis: 1000, memoryMiB: 1024, storageMiB: 0}),
                attributes: new bytes32[](0)
            })
        );

        assertEq(registry.priceFor(provider, resources), _expected(pricing, resources));
    }
}
