// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CourtParams, Dispute, DisputeStatus} from "../types/CourtTypes.sol";
import {IPodnetMarket} from "./IPodnetMarket.sol";

/// @title IDisputeCourt
/// @notice Disputes over leases. A publisher opens one with a bond and an evidence URI; the provider answers within
///         the answer window; an arbiter (a role governance grants) then rules: slash up to the lease's collateral to
///         the publisher (the bond returns), or dismiss (the bond goes to the provider). If no ruling comes within the
///         ruling window, anyone can lapse the dispute and the bond returns. A lease can be disputed while it runs and
///         until the market's dispute window after it ended; while a dispute is open the market holds the lease's
///         collateral, even if the lease closes or the window passes.
/// @dev The court holds the bonds; the collateral stays in the market, which lets only this court (AccessManager role
///      COURT) hold and settle it.
interface IDisputeCourt {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Only the lease's publisher may open a dispute on it.
    error CourtNotLeasePublisher(uint256 leaseId, address caller);
    /// @notice Only the lease's provider may answer.
    error CourtNotLeaseProvider(uint256 disputeId, address caller);
    /// @notice No dispute has id `disputeId`.
    error CourtDisputeNotFound(uint256 disputeId);
    /// @notice The dispute is not open.
    error CourtDisputeNotOpen(uint256 disputeId, DisputeStatus status);
    /// @notice The answer window closed at `answerBy`.
    error CourtAnswerWindowClosed(uint256 disputeId, uint256 answerBy);
    /// @notice The provider already answered.
    error CourtAlreadyAnswered(uint256 disputeId);
    /// @notice The arbiter can rule once the provider answered or from `ruleFrom` on.
    error CourtRulingTooEarly(uint256 disputeId, uint256 ruleFrom);
    /// @notice The ruling window closed at `ruleBy`; the dispute can only lapse.
    error CourtRulingWindowClosed(uint256 disputeId, uint256 ruleBy);
    /// @notice The dispute can lapse only after `ruleBy`.
    error CourtNotLapsed(uint256 disputeId, uint256 ruleBy);
    /// @notice An evidence URI must be 1 to MAX_EVIDENCE_LENGTH bytes.
    error CourtInvalidEvidence(uint256 length, uint256 maxLength);
    /// @notice A slash ruling must slash something.
    error CourtZeroSlash();
    /// @notice A governed parameter is out of its allowed range.
    error CourtInvalidParameter(string name, uint256 value);
    /// @notice An address that must be set is zero.
    error CourtZeroAddress();

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Governed parameters changed.
    event CourtParamsUpdated(CourtParams params);
    /// @notice A publisher opened a dispute on a lease, depositing `bond`.
    event DisputeOpened(
        uint256 indexed disputeId,
        uint256 indexed leaseId,
        address indexed publisher,
        address provider,
        uint256 bond,
        string evidenceURI,
        uint40 answerBy,
        uint40 ruleBy
    );
    /// @notice The provider answered.
    event DisputeAnswered(uint256 indexed disputeId, address indexed provider, string evidenceURI);
    /// @notice The arbiter slashed `slashed` of the lease's collateral to the publisher; the bond went back.
    event DisputeSlashed(uint256 indexed disputeId, address indexed arbiter, uint256 requested, uint256 slashed);
    /// @notice The arbiter dismissed the dispute; the bond went to the provider.
    event DisputeDismissed(uint256 indexed disputeId, address indexed arbiter);
    /// @notice No ruling came in time; the bond went back to the publisher.
    event DisputeLapsed(uint256 indexed disputeId);

    /*//////////////////////////////////////////////////////////////
                                 ACTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Opens a dispute on a lease of the caller, running or ended less than the market's `disputeWindow` ago,
    ///         taking the bond from the caller.
    function openDispute(uint256 leaseId, string calldata evidenceURI) external returns (uint256 disputeId);

    /// @notice The lease's provider answers, within the answer window.
    function answerDispute(uint256 disputeId, string calldata evidenceURI) external;

    /// @notice Arbiter: slash up to `amount` of the lease's collateral to the publisher; the bond returns.
    function slash(uint256 disputeId, uint256 amount) external;

    /// @notice Arbiter: dismiss; the bond goes to the provider and the collateral is released.
    function dismiss(uint256 disputeId) external;

    /// @notice Anyone, after the ruling window: the dispute lapses, the bond returns and the collateral is released.
    function lapse(uint256 disputeId) external;

    /// @notice Replaces the governed parameters (applies to disputes opened afterwards). Restricted to governance.
    function setParams(CourtParams calldata params) external;

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    function market() external view returns (IPodnetMarket);

    function params() external view returns (CourtParams memory);

    function getDispute(uint256 disputeId) external view returns (Dispute memory);

    /// @notice Number of disputes opened so far (ids run 1..disputeCount).
    function disputeCount() external view returns (uint256);
}
