// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PermitSignature, Quote, Requirements, Resources} from "../types/MarketTypes.sol";
import {NetworkTerms} from "../types/NetworkTypes.sol";
import {AppLimits} from "../types/VaultTypes.sol";
import {IAutoscalerNetwork} from "./IAutoscalerNetwork.sol";
import {IDisputeCourt} from "./IDisputeCourt.sol";
import {IPodnetMarket} from "./IPodnetMarket.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IAppVault
/// @notice One app of the autoscaler protocol: its owner, its pod spec and selection config (by hash), the controllers
///         (autoscalers) that keep it running, the spending limits the owner sets for them, and its balance.
/// @dev One vault per app, an EIP-1167 clone made by AppVaultFactory. The vault is the publisher of every lease and
///      order of its app, so everything the market pays a publisher (refunds, dark-provider compensation, dispute
///      payouts, order refunds) comes straight back into the app's balance, which is the vault's token balance.
///      Anyone may fund it; only the owner withdraws; controllers (and the owner) spend it only through the functions
///      below, on leases of the app's current spec, within the limits. Instance slots are replaced by compare-and-swap
///      so that two autoscalers racing to fill or replace one slot cannot both lease.
///
///      ERC-1271: `isValidSignature` accepts a signature by the owner or a controller of this app, but only over a
///      provider-API request digest (EIP-712 domain "Podnet Provider API", version 1, this chain): never over a token
///      permit or any other message, so a controller key cannot sign the vault's tokens away even with a token that
///      honours ERC-1271 permits. See `isValidSignature`.
interface IAppVault is IERC1271 {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Only the app's owner may do this.
    error VaultNotOwner(address caller);
    /// @notice Only a controller of the app (or its owner) may do this.
    error VaultNotController(address caller);
    /// @notice Only the pending owner may accept the ownership.
    error VaultNotPendingOwner(address caller);
    /// @notice Only the factory that made the vault may initialize it.
    error VaultNotFactory(address caller);
    /// @notice The vault was already initialized.
    error VaultAlreadyInitialized();
    /// @notice The address `field` must be set.
    error VaultZeroAddress(string field);
    /// @notice An amount that must be positive is zero.
    error VaultZeroAmount();
    /// @notice An app needs a pod spec: the spec hash is zero.
    error VaultZeroSpecHash();
    /// @notice `slot` is not one of the app's instance slots (0 .. maxInstances - 1).
    error VaultSlotOutOfRange(uint256 slot, uint256 maxInstances);
    /// @notice Compare-and-swap failed: `slot` holds `currentLease`, not `expectedLease` (someone replaced it first).
    error VaultSlotMismatch(uint256 slot, uint256 expectedLease, uint256 currentLease);
    /// @notice `slot` holds no lease.
    error VaultSlotEmpty(uint256 slot);
    /// @notice The lease or order is for `specHash`, not the app's current spec `appSpecHash`.
    error VaultSpecMismatch(bytes32 appSpecHash, bytes32 specHash);
    /// @notice `pricePerSecond` is above the app's `maxPricePerSecond`.
    error VaultPriceAboveLimit(uint256 pricePerSecond, uint256 maxPricePerSecond);
    /// @notice `deposit` is above the app's `maxDepositPerLease`.
    error VaultDepositAboveLimit(uint256 deposit, uint256 maxDepositPerLease);
    /// @notice The top-up would leave `unspent` of unspent funds in lease `leaseId`, above the app's
    ///         `maxDepositPerLease`.
    error VaultEscrowAboveLimit(uint256 leaseId, uint256 unspent, uint256 maxDepositPerLease);
    /// @notice The app's balance `balance` does not cover `needed`.
    error VaultInsufficientBalance(uint256 balance, uint256 needed);
    /// @notice The app already has `openOrders` open orders, its `maxInstances`: cancel one first.
    error VaultTooManyOrders(uint256 openOrders, uint256 maxInstances);
    /// @notice The network fee terms are invalid: `reason`.
    error VaultInvalidNetworkTerms(string reason);
    /// @notice The permit failed and `owner`'s allowance for the vault, `allowance`, does not cover `needed`.
    error VaultPermitFailed(address owner, uint256 allowance, uint256 needed);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice `newOwner` may accept the ownership (address(0): a pending transfer was cancelled).
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    /// @notice The app's owner changed (from address(0) at creation).
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    /// @notice `controller` may (`allowed`) or may no longer spend the app's balance and sign for it.
    event ControllerSet(address indexed controller, bool allowed);
    /// @notice The owner set the spending limits.
    event LimitsSet(uint96 maxPricePerSecond, uint96 maxDepositPerLease, uint16 maxInstances);
    /// @notice The app's pod spec is now `specHash`: new leases and orders must be for it.
    event SpecUpdated(bytes32 specHash);
    /// @notice The app's selection config (app.yaml) is now the one hashing to `configHash`.
    event ConfigUpdated(bytes32 configHash);
    /// @notice `from` added `amount` to the app's balance.
    event Funded(address indexed from, uint256 amount);
    /// @notice The owner took `amount` out of the app's balance to `to`.
    event Withdrawn(address indexed to, uint256 amount);
    /// @notice Instance `slot` now holds `newLease` instead of `oldLease` (0: the slot was empty); `by` did it. A
    ///         still-active `oldLease` was closed in the same call (the market's LeaseClosed).
    event SlotReplaced(uint256 indexed slot, uint256 indexed oldLease, uint256 indexed newLease, address by);
    /// @notice The owner set how the app uses the autoscaler network (network mode on or off, and its fees).
    event NetworkTermsSet(bool enabled, uint96 feePerReplacement, uint96 maxFeesPerDay);
    /// @notice The app paid network node `node` `amount` for placing `newLease` into `slot` (the SlotReplaced of the
    ///         same call). Less than the fee per replacement when the day's cap or the balance ran short.
    event NodeFeePaid(address indexed node, uint256 indexed slot, uint256 indexed newLease, uint256 amount);
    /// @notice Instance `slot` is empty again; its `lease` was closed in the same call if still active.
    event SlotCleared(uint256 indexed slot, uint256 indexed lease, address by);

    /*//////////////////////////////////////////////////////////////
                                 SETUP
    //////////////////////////////////////////////////////////////*/

    /// @notice Sets up a fresh clone. Only the factory calls it, in the transaction that creates the clone.
    function initialize(
        address owner,
        bytes32 specHash,
        bytes32 configHash,
        AppLimits calldata limits,
        address[] calldata controllers
    ) external;

    /*//////////////////////////////////////////////////////////////
                                 OWNER
    //////////////////////////////////////////////////////////////*/

    /// @notice Starts handing the app to `newOwner`, who must `acceptOwnership` (address(0) cancels). Controllers stay.
    function transferOwnership(address newOwner) external;

    /// @notice The pending owner takes over the app.
    function acceptOwnership() external;

    /// @notice Lets `controller` spend the app's balance within the limits and sign provider-API requests for the
    ///         app (`allowed`), or stops it.
    function setController(address controller, bool allowed) external;

    /// @notice Replaces the spending limits. Leases already running are not touched; every later spend is checked
    ///         against the new limits (a slot at or above a lowered `maxInstances` can only be cleared).
    function setLimits(AppLimits calldata limits) external;

    /// @notice Points the app at a new pod spec. Running leases keep theirs until a controller calls
    ///         `updateLeaseSpec`; new leases and orders must be for the new one.
    function setSpec(bytes32 specHash) external;

    /// @notice Records the hash of the app's new selection config (app.yaml).
    function setConfig(bytes32 configHash) external;

    /// @notice Network mode: with `terms.enabled` every live node of the autoscaler network may act as a controller of
    ///         the app (and sign its provider-API requests), and the node that places a lease into a slot is paid
    ///         `feePerReplacement`, at most `maxFeesPerDay` in one day. Off: the network's nodes lose every right at once.
    function setNetworkTerms(NetworkTerms calldata terms) external;

    /// @notice Sends `amount` of the app's balance to `to`.
    function withdraw(address to, uint256 amount) external;

    /// @notice Opens a dispute (DisputeCourt) on a lease of this app, running or recently ended, paying the court's
    ///         bond from the app's balance (it comes back unless the arbiter dismisses). Owner only: a dismissed
    ///         dispute loses the bond, a judgement a controller key should not make.
    function openDispute(uint256 leaseId, string calldata evidenceURI) external returns (uint256 disputeId);

    /*//////////////////////////////////////////////////////////////
                                FUNDING
    //////////////////////////////////////////////////////////////*/

    /// @notice Adds `amount` to the app's balance, pulled from the caller (who approved the vault). Anyone may.
    function fund(uint256 amount) external;

    /// @notice fund with the caller's EIP-2612 permit of `amount` for the vault instead of an approval. A failed
    ///         permit (front-run, or a token without permits) is ignored when the allowance covers `amount`.
    function fundWithPermit(uint256 amount, PermitSignature calldata permit) external;

    /*//////////////////////////////////////////////////////////////
                          CONTROLLERS: INSTANCES
    //////////////////////////////////////////////////////////////*/

    /// @notice Places a new lease from a provider's signed quote into instance `slot`, compare-and-swap: the slot must
    ///         hold `expectedLease` (0 for an empty slot), else the call reverts (VaultSlotMismatch) and nothing
    ///         happens. The old lease, if still active, is closed first (its refund comes back to the app). The quote
    ///         must be for the app's current spec, at most `maxPricePerSecond`, and name the vault (or nobody) as
    ///         publisher; `deposit` at most `maxDepositPerLease`. The vault approves the market for exactly `deposit`.
    /// @return leaseId The new lease.
    function replaceSlot(
        uint256 slot,
        uint256 expectedLease,
        Quote calldata quote,
        bytes calldata providerSignature,
        uint96 deposit
    ) external returns (uint256 leaseId);

    /// @notice Empties instance `slot` (scaling down), compare-and-swap on `expectedLease` (not 0), closing the lease if
    ///         still active. Works on any slot, also one at or above a lowered `maxInstances`.
    function clearSlot(uint256 slot, uint256 expectedLease) external;

    /// @notice Adds `amount` from the app's balance to `leaseId`, which must be the lease in `slot`. Its unspent funds
    ///         afterwards must stay within `maxDepositPerLease`.
    function topUp(uint256 slot, uint256 leaseId, uint96 amount) external;

    /// @notice Points `leaseId`, the lease in `slot`, at the app's current spec (after `setSpec`).
    function updateLeaseSpec(uint256 slot, uint256 leaseId) external;

    /*//////////////////////////////////////////////////////////////
                         CONTROLLERS: REVERSE MARKET
    //////////////////////////////////////////////////////////////*/

    /// @notice Opens an order for the app's current spec, escrowing `deposit` from the app's balance, without
    ///         auto-accept: only the vault can match it (`acceptBid`), so no lease of the app ever starts outside a
    ///         slot. `maxPricePerSecond` and `deposit` within the limits; at most `maxInstances` orders open at once.
    function createOrder(
        Resources calldata resources,
        uint96 maxPricePerSecond,
        uint96 deposit,
        uint40 bidDeadline,
        Requirements calldata requirements
    ) external returns (uint256 orderId);

    /// @notice Matches the app's order `orderId` to `provider`'s bid and places the new lease into `slot`, with the same
    ///         compare-and-swap and closing of the old lease as `replaceSlot`. The order must still be for the app's
    ///         current spec, and the bid's price and the order's deposit within the current limits.
    function acceptBid(uint256 orderId, address provider, uint256 slot, uint256 expectedLease)
        external
        returns (uint256 leaseId);

    /// @notice Cancels the app's open order `orderId`; its deposit comes back to the app's balance.
    function cancelOrder(uint256 orderId) external;

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice ERC-1271: `0x1626ba7e` iff `signature` is the owner's or a controller's ECDSA signature of `hash`, and
    ///         `hash` is a provider-API request digest: `signature` = the 65-byte signature (r, s, v) followed by the
    ///         32-byte EIP-712 struct hash of the request, and `hash` = keccak256("\x19\x01" ‖ requestDomainSeparator()
    ///         ‖ structHash). Anything else gives `0xffffffff`.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4);

    /// @notice The EIP-712 domain separator of provider-API requests on this chain ("Podnet Provider API", "1",
    ///         chainId; no verifying contract), the only domain whose digests `isValidSignature` accepts.
    function requestDomainSeparator() external view returns (bytes32);

    /// @notice The market the app leases from.
    function market() external view returns (IPodnetMarket);

    /// @notice The court disputes are opened in.
    function court() external view returns (IDisputeCourt);

    /// @notice The autoscaler network whose live nodes serve the app in network mode.
    function network() external view returns (IAutoscalerNetwork);

    function networkTerms() external view returns (NetworkTerms memory);

    /// @notice Fees paid to nodes on `day` (block time / 1 days).
    function feesPaidOn(uint256 day) external view returns (uint256);

    /// @notice The payment token (the market's).
    function token() external view returns (IERC20);

    /// @notice The factory that made the vault.
    function factory() external view returns (address);

    function owner() external view returns (address);

    function pendingOwner() external view returns (address);

    /// @notice The app's current pod spec.
    function specHash() external view returns (bytes32);

    /// @notice The hash of the app's selection config (app.yaml).
    function configHash() external view returns (bytes32);

    function limits() external view returns (AppLimits memory);

    /// @notice Whether `account` may spend for the app and sign its requests: the owner, a controller, or (network
    ///         mode) a live node of the network.
    function isAuthorized(address account) external view returns (bool);

    function isController(address account) external view returns (bool);

    /// @notice The lease in instance `slot` (0: empty). It may have ended since it was placed.
    function leaseOf(uint256 slot) external view returns (uint256 leaseId);

    /// @notice Orders of the app opened and not yet matched or cancelled (expired ones count until cancelled).
    function openOrders() external view returns (uint256);

    /// @notice The app's balance: the vault's token balance.
    function balance() external view returns (uint256);
}
