// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AppVault} from "../src/AppVault.sol";
import {AppVaultFactory} from "../src/AppVaultFactory.sol";
import {DisputeCourt} from "../src/DisputeCourt.sol";
import {PodnetMarket} from "../src/PodnetMarket.sol";
import {IDisputeCourt} from "../src/interfaces/IDisputeCourt.sol";
import {IPodnetMarket} from "../src/interfaces/IPodnetMarket.sol";
import {IProviderRegistry} from "../src/interfaces/IProviderRegistry.sol";
import {AuthorizationToken} from "./utils/AuthorizationToken.sol";
import {VaultFixture} from "./utils/VaultFixture.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice ERC-1271 on the vault: who may sign for an app, and what they may sign.
contract AppVaultSignatureTest is VaultFixture {
    bytes4 internal constant MAGIC = 0x1626ba7e;
    bytes4 internal constant INVALID = 0xffffffff;
    /// @dev sdk/src/protocol/request-signing.ts, `requestTypes.Request`.
    bytes32 internal constant REQUEST_TYPEHASH = keccak256(
        "Request(address provider,string method,string path,bytes32 bodyHash,uint64 timestamp,bytes32 nonce)"
    );

    /// @dev The EIP-712 struct hash of a provider-API request for lease 7, as the SDK builds it.
    function _requestStructHash(bytes32 nonce) internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                REQUEST_TYPEHASH,
                provider,
                keccak256("GET"),
                keccak256("/v1/leases/7/logs"),
                keccak256(""),
                uint64(block.timestamp),
                nonce
            )
        );
    }

    function _digest(AppVault app, bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", app.requestDomainSeparator(), structHash));
    }

    /// @dev `key`'s signature of the request digest, in the vault's format: (r, s, v) then the struct hash.
    function _signRequest(AppVault app, uint256 key, bytes32 structHash)
        internal
        view
        returns (bytes32 digest, bytes memory signature)
    {
        digest = _digest(app, structHash);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        signature = abi.encodePacked(r, s, v, structHash);
    }

    function _check(AppVault app, uint256 key) internal view returns (bytes4) {
        (bytes32 digest, bytes memory signature) = _signRequest(app, key, _requestStructHash("n1"));
        return app.isValidSignature(digest, signature);
    }

    /*//////////////////////////////////////////////////////////////
                              WHO MAY SIGN
    //////////////////////////////////////////////////////////////*/

    function test_isValidSignature_acceptsControllers() public view {
        assertEq(_check(vault, controllerKey), MAGIC);
        assertEq(_check(vault, controller2Key), MAGIC);
    }

    /// @dev Decision: the owner signs for its app too (it could make itself a controller at any time).
    function test_isValidSignature_acceptsOwner() public view {
        assertEq(_check(vault, appOwnerKey), MAGIC);
    }

    function test_isValidSignature_refusesRemovedController() public {
        vm.prank(appOwner);
        vault.setController(controller, false);
        assertEq(_check(vault, controllerKey), INVALID);
        assertEq(_check(vault, controller2Key), MAGIC);
    }

    function test_isValidSignature_refusesStranger() public {
        (, uint256 strangerKey) = makeAddrAndKey("signing stranger");
        assertEq(_check(vault, strangerKey), INVALID);
    }

    /// @dev Scoped per app: a controller of another app is nobody here, and the other way round.
    function test_isValidSignature_refusesOtherAppsController() public {
        (address otherController, uint256 otherKey) = makeAddrAndKey("other controller");
        AppVault other = _createApp(appOwner, keccak256("other app"), _controllers(otherController, controller2));
        assertEq(_check(vault, otherKey), INVALID);
        assertEq(_check(other, otherKey), MAGIC);
        assertEq(_check(other, controllerKey), INVALID);
        // controller2 controls both: valid for both, each checked against its own controller set.
        assertEq(_check(other, controller2Key), MAGIC);
    }

    function test_isValidSignature_refusesPreviousOwner() public {
        (address newOwner, uint256 newOwnerKey) = makeAddrAndKey("new owner");
        vm.prank(appOwner);
        vault.transferOwnership(newOwner);
        assertEq(_check(vault, appOwnerKey), MAGIC, "still the owner until accepted");
        vm.prank(newOwner);
        vault.acceptOwnership();
        assertEq(_check(vault, appOwnerKey), INVALID);
        assertEq(_check(vault, newOwnerKey), MAGIC);
    }

    /// @dev The implementation itself has no owner and no controllers.
    function test_isValidSignature_implementationAcceptsNobody() public view {
        AppVault implementation = AppVault(factory.implementation());
        assertEq(_check(implementation, controllerKey), INVALID);
        assertEq(_check(implementation, appOwnerKey), INVALID);
    }

    /*//////////////////////////////////////////////////////////////
                             WHAT MAY BE SIGNED
    //////////////////////////////////////////////////////////////*/

    /// @dev A plain 65-byte signature of the digest (no struct hash) proves nothing about what was signed.
    function test_isValidSignature_refusesPlainSignature() public view {
        bytes32 digest = _digest(vault, _requestStructHash("n1"));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(controllerKey, digest);
        assertEq(vault.isValidSignature(digest, abi.encodePacked(r, s, v)), INVALID);
    }

    /// @dev The struct hash must be the one the digest was built from.
    function test_isValidSignature_refusesWrongStructHash() public view {
        (bytes32 digest, bytes memory signature) = _signRequest(vault, controllerKey, _requestStructHash("n1"));
        bytes32 otherStruct = _requestStructHash("n2");
        assembly ("memory-safe") {
            mstore(add(signature, 97), otherStruct)
        }
        assertEq(vault.isValidSignature(digest, signature), INVALID);
    }

    /// @dev Any digest outside the request domain is refused, whatever the controller signed.
    function test_isValidSignature_refusesDigestOutsideRequestDomain() public view {
        bytes32 structHash = _requestStructHash("n1");
        bytes32 foreign = keccak256(abi.encodePacked("\x19\x01", keccak256("some other domain"), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(controllerKey, foreign);
        assertEq(vault.isValidSignature(foreign, abi.encodePacked(r, s, v, structHash)), INVALID);
    }

    function test_isValidSignature_refusesMalformedSignatures() public view {
        (bytes32 digest, bytes memory signature) = _signRequest(vault, controllerKey, _requestStructHash("n1"));
        assertEq(vault.isValidSignature(digest, ""), INVALID);
        assertEq(vault.isValidSignature(digest, abi.encodePacked(signature, uint8(0))), INVALID);
        // A high-s signature (malleated) is refused by ECDSA.
        bytes memory malleated = abi.encodePacked(signature);
        assembly ("memory-safe") {
            mstore(add(malleated, 64), not(0))
        }
        assertEq(vault.isValidSignature(digest, malleated), INVALID);
    }

    /// @dev The domain is the SDK's request domain: name, version and this chain, no verifying contract; it follows
    ///      the chain id (a fork cannot replay requests across chains).
    function test_requestDomainSeparator_matchesRequestDomain() public {
        bytes32 expected = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId)"),
                keccak256("Podnet Provider API"),
                keccak256("1"),
                block.chainid
            )
        );
        assertEq(vault.requestDomainSeparator(), expected);
        vm.chainId(1);
        assertTrue(vault.requestDomainSeparator() != expected);
    }

    /*//////////////////////////////////////////////////////////////
                       HOSTILE: SIGNING THE BALANCE AWAY
    //////////////////////////////////////////////////////////////*/

    /// @dev With a payment token that honours ERC-1271 for transfers (USDC does, since v2.2), a vault that calls any
    ///      controller-signed hash valid lets one controller key take the whole balance, past every spending limit.
    ///      The vault must only validate provider-API request digests.
    function test_isValidSignature_controllerCannotSignTokensAway() public {
        AuthorizationToken authToken = new AuthorizationToken();
        PodnetMarket authMarket = _deployMarket(address(authToken), address(registry), treasury, defaultParams());
        DisputeCourt authCourt = _deployCourt(address(authMarket), defaultCourtParams());
        AppVaultFactory authFactory = _deployFactory(address(authMarket), address(authCourt), address(network));
        vm.prank(appOwner);
        AppVault app = AppVault(
            authFactory.createApp(APP_SALT, SPEC, CONFIG, defaultLimits(), _controllers(controller, controller2))
        );
        authToken.mint(address(app), FUNDING);

        bytes32 digest = authToken.authorizationDigest(address(app), controller, FUNDING, "drain");
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(controllerKey, digest);

        // A plain signature of the authorization.
        vm.expectRevert(AuthorizationToken.AuthorizationInvalid.selector);
        authToken.transferWithAuthorization(address(app), controller, FUNDING, "drain", abi.encodePacked(r, s, v));
        // The vault's format with a made-up struct hash: the digest is not in the request domain.
        vm.expectRevert(AuthorizationToken.AuthorizationInvalid.selector);
        authToken.transferWithAuthorization(
            address(app), controller, FUNDING, "drain", abi.encodePacked(r, s, v, keccak256("anything"))
        );
        assertEq(authToken.balanceOf(address(app)), FUNDING);
        assertEq(authToken.balanceOf(controller), 0);
    }
}
