// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title PlainToken
/// @notice A freely mintable ERC-20 without EIP-2612 permits, for a market whose token has no permit: the contract
///         tests and the SDK's end-to-end test of the approve path deploy it. Local chains and tests only.
contract PlainToken is ERC20 {
    constructor() ERC20("Plain", "PLN") {}

    /// @notice Mints `amount` to `to`. Anyone may mint: this token is worth nothing.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
