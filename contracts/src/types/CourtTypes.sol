// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

enum DisputeStatus {
    None,
    Open,
    Slashed,
    Dismissed,
    Lapsed
}

/// @notice A publisher's dispute over a lease. One storage slot: the publisher and provider are the lease's, and
///         evidence URIs and the opening and answer times are in the events.
struct Dispute {
    uint64 leaseId;
    uint96 bond;
    /// @dev Deadlines from the windows in force when the dispute opened.
    uint40 answerBy;
    uint40 ruleBy;
    DisputeStatus status;
    bool answered;
}

/// @notice Governed parameters of the dispute court.
struct CourtParams {
    /// @dev What a publisher deposits to open a dispute; it goes to the provider if the arbiter dismisses.
    uint96 disputeBond;
    /// @dev How long the provider has to answer.
    uint40 answerWindow;
    /// @dev How long, after the answer window, the arbiter has to rule before the dispute lapses.
    uint40 rulingWindow;
}

/// @notice AccessManager roles of Podnet (role 0 is the AccessManager's admin: the timelock).
library PodnetRoles {
    /// @notice The dispute court: may hold and settle lease collateral in the market.
    uint64 internal constant COURT = 1;
    /// @notice Arbiters: rule on disputes.
    uint64 internal constant ARBITER = 2;
}
