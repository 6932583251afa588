// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarketFixture} from "../utils/MarketFixture.sol";

/// @notice The market fixture for the invariant suites, with forge-std's assertions comparing in the EVM first and
///         calling the cheatcode only when they fail: the same verdicts and the same failure messages (expected and
///         actual values included).
/// @dev The suites' checks run after every call of a campaign and make hundreds of comparisons each time; every
///      forge-std assertion is a call to the cheatcode address, and those calls were most of a campaign's cost.
abstract contract InvariantFixture is MarketFixture {
    function assertTrue(bool data, string memory err) internal pure virtual override {
        if (!data) super.assertTrue(data, err);
    }

    function assertEq(bool left, bool right, string memory err) internal pure virtual override {
        if (left != right) super.assertEq(left, right, err);
    }

    function assertEq(uint256 left, uint256 right, string memory err) internal pure virtual override {
        if (left != right) super.assertEq(left, right, err);
    }

    function assertEq(address left, address right, string memory err) internal pure virtual override {
        if (left != right) super.assertEq(left, right, err);
    }

    function assertLe(uint256 left, uint256 right, string memory err) internal pure virtual override {
        if (left > right) super.assertLe(left, right, err);
    }

    function assertGe(uint256 left, uint256 right, string memory err) internal pure virtual override {
        if (left < right) super.assertGe(left, right, err);
    }
}
