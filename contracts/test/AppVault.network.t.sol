// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAppVault} from "../src/interfaces/IAppVault.sol";
import {NetworkTerms, NodeProfile} from "../src/types/NetworkTypes.sol";
import {VaultFixture} from "./utils/VaultFixture.sol";

/// @notice Network mode of a vault: live nodes of the autoscaler network act as controllers and are paid per
///         replacement, within the day's cap; a node that goes dark, or an app that leaves network mode, takes every
///         right away at once.
contract AppVaultNetworkTest is VaultFixture {
    bytes4 internal constant MAGIC = 0x1626ba7e;
    bytes4 internal constant INVALID = 0xffffffff;
    bytes32 internal constant REQUEST_TYPEHASH = keccak256(
        "Request(address provider,string method,string path,bytes32 bodyHash,uint64 timestamp,bytes32 nonce)"
    );
    uint96 internal constant FEE = 5e18;
    uint96 internal constant DAY_CAP = 12e18;

    address internal node;
    uint256 internal nodeKey;
    address internal node2;
    uint256 internal node2Key;

    function setUp() public override {
        super.setUp();
        (node, nodeKey) = makeAddrAndKey("node");
        (node2, node2Key) = makeAddrAndKey("node2");
        _registerNode(node);
        _registerNode(node2);
    }

    function _registerNode(address who) internal {
        uint96 stake = network.params().minStake;
        _fund(who, stake);
        vm.startPrank(who);
        token.approve(address(network), stake);
        network.register(
            NodeProfile({
                endpoint: "https://node.example", encryptionKey: keccak256(abi.encode(who)), dnsIpv4: 0, dnsIpv6: 0
            }),
            stake
        );
        vm.stopPrank();
    }

    function _enable(uint96 fee, uint96 cap) internal {
        vm.prank(appOwner);
        vault.setNetworkTerms(NetworkTerms({enabled: true, feePerReplacement: fee, maxFeesPerDay: cap}));
    }

    function _signatureCheck(uint256 key) internal view returns (bytes4) {
        bytes32 structHash = keccak256(
            abi.encode(
                REQUEST_TYPEHASH, provider, keccak256("GET"), keccak256("/v1/leases/7/logs"), keccak256(""), 1, "n"
            )
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", vault.requestDomainSeparator(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return vault.isValidSignature(digest, abi.encodePacked(r, s, v, structHash));
    }

    /// @dev Keeps both nodes and both providers live across a warp.
    function _warpLive(uint256 to) internal {
        vm.warp(to);
        _heartbeat(provider);
        _heartbeat(provider2);
        vm.prank(node);
        network.heartbeat();
        vm.prank(node2);
        network.heartbeat();
    }

    function test_setNetworkTerms_isTheOwnersAndValidated() public {
        NetworkTerms memory terms = NetworkTerms({enabled: true, feePerReplacement: FEE, maxFeesPerDay: DAY_CAP});
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotOwner.selector, controller));
        vm.prank(controller);
        vault.setNetworkTerms(terms);
        terms.maxFeesPerDay = FEE - 1;
        vm.expectRevert(
            abi.encodeWithSelector(
                IAppVault.VaultInvalidNetworkTerms.selector, "maxFeesPerDay is below feePerReplacement"
            )
        );
        vm.prank(appOwner);
        vault.setNetworkTerms(terms);
        vm.expectEmit(address(vault));
        emit IAppVault.NetworkTermsSet(true, FEE, DAY_CAP);
        _enable(FEE, DAY_CAP);
        NetworkTerms memory stored = vault.networkTerms();
        assertTrue(stored.enabled);
        assertEq(stored.feePerReplacement, FEE);
        assertEq(stored.maxFeesPerDay, DAY_CAP);
        assertEq(address(vault.network()), address(network));
    }

    function test_nodes_haveNoRightsOutsideNetworkMode() public {
        assertFalse(vault.isAuthorized(node));
        assertEq(_signatureCheck(nodeKey), INVALID);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotController.selector, node));
        this.replaceAs(node, 0, 0, 1);
    }

    function test_liveNode_replacesAndIsPaidExactly() public {
        _enable(FEE, DAY_CAP);
        assertTrue(vault.isAuthorized(node));
        assertEq(_signatureCheck(nodeKey), MAGIC);
        uint256 vaultBefore = vault.balance();
        uint256 nodeBefore = token.balanceOf(node);
        vm.expectEmit(address(vault));
        emit IAppVault.NodeFeePaid(node, 0, 1, FEE);
        uint256 leaseId = _replace(vault, node, 0, 0, provider, PRICE, DEPOSIT, 1);
        assertEq(vault.leaseOf(0), leaseId);
        assertEq(token.balanceOf(node), nodeBefore + FEE);
        assertEq(vault.balance(), vaultBefore - DEPOSIT - FEE);
        assertEq(vault.feesPaidOn(block.timestamp / 1 days), FEE);
    }

    function test_nodeRace_onlyOneReplacementAndOneFee() public {
        _enable(FEE, DAY_CAP);
        uint256 first = _replace(vault, node, 0, 0, provider, PRICE, DEPOSIT, 1);
        // node2 read the same empty slot: its compare-and-swap fails and it is paid nothing.
        uint256 before = token.balanceOf(node2);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultSlotMismatch.selector, 0, 0, first));
        this.replaceAs(node2, 0, 0, 2);
        assertEq(token.balanceOf(node2), before);
        assertEq(vault.feesPaidOn(block.timestamp / 1 days), FEE);
    }

    function test_darkNode_losesEveryRightAtOnce() public {
        _enable(FEE, DAY_CAP);
        uint256 leaseId = _replace(vault, node, 0, 0, provider, PRICE, DEPOSIT, 1);
        vm.warp(block.timestamp + network.params().livenessWindow + 1);
        vm.prank(node2);
        network.heartbeat();
        assertFalse(vault.isAuthorized(node));
        assertEq(_signatureCheck(nodeKey), INVALID);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotController.selector, node));
        this.replaceAs(node, 0, leaseId, 2);
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotController.selector, node));
        vm.prank(node);
        vault.clearSlot(0, leaseId);
        // The live node takes over the slot.
        uint256 next = _replace(vault, node2, 0, leaseId, provider2, PRICE, DEPOSIT, 2);
        assertEq(vault.leaseOf(0), next);
    }

    function test_leavingNetworkMode_takesTheRightsAway() public {
        _enable(FEE, DAY_CAP);
        vm.prank(appOwner);
        vault.setNetworkTerms(NetworkTerms({enabled: false, feePerReplacement: FEE, maxFeesPerDay: DAY_CAP}));
        assertFalse(vault.isAuthorized(node));
        vm.expectRevert(abi.encodeWithSelector(IAppVault.VaultNotController.selector, node));
        this.replaceAs(node, 0, 0, 1);
    }

    function test_fees_cappedPerDay_replacementsStillHappen() public {
        _enable(FEE, DAY_CAP);
        uint256 day = block.timestamp / 1 days;
        uint256 a = _replace(vault, node, 0, 0, provider, PRICE, DEPOSIT, 1);
        uint256 b = _replace(vault, node, 1, 0, provider, PRICE, DEPOSIT, 2);
        // 10 of 12 paid: the third is paid what is left, 2.
        uint256 before = token.balanceOf(node2);
        vm.expectEmit(address(vault));
        emit IAppVault.NodeFeePaid(node2, 0, b + 1, DAY_CAP - 2 * FEE);
        uint256 c = _replace(vault, node2, 0, a, provider2, PRICE, DEPOSIT, 3);
        assertEq(token.balanceOf(node2), before + DAY_CAP - 2 * FEE);
        // The cap is reached: the next one happens, unpaid.
        before = token.balanceOf(node);
        _replace(vault, node, 0, c, provider, PRICE, DEPOSIT, 4);
        assertEq(token.balanceOf(node), before);
        assertEq(vault.feesPaidOn(day), DAY_CAP);
        // A new day, a new cap.
        _warpLive((day + 1) * 1 days);
        _replace(vault, node, 1, b, provider2, PRICE, DEPOSIT, 5);
        assertEq(token.balanceOf(node), before + FEE);
        assertEq(vault.feesPaidOn(day + 1), FEE);
    }

    function test_ownersControllersAreNotPaidByTheNetworkTerms() public {
        _enable(FEE, DAY_CAP);
        uint256 before = token.balanceOf(controller);
        uint256 vaultBefore = vault.balance();
        _replace(vault, controller, 0, 0, provider, PRICE, DEPOSIT, 1);
        assertEq(token.balanceOf(controller), before);
        assertEq(vault.balance(), vaultBefore - DEPOSIT);
        assertEq(vault.feesPaidOn(block.timestamp / 1 days), 0);
    }

    function test_acceptBid_paysTheNode() public {
        _enable(FEE, DAY_CAP);
        vm.prank(node);
        uint256 orderId = vault.createOrder(
            defaultResources(), PRICE, DEPOSIT, uint40(block.timestamp + 1 hours), _requirements(0, 0)
        );
        _bid(provider, orderId, PRICE / 2);
        uint256 before = token.balanceOf(node2);
        vm.expectEmit(address(vault));
        emit IAppVault.NodeFeePaid(node2, 2, 1, FEE);
        vm.prank(node2);
        vault.acceptBid(orderId, provider, 2, 0);
        assertEq(token.balanceOf(node2), before + FEE);
    }

    function test_fee_neverMoreThanTheBalance() public {
        _enable(FEE, DAY_CAP);
        // Leave exactly the deposit plus 1 in the vault.
        uint256 extra = vault.balance() - DEPOSIT - 1;
        vm.prank(appOwner);
        vault.withdraw(appOwner, extra);
        uint256 before = token.balanceOf(node);
        _replace(vault, node, 0, 0, provider, PRICE, DEPOSIT, 1);
        assertEq(token.balanceOf(node), before + 1);
        assertEq(vault.balance(), 0);
    }

    /// @dev For expectRevert on one call: `by` replaces `slot` (expecting `expected`) with provider's quote `nonce`.
    function replaceAs(address by, uint256 slot, uint256 expected, uint256 nonce) external returns (uint256) {
        return _replace(vault, by, slot, expected, nonce % 2 == 0 ? provider2 : provider, PRICE, DEPOSIT, nonce);
    }
}
