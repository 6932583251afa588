// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @notice A payment token that, like USDC since v2.2, moves a holder's tokens on the holder's signed authorization
///         (EIP-3009 `transferWithAuthorization`) and accepts ERC-1271 signatures for holders that are contracts.
/// @dev Test-only: no such token can be deployed from npm here, and this is the property that matters for a vault
///      that answers ERC-1271: whatever it calls valid can move its tokens.
contract AuthorizationToken is ERC20, EIP712 {
    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );

    mapping(address authorizer => mapping(bytes32 nonce => bool)) public authorizationState;

    error AuthorizationInvalid();

    constructor() ERC20("Authorization Token", "AUTH") EIP712("Authorization Token", "2") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function authorizationDigest(address from, address to, uint256 value, bytes32 nonce) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, 0, type(uint256).max, nonce))
        );
    }

    /// @notice Moves `value` from `from` to `to` if `from` signed it (ECDSA, or ERC-1271 for a contract).
    function transferWithAuthorization(address from, address to, uint256 value, bytes32 nonce, bytes memory signature)
        external
    {
        if (authorizationState[from][nonce]) revert AuthorizationInvalid();
        if (!SignatureChecker.isValidSignatureNow(from, authorizationDigest(from, to, value, nonce), signature)) {
            revert AuthorizationInvalid();
        }
        authorizationState[from][nonce] = true;
        _transfer(from, to, value);
    }
}
