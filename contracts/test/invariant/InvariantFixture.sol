// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Lease, Order, OrderStatus, Stake} from "../../src/types/MarketTypes.sol";
import {MarketFixture} from "../utils/MarketFixture.sol";

/// @notice The market fixture for the invariant suites: the market's state as their checks read it once per call, what
///         the market owes, and forge-std's assertions comparing in the EVM first and calling the cheatcode only when
///         they fail: the same verdicts and the same failure messages (expected and actual values included).
/// @dev The suites' checks run after every call of a campaign and make hundreds of comparisons each time; every
///      forge-std assertion is a call to the cheatcode address, and those calls were most of a campaign's cost.
abstract contract InvariantFixture is MarketFixture {
    /// @dev Every lease of the market: lease `id` is `leases[id - 1]`.
    function _allLeases() internal view returns (Lease[] memory leases) {
        leases = new Lease[](market.leaseCount());
        for (uint256 id = 1; id <= leases.length; ++id) {
            leases[id - 1] = market.getLease(id);
        }
    }

    /// @dev Every order of the market: order `id` is `orders[id - 1]`.
    function _allOrders() internal view returns (Order[] memory orders) {
        orders = new Order[](market.orderCount());
        for (uint256 id = 1; id <= orders.length; ++id) {
            orders[id - 1] = market.getOrder(id);
        }
    }

    /// @dev What the market owes, which its token balance must equal: accrued fees, lease balances (closed leases
    ///      included, they hold what the provider is still owed), open orders' deposits, the stake of `provs` (every
    ///      provider) and the unpaid dark pools of their reported epochs.
    function _marketLiabilities(Lease[] memory leases, Order[] memory orders, address[] memory provs)
        internal
        view
        returns (uint256 liabilities)
    {
        liabilities = market.accruedFees();
        for (uint256 k; k < leases.length; ++k) {
            liabilities += leases[k].balance;
        }
        for (uint256 k; k < orders.length; ++k) {
            if (orders[k].status == OrderStatus.Open) liabilities += orders[k].deposit;
        }
        for (uint256 i; i < provs.length; ++i) {
            Stake memory stake = market.stakeOf(provs[i]);
            liabilities += uint256(stake.free) + stake.locked + stake.unbonding;
            // Every epoch before the current one was ended by a dark report.
            for (uint256 epoch; epoch < stake.epoch; ++epoch) {
                liabilities += market.darkRecord(provs[i], epoch).pool;
            }
        }
    }

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
