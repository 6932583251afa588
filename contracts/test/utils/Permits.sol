// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PodnetTestToken} from "../../src/dev/PodnetTestToken.sol";

/// @notice The EIP-2612 digest an owner signs to let `spender` pull `value` of the test token until `deadline`.
library Permits {
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    function digest(PodnetTestToken token, address owner, address spender, uint256 value, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes32 structHash =
            keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, token.nonces(owner), deadline));
        return keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
    }
}
