// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PodnetMarket} from "../src/PodnetMarket.sol";
import {PlainToken} from "../src/dev/PlainToken.sol";
import {IPodnetMarket} from "../src/interfaces/IPodnetMarket.sol";
import {IProviderRegistry} from "../src/interfaces/IProviderRegistry.sol";
import {PermitSignature, Quote} from "../src/types/MarketTypes.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {Permits} from "./utils/Permits.sol";
import {ReleaseBuild} from "./utils/ReleaseBuild.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice createLeaseWithPermit, createOrderWithPermit, topUpWithPermit: one transaction with an EIP-2612 permit,
///         which a front-runner cannot make fail.
contract PodnetMarketPermitTest is MarketFixture {
    address internal signer;
    uint256 internal signerKey;

    function setUp() public override {
        super.setUp();
        _onboard(provider, 1000 * TOKEN);
        (signer, signerKey) = makeAddrAndKey("permit publisher");
        token.mint(signer, 1_000_000 * TOKEN); // no approval: the permits provide it
    }

    function _permitFor(address spender, uint256 value, uint256 deadline)
        internal
        view
        returns (PermitSignature memory p)
    {
        (p.v, p.r, p.s) = vm.sign(signerKey, Permits.digest(token, signer, spender, value, deadline));
        p.deadline = deadline;
    }

    function _signerQuote(uint256 nonce) internal view returns (Quote memory quote, bytes memory signature) {
        quote = _quote(provider, PRICE, nonce);
        quote.publisher = signer;
        signature = _sign(providerKey, quote);
    }

    function test_createLeaseWithPermit_createsLeaseInOneCall() public {
        (Quote memory quote, bytes memory signature) = _signerQuote(0);
        PermitSignature memory permit = _permitFor(address(market), DEPOSIT, block.timestamp + 1 hours);
        uint256 before = token.balanceOf(signer);

        vm.prank(signer);
        uint256 leaseId = market.createLeaseWithPermit(quote, signature, DEPOSIT, permit);

        assertEq(market.getLease(leaseId).publisher, signer);
        assertEq(market.getLease(leaseId).balance, DEPOSIT);
        assertEq(before - token.balanceOf(signer), DEPOSIT);
        assertEq(token.allowance(signer, address(market)), 0, "the permit's allowance is used up exactly");
        assertEq(token.nonces(signer), 1);
    }

    function test_createLeaseWithPermit_frontRunPermitDoesNotFailIt() public {
        (Quote memory quote, bytes memory signature) = _signerQuote(0);
        PermitSignature memory permit = _permitFor(address(market), DEPOSIT, block.timestamp + 1 hours);
        // Someone copies the permit from the mempool and submits it first.
        vm.prank(stranger);
        token.permit(signer, address(market), DEPOSIT, permit.deadline, permit.v, permit.r, permit.s);

        vm.prank(signer);
        uint256 leaseId = market.createLeaseWithPermit(quote, signature, DEPOSIT, permit);
        assertEq(market.getLease(leaseId).balance, DEPOSIT);
        assertEq(token.allowance(signer, address(market)), 0);
    }

    function test_createLeaseWithPermit_revertsWhenPermitFailsAndNoAllowance() public {
        (Quote memory quote, bytes memory signature) = _signerQuote(0);
        PermitSignature memory permit = _permitFor(address(market), DEPOSIT, block.timestamp + 1 hours);
        permit.s = bytes32(uint256(permit.s) ^ 1); // a broken signature
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketPermitFailed.selector, signer, 0, DEPOSIT));
        vm.prank(signer);
        market.createLeaseWithPermit(quote, signature, DEPOSIT, permit);
    }

    function test_createLeaseWithPermit_expiredPermitFallsBackToAllowance() public {
        (Quote memory quote, bytes memory signature) = _signerQuote(0);
        PermitSignature memory permit = _permitFor(address(market), DEPOSIT, block.timestamp - 1);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketPermitFailed.selector, signer, 0, DEPOSIT));
        vm.prank(signer);
        market.createLeaseWithPermit(quote, signature, DEPOSIT, permit);

        vm.prank(signer);
        token.approve(address(market), DEPOSIT);
        vm.prank(signer);
        uint256 leaseId = market.createLeaseWithPermit(quote, signature, DEPOSIT, permit);
        assertEq(market.getLease(leaseId).balance, DEPOSIT);
    }

    function test_createLeaseWithPermit_permitForLessThanDepositReverts() public {
        (Quote memory quote, bytes memory signature) = _signerQuote(0);
        // Signed for DEPOSIT - 1: the market submits it for DEPOSIT, so it does not verify.
        PermitSignature memory permit = _permitFor(address(market), DEPOSIT - 1, block.timestamp + 1 hours);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketPermitFailed.selector, signer, 0, DEPOSIT));
        vm.prank(signer);
        market.createLeaseWithPermit(quote, signature, DEPOSIT, permit);
    }

    function test_createLeaseWithPermit_permitIsTheCallersOnly() public {
        (Quote memory quote, bytes memory signature) = _signerQuote(0);
        quote.publisher = address(0); // an open quote
        signature = _sign(providerKey, quote);
        PermitSignature memory permit = _permitFor(address(market), DEPOSIT, block.timestamp + 1 hours);
        // A stranger replaying the signer's permit gets nothing from it: the market submits it for the caller.
        vm.startPrank(stranger);
        token.approve(address(market), 0);
        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketPermitFailed.selector, stranger, 0, DEPOSIT));
        market.createLeaseWithPermit(quote, signature, DEPOSIT, permit);
        vm.stopPrank();
    }

    function test_topUpWithPermit_addsFunds() public {
        (Quote memory quote, bytes memory signature) = _signerQuote(0);
        PermitSignature memory first = _permitFor(address(market), DEPOSIT, block.timestamp);
        vm.prank(signer);
        uint256 leaseId = market.createLeaseWithPermit(quote, signature, DEPOSIT, first);
        PermitSignature memory permit = _permitFor(address(market), PRICE * 1 hours, block.timestamp);
        vm.expectEmit(true, true, false, true, address(market));
        emit IPodnetMarket.LeaseToppedUp(leaseId, signer, PRICE * 1 hours, DEPOSIT + PRICE * 1 hours);
        vm.prank(signer);
        market.topUpWithPermit(leaseId, PRICE * 1 hours, permit);
        assertEq(market.getLease(leaseId).balance, DEPOSIT + PRICE * 1 hours);
        assertEq(token.allowance(signer, address(market)), 0);
    }

    function test_createOrderWithPermit_escrowsDeposit() public {
        PermitSignature memory permit = _permitFor(address(market), DEPOSIT, block.timestamp + 1 hours);
        uint256 marketBefore = token.balanceOf(address(market));
        vm.prank(signer);
        uint256 orderId = market.createOrderWithPermit(
            SPEC,
            defaultResources(),
            PRICE,
            DEPOSIT,
            uint40(block.timestamp + 1 hours),
            _requirements(0, REGION_EU),
            true,
            permit
        );
        assertEq(market.getOrder(orderId).publisher, signer);
        assertEq(token.balanceOf(address(market)) - marketBefore, DEPOSIT);
        assertEq(token.allowance(signer, address(market)), 0);
    }

    /// @dev A market whose token has no permit: the *WithPermit calls work with a prior approval, and say why when
    ///      there is none.
    function test_createLeaseWithPermit_tokenWithoutPermitNeedsApproval() public {
        PlainToken plain = PlainToken(ReleaseBuild.deploy("PlainToken", ""));
        PodnetMarket plainMarket = _deployMarket(address(plain), address(registry), treasury, defaultParams());
        plain.mint(provider, 1000 * TOKEN);
        vm.startPrank(provider);
        plain.approve(address(plainMarket), type(uint256).max);
        plainMarket.stake(1000 * TOKEN);
        vm.stopPrank();

        Quote memory quote = _quote(provider, PRICE, 0);
        quote.publisher = signer;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(providerKey, plainMarket.hashQuote(quote));
        bytes memory signature = abi.encodePacked(r, s, v);
        PermitSignature memory permit = _permitFor(address(plainMarket), DEPOSIT, block.timestamp + 1 hours);
        plain.mint(signer, DEPOSIT);

        vm.expectRevert(abi.encodeWithSelector(IPodnetMarket.MarketPermitFailed.selector, signer, 0, DEPOSIT));
        vm.prank(signer);
        plainMarket.createLeaseWithPermit(quote, signature, DEPOSIT, permit);

        vm.prank(signer);
        plain.approve(address(plainMarket), DEPOSIT);
        vm.prank(signer);
        uint256 leaseId = plainMarket.createLeaseWithPermit(quote, signature, DEPOSIT, permit);
        assertEq(plainMarket.getLease(leaseId).balance, DEPOSIT);
    }

    function test_testToken_supportsPermit() public {
        PermitSignature memory permit = _permitFor(stranger, 123, block.timestamp);
        token.permit(signer, stranger, 123, permit.deadline, permit.v, permit.r, permit.s);
        assertEq(token.allowance(signer, stranger), 123);
        assertEq(token.nonces(signer), 1);
    }
}
