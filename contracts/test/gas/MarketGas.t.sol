// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PermitSignature, Quote} from "../../src/types/MarketTypes.sol";
import {MarketFixture} from "../utils/MarketFixture.sol";
import {Permits} from "../utils/Permits.sol";
import {SortedAddresses} from "../utils/SortedAddresses.sol";

/// @notice Gas of the market's main calls, recorded into contracts/snapshots/*.json.
/// @dev Runs in the `gas` profile (isolate = true): each call below is its own transaction, so storage is cold the
///      way it is for a user. Each measured call is the steady state a provider or publisher sees after its first
///      lease (quote nonce word and token balances already non-zero).
contract MarketGasTest is MarketFixture {
    function setUp() public override {
        super.setUp();
        _onboard(provider, 10_000 * TOKEN);
        _onboard(provider2, 10_000 * TOKEN);
        // Warm-up: the provider's nonce word, the market's token balance, the provider's token balance and the
        // accrued fees are no longer zero, as for any provider after its first lease and withdrawal.
        _lease(PRICE, DEPOSIT, 0);
        skip(1 hours);
        uint256[] memory ids = new uint256[](1);
        ids[0] = 1;
        vm.prank(provider);
        market.withdraw(ids);
    }

    function test_gas_register() public {
        (address newProvider,) = makeAddrAndKey("newProvider");
        vm.prank(newProvider);
        registry.register(defaultProfile());
        vm.snapshotGasLastCall("ProviderRegistry", "register");
    }

    function test_gas_stake() public {
        (address newProvider,) = makeAddrAndKey("newProvider");
        _register(newProvider);
        _fund(newProvider, 1000 * TOKEN);
        vm.prank(newProvider);
        market.stake(500 * TOKEN);
        vm.snapshotGasLastCall("PodnetMarket", "stake");
    }

    function test_gas_createLease() public {
        _lease(PRICE, DEPOSIT, 1);
        vm.snapshotGasLastCall("PodnetMarket", "createLease");
    }

    /*//////////////////////////////////////////////////////////////
               A PUBLISHER'S REAL COST: EXACT APPROVAL OR PERMIT
    //////////////////////////////////////////////////////////////*/

    function _permit(address owner, uint256 ownerKey, uint256 value) internal view returns (PermitSignature memory p) {
        p.deadline = block.timestamp + 1 hours;
        (p.v, p.r, p.s) = vm.sign(ownerKey, Permits.digest(token, owner, address(market), value, p.deadline));
    }

    /// @dev `provider`'s signed quote for `who`, with quote nonce `nonce`.
    function _quoteFor(address who, uint256 nonce) internal view returns (Quote memory quote, bytes memory signature) {
        quote = _quote(provider, PRICE, nonce);
        quote.publisher = who;
        signature = _sign(providerKey, quote);
    }

    /// @dev `who` leases DEPOSIT from `provider` in one transaction with a permit.
    function _leaseWithPermit(address who, uint256 key, uint256 nonce) internal {
        (Quote memory quote, bytes memory signature) = _quoteFor(who, nonce);
        PermitSignature memory permit = _permit(who, key, DEPOSIT);
        vm.prank(who);
        market.createLeaseWithPermit(quote, signature, DEPOSIT, permit);
    }

    /// @dev A publisher with tokens and no allowance for the market, which has leased once before with `warmUp`.
    function _exactPublisher(bool warmUp) internal returns (address who, uint256 key) {
        (who, key) = makeAddrAndKey("exact publisher");
        token.mint(who, 100 * uint256(DEPOSIT));
        if (warmUp) _leaseWithPermit(who, key, 100);
    }

    /// @dev What the SDK sends without permit: an approval of exactly the deposit (the allowance slot is zero before),
    ///      then createLease, which spends the allowance back to zero.
    function test_gas_approveExactThenCreateLease() public {
        (address who,) = _exactPublisher(true);
        vm.prank(who);
        token.approve(address(market), DEPOSIT);
        vm.snapshotGasLastCall("PodnetTestToken", "approve_exact");
        (Quote memory quote, bytes memory signature) = _quoteFor(who, 1);
        vm.prank(who);
        market.createLease(quote, signature, DEPOSIT);
        vm.snapshotGasLastCall("PodnetMarket", "createLease_exactApproval");
        assertEq(token.allowance(who, address(market)), 0);
    }

    /// @dev The one transaction with permit, for a publisher that has used a permit before (its nonce is not zero).
    function test_gas_createLeaseWithPermit() public {
        (address who, uint256 key) = _exactPublisher(true);
        _leaseWithPermit(who, key, 1);
        vm.snapshotGasLastCall("PodnetMarket", "createLeaseWithPermit");
        assertEq(token.allowance(who, address(market)), 0);
    }

    /// @dev A publisher's very first permit also writes its permit nonce from zero.
    function test_gas_createLeaseWithPermit_firstPermit() public {
        (address who, uint256 key) = _exactPublisher(false);
        _leaseWithPermit(who, key, 1);
        vm.snapshotGasLastCall("PodnetMarket", "createLeaseWithPermit_firstPermit");
    }

    function test_gas_topUpWithPermit() public {
        (address who, uint256 key) = _exactPublisher(true);
        uint256 leaseId = market.leaseCount();
        skip(1 hours);
        PermitSignature memory permit = _permit(who, key, DEPOSIT);
        vm.prank(who);
        market.topUpWithPermit(leaseId, DEPOSIT, permit);
        vm.snapshotGasLastCall("PodnetMarket", "topUpWithPermit");
    }

    /// @dev An order in one transaction with a permit, from a publisher that has used a permit before.
    function test_gas_createOrderWithPermit() public {
        (address who, uint256 key) = _exactPublisher(true);
        PermitSignature memory permit = _permit(who, key, DEPOSIT);
        vm.prank(who);
        market.createOrderWithPermit(
            SPEC,
            defaultResources(),
            PRICE,
            DEPOSIT,
            uint40(block.timestamp + 1 hours),
            _requirements(0, REGION_EU),
            true,
            permit
        );
        vm.snapshotGasLastCall("PodnetMarket", "createOrderWithPermit");
        assertEq(token.allowance(who, address(market)), 0);
    }

    function test_gas_createOrder() public {
        _order(PRICE, DEPOSIT, true);
        vm.snapshotGasLastCall("PodnetMarket", "createOrder");
    }

    function test_gas_placeBid() public {
        uint256 orderId = _order(PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        vm.snapshotGasLastCall("PodnetMarket", "placeBid");
    }

    /// @dev `count` more providers, onboarded and bidding on `orderId` at descending prices from `price`.
    function _bidders(uint256 orderId, uint256 count, uint96 price) internal returns (address[] memory list) {
        list = new address[](count);
        for (uint256 i; i < count; ++i) {
            (address p,) = makeAddrAndKey(string.concat("bidder", vm.toString(i)));
            _onboard(p, 1000 * TOKEN);
            _bid(p, orderId, price - uint96(i));
            list[i] = p;
        }
    }

    /// @dev A bid on a full order (the launch cap, 20 bids) evicts the worst: it reads every standing bid once.
    function test_gas_placeBid_fullOrderEvicts() public {
        uint256 orderId = _order(PRICE, DEPOSIT, true);
        address[] memory list = SortedAddresses.sort(_bidders(orderId, market.params().maxBidsPerOrder, PRICE));
        vm.prank(provider);
        market.placeBid(orderId, PRICE / 2, list);
        vm.snapshotGasLastCall("PodnetMarket", "placeBid_fullOrderEvicts");
        assertEq(market.getOrder(orderId).bestBidder, provider);
    }

    function test_gas_finalizeOrder() public {
        uint256 orderId = _order(PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE);
        _bid(provider2, orderId, PRICE - 1);
        skip(1 hours);
        _heartbeat(provider2);
        vm.prank(publisher);
        market.finalizeOrder(orderId, _noBidders());
        vm.snapshotGasLastCall("PodnetMarket", "finalizeOrder");
    }

    /// @dev The best of 5 bidders went silent: finalizeOrder reads the 5 standing bids and matches the best valid one.
    function test_gas_finalizeOrder_fallThrough5() public {
        uint256 orderId = _order(PRICE, DEPOSIT, true);
        _bid(provider, orderId, PRICE / 2);
        address[] memory others = _bidders(orderId, 4, PRICE);
        skip(1 hours + 1);
        address[] memory list = new address[](5);
        list[0] = provider;
        for (uint256 i; i < 4; ++i) {
            _heartbeat(others[i]);
            list[i + 1] = others[i];
        }
        list = SortedAddresses.sort(list);
        vm.prank(publisher);
        uint256 leaseId = market.finalizeOrder(orderId, list);
        vm.snapshotGasLastCall("PodnetMarket", "finalizeOrder_fallThrough5");
        assertEq(market.getLease(leaseId).provider, others[3]);
    }

    function test_gas_acceptBid() public {
        uint256 orderId = _order(PRICE, DEPOSIT, false);
        _bid(provider, orderId, PRICE);
        _bid(provider2, orderId, PRICE - 1);
        vm.prank(publisher);
        market.acceptBid(orderId, provider2);
        vm.snapshotGasLastCall("PodnetMarket", "acceptBid");
    }

    function test_gas_withdraw_1() public {
        uint256[] memory ids = new uint256[](1);
        ids[0] = 1;
        skip(1 hours);
        vm.prank(provider);
        market.withdraw(ids);
        vm.snapshotGasLastCall("PodnetMarket", "withdraw_1");
    }

    function test_gas_withdraw_10() public {
        uint256[] memory ids = new uint256[](10);
        ids[0] = 1;
        for (uint256 i = 1; i < 10; ++i) {
            ids[i] = _lease(PRICE, DEPOSIT, i);
        }
        skip(1 hours);
        vm.prank(provider);
        market.withdraw(ids);
        vm.snapshotGasLastCall("PodnetMarket", "withdraw_10");
    }

    function test_gas_topUp() public {
        skip(1 hours);
        vm.prank(publisher);
        market.topUp(1, DEPOSIT);
        vm.snapshotGasLastCall("PodnetMarket", "topUp");
    }

    function test_gas_releaseCollateral() public {
        skip(1 hours);
        vm.prank(publisher);
        market.closeLease(1);
        skip(market.params().disputeWindow);
        vm.prank(provider);
        market.releaseCollateral(1);
        vm.snapshotGasLastCall("PodnetMarket", "releaseCollateral");
        assertEq(market.getLease(1).collateral, 0);
    }

    function test_gas_closeLease() public {
        skip(1 hours);
        vm.prank(publisher);
        market.closeLease(1);
        vm.snapshotGasLastCall("PodnetMarket", "closeLease");
    }
}
