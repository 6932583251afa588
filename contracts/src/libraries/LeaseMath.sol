// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title LeaseMath
/// @notice Escrow arithmetic of a lease: per-second accrual capped by the escrowed balance, collateral and fees.
/// @dev Pure functions over integers (token base units, unix seconds) so they can be fuzzed on their own.
library LeaseMath {
    uint256 internal constant BPS = 10_000;

    /// @notice Settles a running lease at `at`.
    /// @return earned What the provider has earned since `settledAt` (never more than `balance`).
    /// @return settledUntil The time the provider is paid up to afterwards. When the balance ran out before `at`,
    ///         this is the second the funds ran out, not `at`: nothing accrues after that.
    function settle(uint256 balance, uint256 pricePerSecond, uint256 settledAt, uint256 at)
        internal
        pure
        returns (uint256 earned, uint256 settledUntil)
    {
        if (at <= settledAt) return (0, settledAt);
        uint256 due = pricePerSecond * (at - settledAt);
        if (due < balance) return (due, at);
        return (balance, runsOutAt(balance, pricePerSecond, settledAt));
    }

    /// @notice The first second at which a lease settled at `settledAt` with `balance` left has no funds.
    /// @dev The last, partial second is paid in full: funds run out at settledAt + ceil(balance / price).
    function runsOutAt(uint256 balance, uint256 pricePerSecond, uint256 settledAt) internal pure returns (uint256) {
        return settledAt + (balance + pricePerSecond - 1) / pricePerSecond;
    }

    /// @notice Whether the funds of a lease are used up at `at`.
    function isExhausted(uint256 balance, uint256 pricePerSecond, uint256 settledAt, uint256 at)
        internal
        pure
        returns (bool)
    {
        return at > settledAt ? pricePerSecond * (at - settledAt) >= balance : balance == 0;
    }

    /// @notice The protocol fee on a provider withdrawal, rounded down in the provider's favour.
    function feeOf(uint256 gross, uint256 feeBps) internal pure returns (uint256) {
        return gross * feeBps / BPS;
    }

    /// @notice Stake locked as collateral for a lease (or a bid) at `pricePerSecond`.
    function collateralFor(uint256 pricePerSecond, uint256 collateralSeconds) internal pure returns (uint256) {
        return pricePerSecond * collateralSeconds;
    }
}
