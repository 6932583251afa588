// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPodnetMarket} from "../src/interfaces/IPodnetMarket.sol";
import {CloseReason, Lease, LeaseStatus, MarketParams, Quote, Resources, Stake} from "../src/types/MarketTypes.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Vm} from "forge-std/Vm.sol";

/// @dev A smart-contract provider that accepts its owner's ECDSA signatures (ERC-1271).
contract OwnedWallet {
    address internal immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == owner ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }
}

contract PodnetMarketLeaseTest is MarketFixture {
    uint256 internal constant STAKE = 1000 * TOKEN;
    uint256 internal constant COLLATERAL = uint256(PRICE) * 1 days;
    uint256 internal constant FEE_BPS = 100;
    uint96 internal constant MIN_DEPOSIT = PRICE * 1 hours;

    function setUp() public override {
        super.setUp();
        _onboard(provider, STAKE);
    }

    /*//////////////////////////////////////////////////////////////
                                HELPERS
    //////////////////////////////////////////////////////////////*/

    function _ids(uint256 a) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](1);
        ids[0] = a;
    }

    function _ids(uint256 a, uint256 b) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](2);
        ids[0] = a;
        ids[1] = b;
    }

    function _withdraw(address who, uint256 leaseId) internal returns (uint256 net) {
        vm.prank(who);
        net = market.withdraw(_ids(leaseId));
    }

    function _close(address who, uint256 leaseId) internal {
        vm.prank(who);
        market.closeLease(leaseId);
    }

    /// @dev Signs `quote` with the provider's key and has `caller` use it.
    function _create(address caller, Quote memory quote, uint96 deposit) internal returns (uint256 leaseId) {
        bytes memory signature = _sign(providerKey, quote);
        vm.prank(caller);
        leaseId = market.createLease(quote, signature, deposit);
    }

    /// @dev Signs `quote` with `key` and expects `caller`'s createLease to revert with `reason`.
    function _expectCreateRevert(uint256 key, Quote memory quote, uint96 deposit, bytes memory reason) internal {
        bytes memory signature = _sign(key, quote);
        vm.expectRevert(reason);
        vm.prank(publisher);
        market.createLease(quote, signature, deposit);
    }

    function _setFee(uint16 feeBps) internal {
        MarketParams memory p = defaultParams();
        p.feeBps = feeBps;
        vm.prank(admin);
        market.setParams(p);
    }

    function _assertStake(address who, uint256 free, uint256 locked) internal view {
        Stake memory s = market.stakeOf(who);
        assertEq(s.free, free, "free stake");
        assertEq(s.locked, locked, "locked stake");
    }

    function _fee(uint256 gross) internal pure returns (uint256) {
        return gross * FEE_BPS / 10_000;
    }

    /*//////////////////////////////////////////////////////////////
                              CREATE LEASE
    //////////////////////////////////////////////////////////////*/

    function test_createLease_storesLease() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);

        assertEq(leaseId, 1);
        assertEq(market.leaseCount(), 1);
        Lease memory lease = market.getLease(leaseId);
        assertEq(lease.publisher, publisher);
        assertEq(lease.startedAt, START_TIME);
        assertEq(lease.endedAt, 0);
        assertEq(uint8(lease.status), uint8(LeaseStatus.Active));
        assertEq(lease.provider, provider);
        assertEq(lease.pricePerSecond, PRICE);
        assertEq(lease.balance, DEPOSIT);
        assertEq(lease.collateral, COLLATERAL);
        assertEq(lease.settledAt, START_TIME);
        assertEq(lease.specHash, SPEC);
    }

    function test_createLease_locksCollateral() public {
        _lease(PRICE, DEPOSIT, 1);
        _assertStake(provider, STAKE - COLLATERAL, COLLATERAL);
    }

    function test_createLease_movesDeposit() public {
        uint256 publisherBefore = token.balanceOf(publisher);
        _lease(PRICE, DEPOSIT, 1);
        assertEq(token.balanceOf(publisher), publisherBefore - DEPOSIT);
        assertEq(token.balanceOf(address(market)), STAKE + DEPOSIT);
    }

    function test_createLease_emitsLeaseCreated() public {
        vm.expectEmit(true, true, true, true, address(market));
        emit IPodnetMarket.LeaseCreated(
            1, publisher, provider, 0, SPEC, defaultResources(), PRICE, DEPOSIT, COLLATERAL, ATTESTATION
        );
        _lease(PRICE, DEPOSIT, 1);
    }

    function test_createLease_usesQuoteNonce() public {
        assertFalse(market.isQuoteNonceUsed(provider, 7));
        _lease(PRICE, DEPOSIT, 7);
        assertTrue(market.isQuoteNonceUsed(provider, 7));
        assertFalse(market.isQuoteNonceUsed(provider, 6));
        assertFalse(market.isQuoteNonceUsed(provider, 8));
    }

    function test_createLease_countsLeases() public {
        assertEq(market.leaseCount(), 0);
        assertEq(_lease(PRICE, DEPOSIT, 1), 1);
        assertEq(_lease(PRICE, DEPOSIT, 2), 2);
        assertEq(market.leaseCount(), 2);
        _assertStake(provider, STAKE - 2 * COLLATERAL, 2 * COLLATERAL);
    }

    function test_createLease_acceptsDepositOfExactlyMinimum() public {
        uint256 leaseId = _lease(PRICE, MIN_DEPOSIT, 1);
        assertEq(market.getLease(leaseId).balance, MIN_DEPOSIT);
    }

    function test_createLease_acceptsQuoteAtValidUntil() public {
        Quote memory quote = _quote(provider, PRICE, 1);
        bytes memory signature = _sign(providerKey, quote);
        vm.warp(quote.validUntil);
        vm.prank(publisher);
        uint256 leaseId = market.createLease(quote, signature, DEPOSIT);
        assertEq(market.getLease(leaseId).startedAt, quote.validUntil);
    }

    function test_createLease_revertsWhenQuoteExpired() public {
        Quote memory quote = _quote(provider, PRICE, 1);
        bytes memory signature = _sign(providerKey, quote);
        vm.warp(uint256(quote.validUntil) + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPodnetMarket.MarketQuoteExpired.selector, quote.validUntil, uint256(quote.validUntil) + 1
            )
        );
        vm.prank(publisher);
        market.createLease(quote, signature, DEPOSIT);
    }

    function test_createLease_revertsWhenWrongPublisher() public {
        Quote memory quote = _quote(provider, PRICE, 1);
        bytes memory signature = _sign(providerKey, quote);
        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketQuoteWrongPublisher.selector, publisher, otherPublisher)
        );
        vm.prank(otherPublisher);
        market.createLease(quote, signature, DEPOSIT);
    }

    function test_createLease_openQuoteAnyoneCanUse() public {
        Quote memory quote = _quote(provider, PRICE, 1);
        quote.publisher = address(0);
        uint256 strangerBefore = token.balanceOf(stranger);

        uint256 leaseId = _create(stranger, quote, DEPOSIT);

        assertEq(market.getLease(leaseId).publisher, stranger);
        assertEq(token.balanceOf(stranger), strangerBefore - DEPOSIT);
    }

    function test_createLease_revertsWhenSignatureGarbage() public {
        Quote memory quote = _quote(provider, PRICE, 1);
        bytes memory signature = abi.encodePacked(bytes32(uint256(1)), bytes32(uint256(2)), uint8(27));
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketInvalidQuoteSignature.selector, provider));
        vm.prank(publisher);
        market.createLease(quote, signature, DEPOSIT);
    }

    function test_createLease_revertsWhenSignatureEmpty() public {
        Quote memory quote = _quote(provider, PRICE, 1);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketInvalidQuoteSignature.selector, provider));
        vm.prank(publisher);
        market.createLease(quote, "", DEPOSIT);
    }

    function test_createLease_revertsWhenQuoteTamperedAfterSigning() public {
        Quote memory quote = _quote(provider, PRICE, 1);
        bytes memory signature = _sign(providerKey, quote);
        quote.pricePerSecond = PRICE - 1;
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketInvalidQuoteSignature.selector, provider));
        vm.prank(publisher);
        market.createLease(quote, signature, DEPOSIT);
    }

    function test_createLease_revertsWhenSignedByAnotherKey() public {
        _expectCreateRevert(
            provider2Key,
            _quote(provider, PRICE, 1),
            DEPOSIT,
            abi.encodeWithSelector(IPodnetMarket.MarketInvalidQuoteSignature.selector, provider)
        );
        assertFalse(market.isQuoteNonceUsed(provider, 1));
    }

    function test_createLease_revertsWhenSignatureMalleated() public {
        Quote memory quote = _quote(provider, PRICE, 1);
        (uint8 v, bytes32 r, bytes32 sig) = vm.sign(providerKey, market.hashQuote(quote));
        // The same signature with s in the upper half of the curve order: OpenZeppelin's ECDSA rejects it.
        uint256 n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
        bytes memory malleated = abi.encodePacked(r, bytes32(n - uint256(sig)), v == 27 ? uint8(28) : uint8(27));
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketInvalidQuoteSignature.selector, provider));
        vm.prank(publisher);
        market.createLease(quote, malleated, DEPOSIT);
    }

    function test_createLease_revertsWhenQuoteProviderZero() public {
        Quote memory quote = _quote(address(0), PRICE, 1);
        _expectCreateRevert(
            providerKey,
            quote,
            DEPOSIT,
            abi.encodeWithSelector(IPodnetMarket.MarketInvalidQuoteSignature.selector, address(0))
        );
    }

    function test_createLease_acceptsErc1271Provider() public {
        (address owner, uint256 ownerKey) = makeAddrAndKey("walletOwner");
        address wallet = address(new OwnedWallet(owner));
        _onboard(wallet, STAKE);

        Quote memory quote = _quote(wallet, PRICE, 1);
        bytes memory signature = _sign(ownerKey, quote);
        vm.prank(publisher);
        uint256 leaseId = market.createLease(quote, signature, DEPOSIT);

        assertEq(market.getLease(leaseId).provider, wallet);
        assertEq(market.stakeOf(wallet).locked, COLLATERAL);

        // Someone else's signature is not the wallet's.
        Quote memory other = _quote(wallet, PRICE, 2);
        _expectCreateRevert(
            providerKey,
            other,
            DEPOSIT,
            abi.encodeWithSelector(IPodnetMarket.MarketInvalidQuoteSignature.selector, wallet)
        );
    }

    function test_hashQuote_isEip712Digest() public view {
        Quote memory quote = _quote(provider, PRICE, 42);
        bytes32 domainSeparator = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Podnet"),
                keccak256("1"),
                block.chainid,
                address(market)
            )
        );
        bytes32 resourcesHash = keccak256(
            abi.encode(
                keccak256("Resources(uint32 cpuMillis,uint32 memoryMiB,uint32 storageMiB)"),
                quote.resources.cpuMillis,
                quote.resources.memoryMiB,
                quote.resources.storageMiB
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "Quote(address provider,address publisher,bytes32 specHash,Resources resources,uint96 pricePerSecond,uint40 validUntil,bytes32 attestationHash,uint256 nonce)Resources(uint32 cpuMillis,uint32 memoryMiB,uint32 storageMiB)"
                ),
                quote.provider,
                quote.publisher,
                quote.specHash,
                resourcesHash,
                quote.pricePerSecond,
                quote.validUntil,
                quote.attestationHash,
                quote.nonce
            )
        );
        assertEq(market.hashQuote(quote), keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash)));
    }

    function test_createLease_revertsOnReplay() public {
        Quote memory quote = _quote(provider, PRICE, 1);
        bytes memory signature = _sign(providerKey, quote);
        vm.prank(publisher);
        market.createLease(quote, signature, DEPOSIT);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketQuoteNonceUsed.selector, provider, 1));
        vm.prank(publisher);
        market.createLease(quote, signature, DEPOSIT);
        assertEq(market.leaseCount(), 1);
    }

    function test_createLease_revertsWhenNonceReusedInAnotherQuote() public {
        _lease(PRICE, DEPOSIT, 1);
        Quote memory quote = _quote(provider, PRICE * 2, 1);
        _expectCreateRevert(
            providerKey,
            quote,
            DEPOSIT * 2,
            abi.encodeWithSelector(IPodnetMarket.MarketQuoteNonceUsed.selector, provider, 1)
        );
    }

    function test_createLease_revertsWhenNonceInvalidated() public {
        uint256 nonce = 3 * 256 + 17;
        vm.prank(provider);
        market.invalidateQuoteNonces(3, 1 << 17);
        _expectCreateRevert(
            providerKey,
            _quote(provider, PRICE, nonce),
            DEPOSIT,
            abi.encodeWithSelector(IPodnetMarket.MarketQuoteNonceUsed.selector, provider, nonce)
        );
    }

    function test_createLease_revertsWhenPriceZero() public {
        _expectCreateRevert(
            providerKey, _quote(provider, 0, 1), DEPOSIT, abi.encodeWithSelector(IPodnetMarket.MarketZeroPrice.selector)
        );
    }

    function test_createLease_revertsWhenSpecZero() public {
        Quote memory quote = _quote(provider, PRICE, 1);
        quote.specHash = bytes32(0);
        _expectCreateRevert(
            providerKey, quote, DEPOSIT, abi.encodeWithSelector(IPodnetMarket.MarketZeroSpecHash.selector)
        );
    }

    function test_createLease_revertsWhenCpuZero() public {
        Quote memory quote = _quote(provider, PRICE, 1);
        quote.resources = Resources({cpuMillis: 0, memoryMiB: 512, storageMiB: 1024});
        _expectCreateRevert(
            providerKey,
            quote,
            DEPOSIT,
            abi.encodeWithSelector(IPodnetMarket.MarketInvalidResources.selector, quote.resources)
        );
    }

    function test_createLease_revertsWhenMemoryZero() public {
        Quote memory quote = _quote(provider, PRICE, 1);
        quote.resources = Resources({cpuMillis: 500, memoryMiB: 0, storageMiB: 1024});
        _expectCreateRevert(
            providerKey,
            quote,
            DEPOSIT,
            abi.encodeWithSelector(IPodnetMarket.MarketInvalidResources.selector, quote.resources)
        );
    }

    function test_createLease_acceptsZeroStorage() public {
        Quote memory quote = _quote(provider, PRICE, 1);
        quote.resources = Resources({cpuMillis: 1, memoryMiB: 1, storageMiB: 0});
        uint256 leaseId = _create(publisher, quote, DEPOSIT);
        assertEq(uint8(market.getLease(leaseId).status), uint8(LeaseStatus.Active));
    }

    function test_createLease_revertsWhenDepositZero() public {
        _expectCreateRevert(
            providerKey, _quote(provider, PRICE, 1), 0, abi.encodeWithSelector(IPodnetMarket.MarketZeroAmount.selector)
        );
    }

    function test_createLease_revertsWhenDepositBelowMinimum() public {
        _expectCreateRevert(
            providerKey,
            _quote(provider, PRICE, 1),
            MIN_DEPOSIT - 1,
            abi.encodeWithSelector(IPodnetMarket.MarketDepositTooLow.selector, MIN_DEPOSIT - 1, MIN_DEPOSIT)
        );
    }

    function test_createLease_revertsWhenProviderPaused() public {
        vm.prank(provider);
        registry.pause();
        _expectCreateRevert(
            providerKey,
            _quote(provider, PRICE, 1),
            DEPOSIT,
            abi.encodeWithSelector(IPodnetMarket.MarketProviderNotActive.selector, provider)
        );
    }

    function test_createLease_worksAgainAfterResume() public {
        vm.prank(provider);
        registry.pause();
        vm.prank(provider);
        registry.resume();
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        assertEq(market.getLease(leaseId).provider, provider);
    }

    function test_createLease_revertsWhenProviderNotRegistered() public {
        (address unregistered, uint256 key) = makeAddrAndKey("unregistered");
        _expectCreateRevert(
            key,
            _quote(unregistered, PRICE, 1),
            DEPOSIT,
            abi.encodeWithSelector(IPodnetMarket.MarketProviderNotActive.selector, unregistered)
        );
    }

    function test_createLease_revertsWhenStakeBelowMinimum() public {
        _onboard(provider2, 50 * TOKEN);
        _expectCreateRevert(
            provider2Key,
            _quote(provider2, PRICE, 1),
            DEPOSIT,
            abi.encodeWithSelector(IPodnetMarket.MarketStakeBelowMinimum.selector, provider2, 50 * TOKEN, 100 * TOKEN)
        );
    }

    function test_createLease_unbondingStakeDoesNotCount() public {
        vm.prank(provider);
        market.unstake(STAKE - 99 * TOKEN);
        _expectCreateRevert(
            providerKey,
            _quote(provider, PRICE, 1),
            DEPOSIT,
            abi.encodeWithSelector(IPodnetMarket.MarketStakeBelowMinimum.selector, provider, 99 * TOKEN, 100 * TOKEN)
        );
    }

    function test_createLease_revertsWhenFreeStakeBelowCollateral() public {
        uint96 price = 2e16; // collateral 1728 TOKEN > 1000 TOKEN staked
        uint256 collateral = uint256(price) * 1 days;
        _expectCreateRevert(
            providerKey,
            _quote(provider, price, 1),
            price * 1 hours,
            abi.encodeWithSelector(IPodnetMarket.MarketInsufficientFreeStake.selector, provider, STAKE, collateral)
        );
    }

    function test_createLease_revertsWhenCollateralAlreadyLocked() public {
        uint96 price = 6e15; // collateral 518.4 TOKEN: one lease fits in 1000 TOKEN, two do not
        uint256 collateral = uint256(price) * 1 days;
        _lease(price, price * 1 hours, 1);
        _expectCreateRevert(
            providerKey,
            _quote(provider, price, 2),
            price * 1 hours,
            abi.encodeWithSelector(
                IPodnetMarket.MarketInsufficientFreeStake.selector, provider, STAKE - collateral, collateral
            )
        );
    }

    /*//////////////////////////////////////////////////////////////
                                 TOP UP
    //////////////////////////////////////////////////////////////*/

    function test_topUp_anyoneCanPay() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        uint256 strangerBefore = token.balanceOf(stranger);
        uint96 amount = PRICE * 1000;

        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.LeaseToppedUp(leaseId, stranger, amount, DEPOSIT + amount);
        vm.prank(stranger);
        market.topUp(leaseId, amount);

        assertEq(market.getLease(leaseId).balance, DEPOSIT + amount);
        assertEq(market.getLease(leaseId).publisher, publisher, "payer does not become publisher");
        assertEq(token.balanceOf(stranger), strangerBefore - amount);
        assertEq(token.balanceOf(address(market)), STAKE + DEPOSIT + amount);
        assertEq(market.leaseRunsOutAt(leaseId), START_TIME + 1 days + 1000);
    }

    function test_topUp_keepsAccrualRunning() public {
        uint256 leaseId = _lease(PRICE, MIN_DEPOSIT, 1);
        vm.warp(START_TIME + 1 hours - 1);
        vm.prank(publisher);
        market.topUp(leaseId, PRICE * 100);

        vm.warp(START_TIME + 1 hours + 50);
        (uint256 amount, bool outOfFunds) = market.withdrawable(leaseId);
        assertEq(amount, uint256(PRICE) * (1 hours + 50));
        assertFalse(outOfFunds);
    }

    function test_topUp_revertsWhenAmountZero() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.expectRevert(IPodnetMarket.MarketZeroAmount.selector);
        vm.prank(publisher);
        market.topUp(leaseId, 0);
    }

    function test_topUp_revertsWhenLeaseNotFound() public {
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketLeaseNotFound.selector, 42));
        vm.prank(publisher);
        market.topUp(42, PRICE);
    }

    function test_topUp_revertsWhenClosed() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        _close(publisher, leaseId);
        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketLeaseNotActive.selector, leaseId, LeaseStatus.Closed)
        );
        vm.prank(publisher);
        market.topUp(leaseId, PRICE);
    }

    function test_topUp_succeedsOneSecondBeforeFundsRunOut() public {
        uint256 leaseId = _lease(PRICE, MIN_DEPOSIT, 1);
        vm.warp(START_TIME + 1 hours - 1);
        vm.prank(publisher);
        market.topUp(leaseId, PRICE);
        assertEq(market.leaseRunsOutAt(leaseId), START_TIME + 1 hours + 1);
    }

    function test_topUp_revertsWhenOutOfFunds() public {
        uint256 leaseId = _lease(PRICE, MIN_DEPOSIT, 1);
        vm.warp(START_TIME + 1 hours);
        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketLeaseOutOfFunds.selector, leaseId, START_TIME + 1 hours)
        );
        vm.prank(publisher);
        market.topUp(leaseId, PRICE);
    }

    function test_topUp_revertsWhenOutOfFundsWithPartialLastSecond() public {
        // 3600.5 seconds of funds: the last, partial second is paid in full, so funds run out at +3601.
        uint256 leaseId = _lease(PRICE, MIN_DEPOSIT + PRICE / 2, 1);
        assertEq(market.leaseRunsOutAt(leaseId), START_TIME + 1 hours + 1);
        vm.warp(START_TIME + 10 days);
        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketLeaseOutOfFunds.selector, leaseId, START_TIME + 1 hours + 1)
        );
        vm.prank(stranger);
        market.topUp(leaseId, PRICE);
    }

    function test_topUp_revertsWhenOutOfFundsAfterWithdraw() public {
        uint256 leaseId = _lease(PRICE, MIN_DEPOSIT, 1);
        vm.warp(START_TIME + 2 hours);
        _withdraw(provider, leaseId);
        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketLeaseOutOfFunds.selector, leaseId, START_TIME + 1 hours)
        );
        vm.prank(publisher);
        market.topUp(leaseId, PRICE);
    }

    function test_topUp_revertsWhenBalanceOverflowsUint96() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        uint96 amount = type(uint96).max - DEPOSIT + 1;
        vm.expectRevert(
            abi.encodeWithSelector(
                SafeCast.SafeCastOverflowedUintDowncast.selector, 96, uint256(DEPOSIT) + uint256(amount)
            )
        );
        vm.prank(publisher);
        market.topUp(leaseId, amount);
        assertEq(market.getLease(leaseId).balance, DEPOSIT);
    }

    /*//////////////////////////////////////////////////////////////
                            UPDATE LEASE SPEC
    //////////////////////////////////////////////////////////////*/

    function test_updateLeaseSpec_publisherUpdates() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.LeaseSpecUpdated(leaseId, SPEC2);
        vm.prank(publisher);
        market.updateLeaseSpec(leaseId, SPEC2);

        Lease memory lease = market.getLease(leaseId);
        assertEq(lease.specHash, SPEC2);
        assertEq(lease.balance, DEPOSIT);
        assertEq(lease.pricePerSecond, PRICE);
    }

    function test_updateLeaseSpec_revertsWhenNotPublisher() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNotLeasePublisher.selector, leaseId, provider));
        vm.prank(provider);
        market.updateLeaseSpec(leaseId, SPEC2);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNotLeasePublisher.selector, leaseId, stranger));
        vm.prank(stranger);
        market.updateLeaseSpec(leaseId, SPEC2);
        assertEq(market.getLease(leaseId).specHash, SPEC);
    }

    function test_updateLeaseSpec_revertsWhenSpecZero() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.expectRevert(IPodnetMarket.MarketZeroSpecHash.selector);
        vm.prank(publisher);
        market.updateLeaseSpec(leaseId, bytes32(0));
    }

    function test_updateLeaseSpec_revertsWhenOutOfFunds() public {
        uint256 leaseId = _lease(PRICE, MIN_DEPOSIT, 1);
        vm.warp(START_TIME + 1 hours);
        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketLeaseOutOfFunds.selector, leaseId, START_TIME + 1 hours)
        );
        vm.prank(publisher);
        market.updateLeaseSpec(leaseId, SPEC2);
    }

    function test_updateLeaseSpec_revertsWhenClosed() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        _close(publisher, leaseId);
        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketLeaseNotActive.selector, leaseId, LeaseStatus.Closed)
        );
        vm.prank(publisher);
        market.updateLeaseSpec(leaseId, SPEC2);
    }

    function test_updateLeaseSpec_revertsWhenLeaseNotFound() public {
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketLeaseNotFound.selector, 5));
        vm.prank(publisher);
        market.updateLeaseSpec(5, SPEC2);
    }

    /*//////////////////////////////////////////////////////////////
                                WITHDRAW
    //////////////////////////////////////////////////////////////*/

    function test_withdraw_paysElapsedMinusFee() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.warp(START_TIME + 1000);
        uint256 gross = uint256(PRICE) * 1000;
        uint256 fee = _fee(gross);

        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.LeaseSettled(leaseId, gross, START_TIME + 1000);
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.ProviderWithdrew(provider, gross, fee, gross - fee);
        uint256 net = _withdraw(provider, leaseId);

        assertEq(fee, 1e13, "1% of 1e15");
        assertEq(net, gross - fee);
        assertEq(token.balanceOf(provider), gross - fee);
        assertEq(market.accruedFees(), fee);
        Lease memory lease = market.getLease(leaseId);
        assertEq(lease.balance, DEPOSIT - gross);
        assertEq(lease.settledAt, START_TIME + 1000);
        assertEq(uint8(lease.status), uint8(LeaseStatus.Active));
        assertEq(token.balanceOf(address(market)), STAKE + DEPOSIT - gross + fee);
    }

    function test_withdraw_continuesFromSettledAt() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.warp(START_TIME + 100);
        _withdraw(provider, leaseId);
        vm.warp(START_TIME + 300);
        uint256 net = _withdraw(provider, leaseId);

        uint256 gross = uint256(PRICE) * 200;
        assertEq(net, gross - _fee(gross));
        assertEq(market.getLease(leaseId).balance, DEPOSIT - uint256(PRICE) * 300);
        assertEq(market.accruedFees(), _fee(uint256(PRICE) * 100) + _fee(gross));
    }

    function test_withdraw_batchPaysSumInOneTransfer() public {
        uint256 first = _lease(PRICE, DEPOSIT, 1);
        vm.warp(START_TIME + 100);
        uint256 second = _lease(PRICE * 2, DEPOSIT * 2, 2);
        vm.warp(START_TIME + 1000);

        uint256 gross1 = uint256(PRICE) * 1000;
        uint256 gross2 = uint256(PRICE) * 2 * 900;
        uint256 gross = gross1 + gross2;
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.LeaseSettled(first, gross1, START_TIME + 1000);
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.LeaseSettled(second, gross2, START_TIME + 1000);
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.ProviderWithdrew(provider, gross, _fee(gross), gross - _fee(gross));
        vm.prank(provider);
        uint256 net = market.withdraw(_ids(first, second));

        assertEq(net, gross - _fee(gross));
        assertEq(token.balanceOf(provider), net);
        assertEq(market.accruedFees(), _fee(gross));
        assertEq(market.getLease(first).balance, DEPOSIT - gross1);
        assertEq(market.getLease(second).balance, DEPOSIT * 2 - gross2);
    }

    function test_withdraw_duplicateIdPaysOnce() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.warp(START_TIME + 500);
        vm.prank(provider);
        uint256 net = market.withdraw(_ids(leaseId, leaseId));
        uint256 gross = uint256(PRICE) * 500;
        assertEq(net, gross - _fee(gross));
        assertEq(market.getLease(leaseId).balance, DEPOSIT - gross);
    }

    function test_withdraw_revertsForLeaseOfAnotherProvider() public {
        _onboard(provider2, STAKE);
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.warp(START_TIME + 500);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNotLeaseProvider.selector, leaseId, provider2));
        vm.prank(provider2);
        market.withdraw(_ids(leaseId));

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNotLeaseProvider.selector, leaseId, publisher));
        vm.prank(publisher);
        market.withdraw(_ids(leaseId));
        assertEq(market.getLease(leaseId).balance, DEPOSIT);
    }

    function test_withdraw_batchRevertsWhenOneLeaseIsForeign() public {
        _onboard(provider2, STAKE);
        uint256 own = _lease(PRICE, DEPOSIT, 1);
        Quote memory quote = _quote(provider2, PRICE, 1);
        bytes memory signature = _sign(provider2Key, quote);
        vm.prank(publisher);
        uint256 foreign = market.createLease(quote, signature, DEPOSIT);
        vm.warp(START_TIME + 500);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNotLeaseProvider.selector, foreign, provider));
        vm.prank(provider);
        market.withdraw(_ids(own, foreign));
        assertEq(market.getLease(own).balance, DEPOSIT);
        assertEq(token.balanceOf(provider), 0);
    }

    function test_withdraw_revertsForNonexistentLease() public {
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNotLeaseProvider.selector, 99, provider));
        vm.prank(provider);
        market.withdraw(_ids(99));
    }

    function test_withdraw_sameSecondPaysNothing() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.warp(START_TIME + 100);
        uint256 first = _withdraw(provider, leaseId);
        uint256 providerBalance = token.balanceOf(provider);
        uint256 fees = market.accruedFees();

        vm.recordLogs();
        uint256 second = _withdraw(provider, leaseId);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        assertGt(first, 0);
        assertEq(second, 0);
        assertEq(logs.length, 0, "no settlement, no transfer");
        assertEq(token.balanceOf(provider), providerBalance);
        assertEq(market.accruedFees(), fees);
    }

    function test_withdraw_atCreationSecondPaysNothing() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.recordLogs();
        assertEq(_withdraw(provider, leaseId), 0);
        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(market.getLease(leaseId).balance, DEPOSIT);
    }

    function test_withdraw_emptyListPaysNothing() public {
        vm.prank(provider);
        assertEq(market.withdraw(new uint256[](0)), 0);
        assertEq(token.balanceOf(provider), 0);
    }

    function test_withdraw_exhaustedLeasePaysWholeBalance() public {
        uint96 deposit = MIN_DEPOSIT + PRICE / 2;
        uint256 leaseId = _lease(PRICE, deposit, 1);
        uint256 runsOutAt = START_TIME + 1 hours + 1;
        assertEq(market.leaseRunsOutAt(leaseId), runsOutAt);
        vm.warp(START_TIME + 10 days);

        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.LeaseSettled(leaseId, deposit, runsOutAt);
        uint256 net = _withdraw(provider, leaseId);

        assertEq(net, deposit - _fee(deposit));
        Lease memory lease = market.getLease(leaseId);
        assertEq(lease.balance, 0);
        assertEq(lease.settledAt, runsOutAt);
        assertEq(uint8(lease.status), uint8(LeaseStatus.Active), "still needs closing");
        (uint256 amount, bool outOfFunds) = market.withdrawable(leaseId);
        assertEq(amount, 0);
        assertTrue(outOfFunds);
        assertEq(market.leaseRunsOutAt(leaseId), runsOutAt);

        // nothing more to take later
        vm.warp(START_TIME + 20 days);
        assertEq(_withdraw(provider, leaseId), 0);
    }

    function test_withdraw_closedLeasePaysOwed() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.warp(START_TIME + 100);
        _close(publisher, leaseId);
        vm.warp(START_TIME + 30 days);

        uint256 gross = uint256(PRICE) * 100;
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.LeaseSettled(leaseId, gross, START_TIME + 100);
        uint256 net = _withdraw(provider, leaseId);

        assertEq(net, gross - _fee(gross));
        Lease memory lease = market.getLease(leaseId);
        assertEq(lease.balance, 0);
        assertEq(lease.settledAt, START_TIME + 100);
        assertEq(uint8(lease.status), uint8(LeaseStatus.Closed));
        assertEq(_withdraw(provider, leaseId), 0, "closed lease pays once");
    }

    function test_withdraw_feeRoundsDownForProvider() public {
        uint256 leaseId = _lease(1, 1 hours, 1);
        vm.warp(START_TIME + 199);
        uint256 net = _withdraw(provider, leaseId);
        // 199 * 100 / 10000 = 1.99 -> 1
        assertEq(net, 198);
        assertEq(market.accruedFees(), 1);
    }

    function test_withdraw_tinyGrossPaysNoFee() public {
        uint256 leaseId = _lease(1, 1 hours, 1);
        vm.warp(START_TIME + 99);
        uint256 net = _withdraw(provider, leaseId);
        assertEq(net, 99);
        assertEq(market.accruedFees(), 0);
    }

    function test_withdraw_usesFeeAtWithdrawTime() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.warp(START_TIME + 1000);
        _setFee(1000);
        uint256 gross = uint256(PRICE) * 1000;
        uint256 net = _withdraw(provider, leaseId);
        assertEq(net, gross - gross / 10);
        assertEq(market.accruedFees(), gross / 10);
    }

    function test_withdraw_zeroFee() public {
        _setFee(0);
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.warp(START_TIME + 1000);
        uint256 net = _withdraw(provider, leaseId);
        assertEq(net, uint256(PRICE) * 1000);
        assertEq(market.accruedFees(), 0);
    }

    /*//////////////////////////////////////////////////////////////
                              CLOSE LEASE
    //////////////////////////////////////////////////////////////*/

    function test_closeLease_byPublisherRefundsRest() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.warp(START_TIME + 1000);
        uint256 owed = uint256(PRICE) * 1000;
        uint256 refund = DEPOSIT - owed;
        uint256 publisherBefore = token.balanceOf(publisher);

        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.LeaseClosed(
            leaseId,
            publisher,
            CloseReason.Publisher,
            START_TIME + 1000,
            owed,
            refund,
            COLLATERAL,
            START_TIME + 1000 + DISPUTE_WINDOW
        );
        _close(publisher, leaseId);

        assertEq(token.balanceOf(publisher), publisherBefore + refund);
        Lease memory lease = market.getLease(leaseId);
        assertEq(uint8(lease.status), uint8(LeaseStatus.Closed));
        assertEq(lease.endedAt, START_TIME + 1000);
        assertEq(lease.balance, owed);
        assertEq(lease.settledAt, START_TIME, "settlement waits for withdraw");
        // The collateral stays locked for the dispute window; then anyone may release it.
        _assertStake(provider, STAKE - COLLATERAL, COLLATERAL);
        assertEq(token.balanceOf(address(market)), STAKE + owed);
        _releaseAfterWindow(leaseId);
        _assertStake(provider, STAKE, 0);
    }

    function test_closeLease_byProviderRefundsPublisher() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.warp(START_TIME + 1000);
        uint256 owed = uint256(PRICE) * 1000;
        uint256 publisherBefore = token.balanceOf(publisher);

        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.LeaseClosed(
            leaseId,
            provider,
            CloseReason.Provider,
            START_TIME + 1000,
            owed,
            DEPOSIT - owed,
            COLLATERAL,
            START_TIME + 1000 + DISPUTE_WINDOW
        );
        _close(provider, leaseId);

        assertEq(token.balanceOf(publisher), publisherBefore + DEPOSIT - owed);
        assertEq(token.balanceOf(provider), 0, "provider gets nothing until it withdraws");
        _assertStake(provider, STAKE - COLLATERAL, COLLATERAL);
        _releaseAfterWindow(leaseId);
        _assertStake(provider, STAKE, 0);
    }

    function test_closeLease_atCreationRefundsEverything() public {
        uint256 publisherBefore = token.balanceOf(publisher);
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        _close(publisher, leaseId);
        assertEq(token.balanceOf(publisher), publisherBefore);
        assertEq(market.getLease(leaseId).balance, 0);
        assertEq(_withdraw(provider, leaseId), 0);
        assertEq(token.balanceOf(address(market)), STAKE);
    }

    function test_closeLease_revertsForStrangerWhileFunded() public {
        uint256 leaseId = _lease(PRICE, MIN_DEPOSIT, 1);
        vm.warp(START_TIME + 1 hours - 1);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNotLeaseParty.selector, leaseId, stranger));
        _close(stranger, leaseId);
        assertEq(uint8(market.getLease(leaseId).status), uint8(LeaseStatus.Active));
    }

    function test_closeLease_anyoneOnceOutOfFunds() public {
        uint256 leaseId = _lease(PRICE, MIN_DEPOSIT, 1);
        vm.warp(START_TIME + 1 hours);
        uint256 publisherBefore = token.balanceOf(publisher);

        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.LeaseClosed(
            leaseId,
            stranger,
            CloseReason.OutOfFunds,
            START_TIME + 1 hours,
            MIN_DEPOSIT,
            0,
            COLLATERAL,
            START_TIME + 1 hours + DISPUTE_WINDOW
        );
        _close(stranger, leaseId);

        assertEq(token.balanceOf(publisher), publisherBefore);
        assertEq(market.getLease(leaseId).endedAt, START_TIME + 1 hours);
        _assertStake(provider, STAKE - COLLATERAL, COLLATERAL);
        _releaseAfterWindow(leaseId);
        _assertStake(provider, STAKE, 0);
    }

    function test_closeLease_outOfFundsEndsAtRunsOut() public {
        uint96 deposit = MIN_DEPOSIT + PRICE / 2;
        uint256 leaseId = _lease(PRICE, deposit, 1);
        vm.warp(START_TIME + 30 days);
        _close(stranger, leaseId);

        Lease memory lease = market.getLease(leaseId);
        assertEq(lease.endedAt, START_TIME + 1 hours + 1);
        assertEq(lease.balance, deposit);
        assertEq(market.leaseRunsOutAt(leaseId), START_TIME + 1 hours + 1);
        assertEq(_withdraw(provider, leaseId), deposit - _fee(deposit));
    }

    function test_closeLease_byPublisherWhenOutOfFundsHasReasonOutOfFunds() public {
        uint256 leaseId = _lease(PRICE, MIN_DEPOSIT, 1);
        vm.warp(START_TIME + 2 hours);
        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.LeaseClosed(
            leaseId,
            publisher,
            CloseReason.OutOfFunds,
            START_TIME + 1 hours,
            MIN_DEPOSIT,
            0,
            COLLATERAL,
            START_TIME + 1 hours + DISPUTE_WINDOW
        );
        _close(publisher, leaseId);
    }

    function test_closeLease_afterProviderDrainedIt() public {
        uint256 leaseId = _lease(PRICE, MIN_DEPOSIT, 1);
        vm.warp(START_TIME + 2 hours);
        _withdraw(provider, leaseId);

        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.LeaseClosed(
            leaseId,
            stranger,
            CloseReason.OutOfFunds,
            START_TIME + 1 hours,
            0,
            0,
            COLLATERAL,
            START_TIME + 1 hours + DISPUTE_WINDOW
        );
        _close(stranger, leaseId);
        _assertStake(provider, STAKE - COLLATERAL, COLLATERAL);
        assertEq(token.balanceOf(address(market)), STAKE + market.accruedFees());
        _releaseAfterWindow(leaseId);
        _assertStake(provider, STAKE, 0);
    }

    function test_closeLease_afterPartialWithdrawOwesOnlyTheRest() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.warp(START_TIME + 100);
        _withdraw(provider, leaseId);
        vm.warp(START_TIME + 250);
        uint256 publisherBefore = token.balanceOf(publisher);
        _close(publisher, leaseId);

        assertEq(market.getLease(leaseId).balance, uint256(PRICE) * 150);
        assertEq(token.balanceOf(publisher), publisherBefore + DEPOSIT - uint256(PRICE) * 250);
    }

    function test_closeLease_revertsWhenClosedTwice() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        _close(publisher, leaseId);
        vm.expectRevert(
            abi.encodeWithSelector(IPodnetMarket.MarketLeaseNotActive.selector, leaseId, LeaseStatus.Closed)
        );
        _close(provider, leaseId);
        _assertStake(provider, STAKE - COLLATERAL, COLLATERAL);
    }

    function test_closeLease_revertsWhenLeaseNotFound() public {
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketLeaseNotFound.selector, 1));
        _close(publisher, 1);
    }

    function test_closeLease_closedLeaseNeverAccrues() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.warp(START_TIME + 1000);
        _close(publisher, leaseId);
        uint256 owed = uint256(PRICE) * 1000;

        vm.warp(START_TIME + 365 days);
        (uint256 amount, bool outOfFunds) = market.withdrawable(leaseId);
        assertEq(amount, owed);
        assertTrue(outOfFunds);
        assertEq(market.leaseRunsOutAt(leaseId), START_TIME + 1000);

        uint256 net = _withdraw(provider, leaseId);
        assertEq(net, owed - _fee(owed));
        assertEq(token.balanceOf(address(market)), STAKE + _fee(owed));
    }

    function test_closeLease_releasesOnlyItsCollateral() public {
        uint256 first = _lease(PRICE, DEPOSIT, 1);
        _lease(PRICE * 3, DEPOSIT * 3, 2);
        _close(publisher, first);
        _assertStake(provider, STAKE - 4 * COLLATERAL, 4 * COLLATERAL);
        _releaseAfterWindow(first);
        _assertStake(provider, STAKE - 3 * COLLATERAL, 3 * COLLATERAL);
    }

    /*//////////////////////////////////////////////////////////////
                              QUOTE NONCES
    //////////////////////////////////////////////////////////////*/

    function test_invalidateQuoteNonces_setsBitsAndEmits() public {
        uint256 mask = (1 << 0) | (1 << 5) | (1 << 255);
        vm.expectEmit(true, false, false, true, address(market));
        emit IPodnetMarket.QuoteNoncesInvalidated(provider, 2, mask);
        vm.prank(provider);
        market.invalidateQuoteNonces(2, mask);

        assertTrue(market.isQuoteNonceUsed(provider, 512));
        assertTrue(market.isQuoteNonceUsed(provider, 517));
        assertTrue(market.isQuoteNonceUsed(provider, 767));
        assertFalse(market.isQuoteNonceUsed(provider, 513));
        assertFalse(market.isQuoteNonceUsed(provider, 5), "other word untouched");
        assertFalse(market.isQuoteNonceUsed(provider, 768));
        assertFalse(market.isQuoteNonceUsed(provider2, 517), "other provider untouched");
    }

    function test_invalidateQuoteNonces_accumulates() public {
        vm.prank(provider);
        market.invalidateQuoteNonces(0, 1 << 1);
        vm.prank(provider);
        market.invalidateQuoteNonces(0, 1 << 2);
        assertTrue(market.isQuoteNonceUsed(provider, 1));
        assertTrue(market.isQuoteNonceUsed(provider, 2));
    }

    function test_invalidateQuoteNonces_keepsUsedNonces() public {
        _lease(PRICE, DEPOSIT, 1);
        vm.prank(provider);
        market.invalidateQuoteNonces(0, 1 << 2);
        assertTrue(market.isQuoteNonceUsed(provider, 1), "used by the lease");
        assertTrue(market.isQuoteNonceUsed(provider, 2));
        assertFalse(market.isQuoteNonceUsed(provider, 3));
    }

    function test_invalidateQuoteNonces_onlyAffectsCaller() public {
        vm.prank(stranger);
        market.invalidateQuoteNonces(0, type(uint256).max);
        assertFalse(market.isQuoteNonceUsed(provider, 1));
        assertTrue(market.isQuoteNonceUsed(stranger, 1));
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        assertEq(market.getLease(leaseId).provider, provider);
    }

    function test_isQuoteNonceUsed_highNonce() public {
        uint256 nonce = type(uint256).max;
        assertFalse(market.isQuoteNonceUsed(provider, nonce));
        _lease(PRICE, DEPOSIT, nonce);
        assertTrue(market.isQuoteNonceUsed(provider, nonce));
        assertFalse(market.isQuoteNonceUsed(provider, nonce - 1));
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    function test_withdrawable_nonexistentLease() public view {
        (uint256 amount, bool outOfFunds) = market.withdrawable(1);
        assertEq(amount, 0);
        assertFalse(outOfFunds);
    }

    function test_withdrawable_tracksAccrual() public {
        uint256 leaseId = _lease(PRICE, MIN_DEPOSIT, 1);
        (uint256 amount, bool outOfFunds) = market.withdrawable(leaseId);
        assertEq(amount, 0);
        assertFalse(outOfFunds);

        vm.warp(START_TIME + 1 hours - 1);
        (amount, outOfFunds) = market.withdrawable(leaseId);
        assertEq(amount, uint256(PRICE) * (1 hours - 1));
        assertFalse(outOfFunds);

        vm.warp(START_TIME + 1 hours);
        (amount, outOfFunds) = market.withdrawable(leaseId);
        assertEq(amount, MIN_DEPOSIT);
        assertTrue(outOfFunds);

        vm.warp(START_TIME + 100 days);
        (amount, outOfFunds) = market.withdrawable(leaseId);
        assertEq(amount, MIN_DEPOSIT);
        assertTrue(outOfFunds);
    }

    function test_leaseRunsOutAt_revertsWhenNotFound() public {
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketLeaseNotFound.selector, 3));
        market.leaseRunsOutAt(3);
    }

    function test_leaseRunsOutAt_roundsPartialSecondUp() public {
        uint256 exact = _lease(PRICE, MIN_DEPOSIT, 1);
        uint256 rounded = _lease(PRICE, MIN_DEPOSIT + 1, 2);
        assertEq(market.leaseRunsOutAt(exact), START_TIME + 1 hours);
        assertEq(market.leaseRunsOutAt(rounded), START_TIME + 1 hours + 1);
    }

    function test_leaseRunsOutAt_unchangedByWithdraw() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT + PRICE / 3, 1);
        uint256 runsOutAt = market.leaseRunsOutAt(leaseId);
        vm.warp(START_TIME + 777);
        _withdraw(provider, leaseId);
        assertEq(market.leaseRunsOutAt(leaseId), runsOutAt);
    }

    function test_leaseRunsOutAt_closedReturnsEndedAt() public {
        uint256 leaseId = _lease(PRICE, DEPOSIT, 1);
        vm.warp(START_TIME + 42);
        _close(provider, leaseId);
        vm.warp(START_TIME + 365 days);
        assertEq(market.leaseRunsOutAt(leaseId), START_TIME + 42);
    }

    /*//////////////////////////////////////////////////////////////
                                  FUZZ
    //////////////////////////////////////////////////////////////*/

    /// @dev A lease at `price` whose deposit pays for `duration` seconds plus `extra` (< price) base units.
    function _fuzzLease(uint256 price, uint256 duration, uint256 extra, uint256 feeBps)
        internal
        returns (uint256 leaseId, uint96 p, uint96 deposit)
    {
        p = uint96(bound(price, 1, 1e15));
        duration = bound(duration, 1 hours, 3650 days);
        extra = bound(extra, 0, p - 1);
        deposit = uint96(uint256(p) * duration + extra);
        _setFee(uint16(bound(feeBps, 0, 1000)));
        leaseId = _lease(p, deposit, 1);
    }

    function test_fuzz_withdraw_paysExactly(
        uint256 price,
        uint256 duration,
        uint256 extra,
        uint256 elapsed,
        uint256 feeBps
    ) public {
        (uint256 leaseId, uint96 p, uint96 deposit) = _fuzzLease(price, duration, extra, feeBps);
        uint256 fee = market.params().feeBps;
        elapsed = bound(elapsed, 0, 2 * (uint256(deposit) / p) + 2);
        vm.warp(START_TIME + elapsed);

        uint256 gross = uint256(p) * elapsed;
        if (gross > deposit) gross = deposit;
        uint256 net = _withdraw(provider, leaseId);

        assertEq(net, gross - gross * fee / 10_000, "net");
        assertEq(token.balanceOf(provider), net);
        assertEq(market.accruedFees(), gross * fee / 10_000, "fee");
        assertEq(market.getLease(leaseId).balance, deposit - gross, "balance");
        assertLe(net, deposit);
        assertEq(token.balanceOf(address(market)), STAKE + deposit - net);
    }

    function test_fuzz_closeAndWithdraw_conservesDeposit(
        uint256 price,
        uint256 duration,
        uint256 extra,
        uint256 midpoint,
        uint256 elapsed,
        uint256 feeBps,
        bool providerCloses
    ) public {
        (uint256 leaseId, uint96 p, uint96 deposit) = _fuzzLease(price, duration, extra, feeBps);
        uint256 publisherBefore = token.balanceOf(publisher);
        elapsed = bound(elapsed, 0, 2 * (uint256(deposit) / p) + 2);
        midpoint = bound(midpoint, 0, elapsed);

        vm.warp(START_TIME + midpoint);
        uint256 net = _withdraw(provider, leaseId);
        vm.warp(START_TIME + elapsed);
        _close(providerCloses ? provider : publisher, leaseId);
        vm.warp(START_TIME + elapsed + 365 days);
        net += _withdraw(provider, leaseId);
        // A year later the dispute window is long over: the collateral goes back.
        if (market.getLease(leaseId).collateral != 0) market.releaseCollateral(leaseId);

        // publisherBefore is taken after the deposit left, so what came back is the refund.
        uint256 refund = token.balanceOf(publisher) - publisherBefore;
        uint256 fee = market.accruedFees();
        uint256 earned = uint256(p) * elapsed;
        if (earned > deposit) earned = deposit;

        assertEq(net + fee + refund, deposit, "conservation");
        assertEq(net + fee, earned, "provider earned exactly price * elapsed, capped");
        assertLe(token.balanceOf(provider), deposit);
        assertEq(token.balanceOf(provider), net);
        _assertStake(provider, STAKE, 0);
        assertEq(market.getLease(leaseId).balance, 0);
        assertEq(token.balanceOf(address(market)), STAKE + fee);

        if (fee != 0) market.withdrawFees();
        assertEq(token.balanceOf(address(market)), STAKE, "only the stake is left");
        assertEq(token.balanceOf(treasury), fee);
    }

    function test_fuzz_topUp_extendsRunway(uint256 price, uint256 duration, uint256 extra, uint96 amount, uint256 at)
        public
    {
        (uint256 leaseId, uint96 p, uint96 deposit) = _fuzzLease(price, duration, extra, 100);
        uint256 runsOutAt = market.leaseRunsOutAt(leaseId);
        amount = uint96(bound(amount, 1, 1e24));
        at = bound(at, START_TIME, runsOutAt - 1);
        vm.warp(at);
        vm.prank(stranger);
        market.topUp(leaseId, amount);

        uint256 total = uint256(deposit) + amount;
        assertEq(market.getLease(leaseId).balance, total);
        assertEq(market.leaseRunsOutAt(leaseId), START_TIME + (total + p - 1) / p);
    }

    function test_fuzz_runsOutAt_isFirstSecondWithoutFunds(uint256 price, uint256 duration, uint256 extra) public {
        (uint256 leaseId,, uint96 deposit) = _fuzzLease(price, duration, extra, 100);
        uint256 runsOutAt = market.leaseRunsOutAt(leaseId);

        vm.warp(runsOutAt - 1);
        (uint256 amount, bool outOfFunds) = market.withdrawable(leaseId);
        assertFalse(outOfFunds);
        assertLt(amount, deposit);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketNotLeaseParty.selector, leaseId, stranger));
        _close(stranger, leaseId);

        vm.warp(runsOutAt);
        (amount, outOfFunds) = market.withdrawable(leaseId);
        assertTrue(outOfFunds);
        assertEq(amount, deposit);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketLeaseOutOfFunds.selector, leaseId, runsOutAt));
        vm.prank(publisher);
        market.topUp(leaseId, 1);
    }
}
