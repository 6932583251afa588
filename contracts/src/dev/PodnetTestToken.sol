// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title PodnetTestToken
/// @notice A freely mintable 18-decimal ERC-20 with EIP-2612 permits, for local chains and tests only. Never deploy it
///         to a real network (the deploy script refuses to).
contract PodnetTestToken is ERC20, ERC20Permit {
    constructor() ERC20("Podnet Test Token", "tPOD") ERC20Permit("Podnet Test Token") {}

    /// @notice Mints `amount` to `to`. Anyone may mint: this token is worth nothing.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
