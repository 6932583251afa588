// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAppVault} from "./interfaces/IAppVault.sol";
import {IAutoscalerNetwork} from "./interfaces/IAutoscalerNetwork.sol";
import {IDisputeCourt} from "./interfaces/IDisputeCourt.sol";
import {IPodnetMarket} from "./interfaces/IPodnetMarket.sol";
import {Bid, LeaseStatus, Order, PermitSignature, Quote, Requirements, Resources} from "./types/MarketTypes.sol";
import {NetworkTerms} from "./types/NetworkTypes.sol";
import {AppLimits} from "./types/VaultTypes.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

/// @title AppVault
/// @notice One app of the autoscaler protocol: its balance, spec, controllers, limits and instance slots. The vault is
///         the publisher of the app's leases and orders, so the market's refunds and compensations land here.
/// @dev Deployed once as the implementation by AppVaultFactory, which makes every app an EIP-1167 clone of it and
///      initializes the clone in the same transaction. The market, court, token and factory are immutables of the
///      implementation, shared by every clone. The vault never holds a standing allowance: it approves the market (or
///      the court) for exactly what each call pulls, and the call spends it back to zero.
contract AppVault is IAppVault, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    bytes4 internal constant ERC1271_MAGIC_VALUE = 0x1626ba7e;
    bytes4 internal constant ERC1271_INVALID = 0xffffffff;
    /// @dev What isValidSignature takes: an ECDSA signature (r, s, v) followed by the request's EIP-712 struct hash.
    uint256 internal constant SIGNATURE_LENGTH = 65 + 32;
    /// @notice The provider-API request domain (sdk/src/protocol/request-signing.ts): no verifying contract.
    bytes32 public constant REQUEST_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId)");
    bytes32 public constant REQUEST_DOMAIN_NAME_HASH = keccak256("Podnet Provider API");
    bytes32 public constant REQUEST_DOMAIN_VERSION_HASH = keccak256("1");

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAppVault
    IPodnetMarket public immutable market;
    /// @inheritdoc IAppVault
    IDisputeCourt public immutable court;
    /// @inheritdoc IAppVault
    IERC20 public immutable token;
    /// @inheritdoc IAppVault
    address public immutable factory;
    /// @inheritdoc IAppVault
    IAutoscalerNetwork public immutable network;

    address private _owner;
    /// @dev Next to the owner: createOrder and acceptBid write it after reading who may call.
    uint16 private _openOrders;
    address private _pendingOwner;
    AppLimits private _limits;
    bytes32 private _specHash;
    bytes32 private _configHash;
    mapping(address account => bool) private _controllers;
    mapping(uint256 slot => uint256 leaseId) private _slots;
    NetworkTerms private _networkTerms;
    mapping(uint256 day => uint256 paid) private _feesPaid;

    /// @dev Run by the factory's constructor: the factory is the deployer.
    constructor(IPodnetMarket market_, IDisputeCourt court_, IAutoscalerNetwork network_) {
        if (address(market_) == address(0)) revert VaultZeroAddress("market");
        if (address(court_) == address(0)) revert VaultZeroAddress("court");
        if (address(network_) == address(0)) revert VaultZeroAddress("network");
        market = market_;
        court = court_;
        network = network_;
        token = market_.token();
        factory = msg.sender;
    }

    modifier onlyOwner() {
        if (msg.sender != _owner) revert VaultNotOwner(msg.sender);
        _;
    }

    /// @dev Controllers first: they make most calls, and then the owner's slot is not read. The network is asked
    ///      last, and only in network mode.
    modifier onlyController() {
        if (!_controllers[msg.sender] && msg.sender != _owner && !_isLiveNetworkNode(msg.sender)) {
            revert VaultNotController(msg.sender);
        }
        _;
    }

    /*//////////////////////////////////////////////////////////////
                                 SETUP
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAppVault
    function initialize(
        address owner_,
        bytes32 specHash_,
        bytes32 configHash_,
        AppLimits calldata limits_,
        address[] calldata controllers_
    ) external {
        if (msg.sender != factory) revert VaultNotFactory(msg.sender);
        if (_owner != address(0)) revert VaultAlreadyInitialized();
        if (owner_ == address(0)) revert VaultZeroAddress("owner");
        _owner = owner_;
        emit OwnershipTransferred(address(0), owner_);
        _setSpec(specHash_);
        _configHash = configHash_;
        emit ConfigUpdated(configHash_);
        _setLimits(limits_);
        for (uint256 i; i < controllers_.length; ++i) {
            _setController(controllers_[i], true);
        }
    }

    /*//////////////////////////////////////////////////////////////
                                 OWNER
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAppVault
    function transferOwnership(address newOwner) external onlyOwner {
        _pendingOwner = newOwner;
        emit OwnershipTransferStarted(msg.sender, newOwner);
    }

    /// @inheritdoc IAppVault
    function acceptOwnership() external {
        if (msg.sender != _pendingOwner || msg.sender == address(0)) revert VaultNotPendingOwner(msg.sender);
        address previous = _owner;
        _owner = msg.sender;
        _pendingOwner = address(0);
        emit OwnershipTransferred(previous, msg.sender);
    }

    /// @inheritdoc IAppVault
    function setController(address controller, bool allowed) external onlyOwner {
        _setController(controller, allowed);
    }

    /// @inheritdoc IAppVault
    function setLimits(AppLimits calldata limits_) external onlyOwner {
        _setLimits(limits_);
    }

    /// @inheritdoc IAppVault
    function setSpec(bytes32 specHash_) external onlyOwner {
        _setSpec(specHash_);
    }

    /// @inheritdoc IAppVault
    function setConfig(bytes32 configHash_) external onlyOwner {
        _configHash = configHash_;
        emit ConfigUpdated(configHash_);
    }

    /// @inheritdoc IAppVault
    function setNetworkTerms(NetworkTerms calldata terms) external onlyOwner {
        if (terms.maxFeesPerDay < terms.feePerReplacement) {
            revert VaultInvalidNetworkTerms("maxFeesPerDay is below feePerReplacement");
        }
        _networkTerms = terms;
        emit NetworkTermsSet(terms.enabled, terms.feePerReplacement, terms.maxFeesPerDay);
    }

    /// @inheritdoc IAppVault
    function withdraw(address to, uint256 amount) external onlyOwner nonReentrant {
        if (to == address(0)) revert VaultZeroAddress("to");
        if (amount == 0) revert VaultZeroAmount();
        _requireBalance(amount);
        emit Withdrawn(to, amount);
        token.safeTransfer(to, amount);
    }

    /// @inheritdoc IAppVault
    function openDispute(uint256 leaseId, string calldata evidenceURI)
        external
        onlyOwner
        nonReentrant
        returns (uint256 disputeId)
    {
        uint256 bond = court.params().disputeBond;
        if (bond != 0) {
            _requireBalance(bond);
            token.forceApprove(address(court), bond);
        }
        // The court checks that the vault is the lease's publisher and pulls exactly the bond.
        disputeId = court.openDispute(leaseId, evidenceURI);
    }

    /*//////////////////////////////////////////////////////////////
                                FUNDING
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAppVault
    function fund(uint256 amount) external nonReentrant {
        _fund(amount);
    }

    /// @inheritdoc IAppVault
    function fundWithPermit(uint256 amount, PermitSignature calldata permit) external nonReentrant {
        // As in the market: a permit is public once sent, so one submitted first by someone else must not make the
        // call fail while the allowance it set covers the amount.
        try IERC20Permit(address(token))
            .permit(msg.sender, address(this), amount, permit.deadline, permit.v, permit.r, permit.s) {}
        catch {
            uint256 allowance = token.allowance(msg.sender, address(this));
            if (allowance < amount) revert VaultPermitFailed(msg.sender, allowance, amount);
        }
        _fund(amount);
    }

    function _fund(uint256 amount) private {
        if (amount == 0) revert VaultZeroAmount();
        emit Funded(msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /*//////////////////////////////////////////////////////////////
                          CONTROLLERS: INSTANCES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAppVault
    function replaceSlot(
        uint256 slot,
        uint256 expectedLease,
        Quote calldata quote,
        bytes calldata providerSignature,
        uint96 deposit
    ) external onlyController nonReentrant returns (uint256 leaseId) {
        AppLimits memory limits_ = _limits;
        _requireSlotInRange(slot, limits_.maxInstances);
        _requireSlotHolds(slot, expectedLease);
        _requireCurrentSpec(quote.specHash);
        if (quote.pricePerSecond > limits_.maxPricePerSecond) {
            revert VaultPriceAboveLimit(quote.pricePerSecond, limits_.maxPricePerSecond);
        }
        if (deposit > limits_.maxDepositPerLease) revert VaultDepositAboveLimit(deposit, limits_.maxDepositPerLease);
        // The old lease's refund arrives before the balance is checked: a replacement may be paid from it.
        _closeIfActive(expectedLease);
        _requireBalance(deposit);
        token.forceApprove(address(market), deposit);
        leaseId = market.createLease(quote, providerSignature, deposit);
        _slots[slot] = leaseId;
        emit SlotReplaced(slot, expectedLease, leaseId, msg.sender);
        _payNodeFee(slot, leaseId);
    }

    /// @inheritdoc IAppVault
    function clearSlot(uint256 slot, uint256 expectedLease) external onlyController nonReentrant {
        if (expectedLease == 0) revert VaultSlotEmpty(slot);
        _requireSlotHolds(slot, expectedLease);
        _slots[slot] = 0;
        emit SlotCleared(slot, expectedLease, msg.sender);
        _closeIfActive(expectedLease);
    }

    /// @inheritdoc IAppVault
    function topUp(uint256 slot, uint256 leaseId, uint96 amount) external onlyController nonReentrant {
        _requireSlotHolds(slot, leaseId);
        uint256 maxDeposit = _limits.maxDepositPerLease;
        // Unspent = what the lease holds minus what its provider has earned and not yet withdrawn: a provider that
        // withdraws lazily must not block the top-up of a lease that is running low.
        uint256 held = market.getLease(leaseId).balance;
        (uint256 earned,) = market.withdrawable(leaseId);
        uint256 unspent = held - earned + amount;
        if (unspent > maxDeposit) revert VaultEscrowAboveLimit(leaseId, unspent, maxDeposit);
        _requireBalance(amount);
        token.forceApprove(address(market), amount);
        market.topUp(leaseId, amount);
    }

    /// @inheritdoc IAppVault
    function updateLeaseSpec(uint256 slot, uint256 leaseId) external onlyController {
        _requireSlotHolds(slot, leaseId);
        market.updateLeaseSpec(leaseId, _specHash);
    }

    /*//////////////////////////////////////////////////////////////
                         CONTROLLERS: REVERSE MARKET
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAppVault
    function createOrder(
        Resources calldata resources,
        uint96 maxPricePerSecond,
        uint96 deposit,
        uint40 bidDeadline,
        Requirements calldata requirements
    ) external onlyController nonReentrant returns (uint256 orderId) {
        AppLimits memory limits_ = _limits;
        uint16 open = _openOrders;
        if (open >= limits_.maxInstances) revert VaultTooManyOrders(open, limits_.maxInstances);
        if (maxPricePerSecond > limits_.maxPricePerSecond) {
            revert VaultPriceAboveLimit(maxPricePerSecond, limits_.maxPricePerSecond);
        }
        if (deposit > limits_.maxDepositPerLease) revert VaultDepositAboveLimit(deposit, limits_.maxDepositPerLease);
        _requireBalance(deposit);
        _openOrders = open + 1;
        token.forceApprove(address(market), deposit);
        // Never auto-accept: anyone could then match the order with the market's finalizeOrder, and the app would pay
        // for a lease outside every slot, which no autoscaler counts and no compare-and-swap protects.
        orderId = market.createOrder(_specHash, resources, maxPricePerSecond, deposit, bidDeadline, requirements, false);
    }

    /// @inheritdoc IAppVault
    function acceptBid(uint256 orderId, address provider, uint256 slot, uint256 expectedLease)
        external
        onlyController
        nonReentrant
        returns (uint256 leaseId)
    {
        AppLimits memory limits_ = _limits;
        _requireSlotInRange(slot, limits_.maxInstances);
        _requireSlotHolds(slot, expectedLease);
        Order memory order = market.getOrder(orderId);
        _requireCurrentSpec(order.specHash);
        if (order.deposit > limits_.maxDepositPerLease) {
            revert VaultDepositAboveLimit(order.deposit, limits_.maxDepositPerLease);
        }
        Bid memory bid = market.getBid(orderId, provider);
        if (bid.pricePerSecond > limits_.maxPricePerSecond) {
            revert VaultPriceAboveLimit(bid.pricePerSecond, limits_.maxPricePerSecond);
        }
        _closeIfActive(expectedLease);
        // The market checks that the order is the vault's and open, and the bid; the deposit moves inside the market.
        leaseId = market.acceptBid(orderId, provider);
        --_openOrders;
        _slots[slot] = leaseId;
        emit SlotReplaced(slot, expectedLease, leaseId, msg.sender);
        _payNodeFee(slot, leaseId);
    }

    /// @inheritdoc IAppVault
    function cancelOrder(uint256 orderId) external onlyController nonReentrant {
        // The market checks that the order is the vault's and still open, and refunds its deposit to the vault.
        market.cancelOrder(orderId);
        --_openOrders;
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAppVault
    /// @dev Why the struct hash travels with the signature: a vault that called every controller-signed hash valid
    ///      would let one controller key move the whole balance through any token or protocol that honours ERC-1271
    ///      (USDC's permit and transferWithAuthorization do), past every spending limit. Rebuilding the digest from the
    ///      request domain proves the controller signed a provider-API request and nothing else.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length != SIGNATURE_LENGTH) return ERC1271_INVALID;
        bytes32 structHash = bytes32(signature[65:]);
        if (MessageHashUtils.toTypedDataHash(requestDomainSeparator(), structHash) != hash) return ERC1271_INVALID;
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(hash, signature[:65]);
        if (err != ECDSA.RecoverError.NoError || !_isAuthorized(signer)) return ERC1271_INVALID;
        return ERC1271_MAGIC_VALUE;
    }

    /// @inheritdoc IAppVault
    function requestDomainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(REQUEST_DOMAIN_TYPEHASH, REQUEST_DOMAIN_NAME_HASH, REQUEST_DOMAIN_VERSION_HASH, block.chainid)
        );
    }

    /// @inheritdoc IAppVault
    function owner() external view returns (address) {
        return _owner;
    }

    /// @inheritdoc IAppVault
    function pendingOwner() external view returns (address) {
        return _pendingOwner;
    }

    /// @inheritdoc IAppVault
    function specHash() external view returns (bytes32) {
        return _specHash;
    }

    /// @inheritdoc IAppVault
    function configHash() external view returns (bytes32) {
        return _configHash;
    }

    /// @inheritdoc IAppVault
    function limits() external view returns (AppLimits memory) {
        return _limits;
    }

    /// @inheritdoc IAppVault
    function isAuthorized(address account) external view returns (bool) {
        return _isAuthorized(account);
    }

    /// @inheritdoc IAppVault
    function isController(address account) external view returns (bool) {
        return _controllers[account];
    }

    /// @inheritdoc IAppVault
    function leaseOf(uint256 slot) external view returns (uint256) {
        return _slots[slot];
    }

    /// @inheritdoc IAppVault
    function openOrders() external view returns (uint256) {
        return _openOrders;
    }

    /// @inheritdoc IAppVault
    function networkTerms() external view returns (NetworkTerms memory) {
        return _networkTerms;
    }

    /// @inheritdoc IAppVault
    function feesPaidOn(uint256 day) external view returns (uint256) {
        return _feesPaid[day];
    }

    /// @inheritdoc IAppVault
    function balance() external view returns (uint256) {
        return token.balanceOf(address(this));
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev The owner counts as a controller: it could make itself one at any time, so refusing it would protect
    ///      nothing and only cost it a transaction.
    function _isAuthorized(address account) private view returns (bool) {
        return account != address(0) && (_controllers[account] || account == _owner || _isLiveNetworkNode(account));
    }

    /// @dev A node that stops its heartbeats stops being live, and with that loses every right over the app at once.
    function _isLiveNetworkNode(address account) private view returns (bool) {
        return _networkTerms.enabled && network.isLive(account);
    }

    /// @dev Pays the node that placed `leaseId` into `slot` its fee: only a caller acting as a network node (the
    ///      owner and the owner's own controllers are not paid by the network terms), at most what is left of the
    ///      day's cap and of the balance. A replacement is never refused for want of a fee: the app must stay up.
    function _payNodeFee(uint256 slot, uint256 leaseId) private {
        if (_controllers[msg.sender] || msg.sender == _owner) return;
        NetworkTerms memory terms = _networkTerms;
        uint256 day = block.timestamp / 1 days;
        uint256 paid = _feesPaid[day];
        uint256 fee = terms.feePerReplacement;
        uint256 left = terms.maxFeesPerDay > paid ? terms.maxFeesPerDay - paid : 0;
        if (fee > left) fee = left;
        uint256 held = token.balanceOf(address(this));
        if (fee > held) fee = held;
        if (fee == 0) return;
        _feesPaid[day] = paid + fee;
        emit NodeFeePaid(msg.sender, slot, leaseId, fee);
        token.safeTransfer(msg.sender, fee);
    }

    function _setController(address controller, bool allowed) private {
        if (controller == address(0)) revert VaultZeroAddress("controller");
        _controllers[controller] = allowed;
        emit ControllerSet(controller, allowed);
    }

    function _setLimits(AppLimits calldata limits_) private {
        _limits = limits_;
        emit LimitsSet(limits_.maxPricePerSecond, limits_.maxDepositPerLease, limits_.maxInstances);
    }

    function _setSpec(bytes32 specHash_) private {
        if (specHash_ == bytes32(0)) revert VaultZeroSpecHash();
        _specHash = specHash_;
        emit SpecUpdated(specHash_);
    }

    function _requireSlotInRange(uint256 slot, uint16 maxInstances) private pure {
        if (slot >= maxInstances) revert VaultSlotOutOfRange(slot, maxInstances);
    }

    /// @dev The compare-and-swap: two controllers that read the same slot cannot both act on it.
    function _requireSlotHolds(uint256 slot, uint256 expectedLease) private view {
        uint256 current = _slots[slot];
        if (current != expectedLease) revert VaultSlotMismatch(slot, expectedLease, current);
    }

    function _requireCurrentSpec(bytes32 specHash_) private view {
        bytes32 current = _specHash;
        if (specHash_ != current) revert VaultSpecMismatch(current, specHash_);
    }

    function _requireBalance(uint256 needed) private view {
        uint256 held = token.balanceOf(address(this));
        if (held < needed) revert VaultInsufficientBalance(held, needed);
    }

    /// @dev Closes `leaseId` (0: none) if it is still active; its unspent funds (and any compensation) come back to
    ///      the vault. A lease that ran out or whose provider was reported dark is closed the same way.
    function _closeIfActive(uint256 leaseId) private {
        if (leaseId == 0) return;
        if (market.getLease(leaseId).status == LeaseStatus.Active) market.closeLease(leaseId);
    }
}
