// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title PodnetTestToken
/// @notice A freely mintable 18-decimal ERC-20 for local chains and tests only. Never deploy it to a real network.
contract PodnetTestToken is ERC20 {
    constructor() ERC20("Podnet Test Token", "tPOD") {}

    /// @notice Mints `amount` to `to`. Anyone may mint: this token is worth nothing.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
