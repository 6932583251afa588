// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice What an app's owner lets its controllers spend, per app (AppVault). Packed into one storage slot.
/// @dev The three together bound what a controller key can do with the app's money: at most `maxInstances` leases
///      at once, each paid at most `maxPricePerSecond` (so providers can earn at most maxInstances *
///      maxPricePerSecond per second from the app), and at most `maxDepositPerLease` of unspent funds prepaid into any
///      one lease or order (so at most about 2 * maxInstances * maxDepositPerLease is out of the vault at once, all of
///      it refundable except what providers earned).
struct AppLimits {
    /// @dev Highest price per second of one instance: a direct quote's price, an order's maximum, an accepted bid.
    uint96 maxPricePerSecond;
    /// @dev Most unspent escrow one lease may hold: the first deposit (or an order's deposit), and a lease's unspent
    ///      balance after a top-up.
    uint96 maxDepositPerLease;
    /// @dev Number of instance slots (0 .. maxInstances - 1) a lease can be placed in, and most orders open at once.
    uint16 maxInstances;
}
