// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDisputeCourt} from "./interfaces/IDisputeCourt.sol";
import {IPodnetMarket} from "./interfaces/IPodnetMarket.sol";
import {CourtParams, Dispute, DisputeStatus} from "./types/CourtTypes.sol";
import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title DisputeCourt
/// @notice Disputes over Podnet leases, ruled by arbiters that governance appoints.
/// @dev `slash`, `dismiss` and `setParams` are `restricted` through the AccessManager (role ARBITER for the rulings).
contract DisputeCourt is IDisputeCourt, AccessManaged, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Longest evidence URI, in bytes.
    uint256 public constant MAX_EVIDENCE_LENGTH = 256;
    /// @notice Upper bound for the answer and ruling windows.
    uint40 public constant MAX_WINDOW = 90 days;

    /// @inheritdoc IDisputeCourt
    IPodnetMarket public immutable market;
    IERC20 private immutable _token;

    CourtParams private _params;
    uint64 private _disputeCount;
    mapping(uint256 disputeId => Dispute) private _disputes;

    constructor(IPodnetMarket market_, address authority, CourtParams memory params_) AccessManaged(authority) {
        if (address(market_) == address(0)) revert CourtZeroAddress();
        market = market_;
        _token = market_.token();
        _setParams(params_);
    }

    /// @inheritdoc IDisputeCourt
    function openDispute(uint256 leaseId, string calldata evidenceURI)
        external
        nonReentrant
        returns (uint256 disputeId)
    {
        _requireEvidence(evidenceURI);
        (address publisher, address provider,) = market.holdCollateral(leaseId);
        if (publisher != msg.sender) revert CourtNotLeasePublisher(leaseId, msg.sender);

        CourtParams memory p = _params;
        uint40 answerBy = uint40(block.timestamp) + p.answerWindow;
        uint40 ruleBy = answerBy + p.rulingWindow;
        disputeId = ++_disputeCount;
        _disputes[disputeId] = Dispute({
            // forge-lint: disable-next-line(unsafe-typecast) lease ids come from a uint64 counter
            leaseId: uint64(leaseId),
            bond: p.disputeBond,
            answerBy: answerBy,
            ruleBy: ruleBy,
            status: DisputeStatus.Open,
            answered: false
        });
        emit DisputeOpened(disputeId, leaseId, msg.sender, provider, p.disputeBond, evidenceURI, answerBy, ruleBy);
        if (p.disputeBond != 0) _token.safeTransferFrom(msg.sender, address(this), p.disputeBond);
    }

    /// @inheritdoc IDisputeCourt
    function answerDispute(uint256 disputeId, string calldata evidenceURI) external {
        _requireEvidence(evidenceURI);
        Dispute storage dispute = _openDispute(disputeId);
        if (market.getLease(dispute.leaseId).provider != msg.sender) {
            revert CourtNotLeaseProvider(disputeId, msg.sender);
        }
        if (dispute.answered) revert CourtAlreadyAnswered(disputeId);
        if (block.timestamp > dispute.answerBy) revert CourtAnswerWindowClosed(disputeId, dispute.answerBy);
        dispute.answered = true;
        emit DisputeAnswered(disputeId, msg.sender, evidenceURI);
    }

    /// @inheritdoc IDisputeCourt
    function slash(uint256 disputeId, uint256 amount) external restricted nonReentrant {
        if (amount == 0) revert CourtZeroSlash();
        Dispute storage dispute = _rulableDispute(disputeId);
        dispute.status = DisputeStatus.Slashed;
        (uint256 slashed, address publisher,) = market.settleDispute(dispute.leaseId, amount);
        emit DisputeSlashed(disputeId, msg.sender, amount, slashed);
        if (dispute.bond != 0) _token.safeTransfer(publisher, dispute.bond);
    }

    /// @inheritdoc IDisputeCourt
    function dismiss(uint256 disputeId) external restricted nonReentrant {
        Dispute storage dispute = _rulableDispute(disputeId);
        dispute.status = DisputeStatus.Dismissed;
        (,, address provider) = market.settleDispute(dispute.leaseId, 0);
        emit DisputeDismissed(disputeId, msg.sender);
        if (dispute.bond != 0) _token.safeTransfer(provider, dispute.bond);
    }

    /// @inheritdoc IDisputeCourt
    function lapse(uint256 disputeId) external nonReentrant {
        Dispute storage dispute = _openDispute(disputeId);
        if (block.timestamp <= dispute.ruleBy) revert CourtNotLapsed(disputeId, dispute.ruleBy);
        dispute.status = DisputeStatus.Lapsed;
        (, address publisher,) = market.settleDispute(dispute.leaseId, 0);
        emit DisputeLapsed(disputeId);
        if (dispute.bond != 0) _token.safeTransfer(publisher, dispute.bond);
    }

    /// @inheritdoc IDisputeCourt
    function setParams(CourtParams calldata params_) external restricted {
        _setParams(params_);
    }

    /// @inheritdoc IDisputeCourt
    function params() external view returns (CourtParams memory) {
        return _params;
    }

    /// @inheritdoc IDisputeCourt
    function getDispute(uint256 disputeId) external view returns (Dispute memory) {
        return _disputes[disputeId];
    }

    /// @inheritdoc IDisputeCourt
    function disputeCount() external view returns (uint256) {
        return _disputeCount;
    }

    function _setParams(CourtParams memory p) private {
        if (p.answerWindow == 0 || p.answerWindow > MAX_WINDOW) {
            revert CourtInvalidParameter("answerWindow", p.answerWindow);
        }
        if (p.rulingWindow == 0 || p.rulingWindow > MAX_WINDOW) {
            revert CourtInvalidParameter("rulingWindow", p.rulingWindow);
        }
        _params = p;
        emit CourtParamsUpdated(p);
    }

    function _openDispute(uint256 disputeId) private view returns (Dispute storage dispute) {
        dispute = _disputes[disputeId];
        if (dispute.status == DisputeStatus.None) revert CourtDisputeNotFound(disputeId);
        if (dispute.status != DisputeStatus.Open) revert CourtDisputeNotOpen(disputeId, dispute.status);
    }

    /// @dev An open dispute the arbiter may rule on now: the provider answered or its window passed, and the
    ///      ruling window is still open.
    function _rulableDispute(uint256 disputeId) private view returns (Dispute storage dispute) {
        dispute = _openDispute(disputeId);
        if (!dispute.answered && block.timestamp <= dispute.answerBy) {
            revert CourtRulingTooEarly(disputeId, uint256(dispute.answerBy) + 1);
        }
        if (block.timestamp > dispute.ruleBy) revert CourtRulingWindowClosed(disputeId, dispute.ruleBy);
    }

    function _requireEvidence(string calldata evidenceURI) private pure {
        uint256 length = bytes(evidenceURI).length;
        if (length == 0 || length > MAX_EVIDENCE_LENGTH) revert CourtInvalidEvidence(length, MAX_EVIDENCE_LENGTH);
    }
}
