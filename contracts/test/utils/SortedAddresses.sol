// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Sorts a handful of addresses in place, ascending: the standing-bidder lists of placeBid and finalizeOrder.
library SortedAddresses {
    function sort(address[] memory list) internal pure returns (address[] memory) {
        for (uint256 i = 1; i < list.length; ++i) {
            address key = list[i];
            uint256 j = i;
            while (j > 0 && list[j - 1] > key) {
                list[j] = list[j - 1];
                --j;
            }
            list[j] = key;
        }
        return list;
    }
}
