// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PodnetLaunch} from "../script/PodnetLaunch.sol";
import {AutoscalerNetwork} from "../src/AutoscalerNetwork.sol";
import {IAutoscalerNetwork} from "../src/interfaces/IAutoscalerNetwork.sol";
import {NetworkParams, NodeInfo, NodeProfile, NodeStatus} from "../src/types/NetworkTypes.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {ReleaseBuild} from "./utils/ReleaseBuild.sol";
import {IAccessManaged} from "@openzeppelin/contracts/access/manager/IAccessManaged.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice The autoscaler network's registry: registering, heartbeats and liveness, stake, exit, governance.
contract AutoscalerNetworkTest is MarketFixture {
    address internal node = makeAddr("node");
    address internal node2 = makeAddr("node2");
    uint96 internal constant STAKE = 100e18;

    function setUp() public override {
        super.setUp();
        _fund(node, 1000 * TOKEN);
        _fund(node2, 1000 * TOKEN);
    }

    function _profile(string memory endpoint) internal pure returns (NodeProfile memory) {
        return NodeProfile({
            endpoint: endpoint, encryptionKey: keccak256("x25519"), dnsIpv4: bytes4(0x7f000001), dnsIpv6: bytes16(0)
        });
    }

    function _register(address who, uint96 stake) internal {
        vm.startPrank(who);
        token.approve(address(network), stake);
        network.register(_profile("https://node.example"), stake);
        vm.stopPrank();
    }

    function _window() internal view returns (uint256) {
        return network.params().livenessWindow;
    }

    function test_register_storesTheNodeAndPullsTheStake() public {
        uint256 before = token.balanceOf(node);
        vm.prank(node);
        token.approve(address(network), STAKE);
        vm.expectEmit(address(network));
        emit IAutoscalerNetwork.NodeRegistered(
            node, "https://node.example", keccak256("x25519"), bytes4(0x7f000001), bytes16(0), STAKE
        );
        vm.expectEmit(address(network));
        emit IAutoscalerNetwork.NodeHeartbeat(node, block.timestamp);
        vm.prank(node);
        network.register(_profile("https://node.example"), STAKE);
        NodeInfo memory info = network.getNode(node);
        assertEq(uint8(info.status), uint8(NodeStatus.Active));
        assertEq(info.stake, STAKE);
        assertEq(info.lastHeartbeat, block.timestamp);
        assertEq(info.profile.endpoint, "https://node.example");
        assertEq(token.balanceOf(node), before - STAKE);
        assertEq(token.balanceOf(address(network)), STAKE);
        assertTrue(network.isLive(node));
        assertEq(network.nodes().length, 1);
        assertEq(network.liveNodes()[0], node);
    }

    function test_register_refusesBadInput() public {
        vm.startPrank(node);
        token.approve(address(network), STAKE);
        vm.expectRevert(abi.encodeWithSelector(IAutoscalerNetwork.NetworkStakeTooLow.selector, STAKE - 1, STAKE));
        network.register(_profile("https://node.example"), STAKE - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAutoscalerNetwork.NetworkInvalid.selector, "endpoint", "not an http(s) URL of at most 256 bytes"
            )
        );
        network.register(_profile("ftp://node.example"), STAKE);
        NodeProfile memory keyless = _profile("https://node.example");
        keyless.encryptionKey = bytes32(0);
        vm.expectRevert(abi.encodeWithSelector(IAutoscalerNetwork.NetworkInvalid.selector, "encryptionKey", "zero"));
        network.register(keyless, STAKE);
        network.register(_profile("https://node.example"), STAKE);
        vm.expectRevert(abi.encodeWithSelector(IAutoscalerNetwork.NetworkAlreadyRegistered.selector, node));
        network.register(_profile("https://node.example"), STAKE);
        vm.stopPrank();
    }

    function test_liveness_followsHeartbeats() public {
        _register(node, STAKE);
        _register(node2, STAKE);
        vm.warp(block.timestamp + _window());
        assertTrue(network.isLive(node), "live at the window's edge");
        vm.prank(node2);
        network.heartbeat();
        vm.warp(block.timestamp + 1);
        assertFalse(network.isLive(node), "dark one second past the window");
        assertTrue(network.isLive(node2));
        address[] memory live = network.liveNodes();
        assertEq(live.length, 1);
        assertEq(live[0], node2);
        vm.prank(node);
        network.heartbeat();
        assertTrue(network.isLive(node), "a heartbeat brings it back");
        assertEq(network.liveNodes().length, 2);
    }

    function test_heartbeat_refusesStrangersAndExitingNodes() public {
        vm.expectRevert(abi.encodeWithSelector(IAutoscalerNetwork.NetworkNotRegistered.selector, stranger));
        vm.prank(stranger);
        network.heartbeat();
        _register(node, STAKE);
        vm.prank(node);
        network.startExit();
        vm.expectRevert(abi.encodeWithSelector(IAutoscalerNetwork.NetworkNotActive.selector, node));
        vm.prank(node);
        network.heartbeat();
    }

    function test_exit_endsLivenessAtOnceAndReturnsTheStakeAfterTheDelay() public {
        _register(node, STAKE);
        vm.startPrank(node);
        token.approve(address(network), 50e18);
        network.addStake(50e18);
        vm.stopPrank();
        uint256 exitAt = block.timestamp + network.params().exitDelay;
        vm.expectEmit(address(network));
        emit IAutoscalerNetwork.NodeExitStarted(node, exitAt);
        vm.prank(node);
        network.startExit();
        assertFalse(network.isLive(node));
        assertEq(network.liveNodes().length, 0);
        vm.warp(exitAt - 1);
        vm.expectRevert(abi.encodeWithSelector(IAutoscalerNetwork.NetworkExitPending.selector, node, exitAt));
        vm.prank(node);
        network.withdrawStake();
        vm.warp(exitAt);
        uint256 before = token.balanceOf(node);
        vm.expectEmit(address(network));
        emit IAutoscalerNetwork.NodeStakeWithdrawn(node, 150e18);
        vm.prank(node);
        network.withdrawStake();
        assertEq(token.balanceOf(node), before + 150e18);
        assertEq(token.balanceOf(address(network)), 0);
        assertEq(uint8(network.getNode(node).status), uint8(NodeStatus.None));
        assertEq(network.nodes().length, 0);
        // It may come back as a new node.
        _register(node, STAKE);
        assertTrue(network.isLive(node));
    }

    function test_withdrawStake_refusesActiveNodes() public {
        _register(node, STAKE);
        vm.expectRevert(abi.encodeWithSelector(IAutoscalerNetwork.NetworkNotActive.selector, node));
        vm.prank(node);
        network.withdrawStake();
    }

    function test_withdrawStake_keepsTheListConsistent() public {
        _register(node, STAKE);
        _register(node2, STAKE);
        vm.prank(node);
        network.startExit();
        vm.warp(block.timestamp + network.params().exitDelay);
        vm.prank(node2);
        network.heartbeat();
        vm.prank(node);
        network.withdrawStake();
        address[] memory all = network.nodes();
        assertEq(all.length, 1);
        assertEq(all[0], node2);
        assertEq(network.liveNodes()[0], node2);
    }

    function test_updateProfile_replacesIt() public {
        _register(node, STAKE);
        NodeProfile memory profile = _profile("http://10.0.0.7:7100");
        vm.expectEmit(address(network));
        emit IAutoscalerNetwork.NodeUpdated(
            node, "http://10.0.0.7:7100", keccak256("x25519"), bytes4(0x7f000001), bytes16(0)
        );
        vm.prank(node);
        network.updateProfile(profile);
        assertEq(network.getNode(node).profile.endpoint, "http://10.0.0.7:7100");
    }

    function test_setParams_isGovernedAndValidated() public {
        NetworkParams memory p = PodnetLaunch.networkParams();
        p.heartbeatPeriod = 5;
        vm.expectRevert(abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, stranger));
        vm.prank(stranger);
        network.setParams(p);
        vm.startPrank(admin);
        p.livenessWindow = 4;
        vm.expectRevert(
            abi.encodeWithSelector(
                IAutoscalerNetwork.NetworkInvalid.selector, "livenessWindow", "shorter than heartbeatPeriod"
            )
        );
        network.setParams(p);
        p.livenessWindow = 8;
        vm.expectEmit(address(network));
        emit IAutoscalerNetwork.NetworkParamsSet(p.minStake, 5, 8, p.exitDelay);
        network.setParams(p);
        vm.stopPrank();
        assertEq(network.params().livenessWindow, 8);
    }

    function test_register_capsTheNumberOfNodes() public {
        uint256 max = network.MAX_NODES();
        for (uint256 i; i < max; ++i) {
            address who = address(uint160(0x10000 + i));
            _fund(who, STAKE);
            _register(who, STAKE);
        }
        vm.startPrank(node);
        token.approve(address(network), STAKE);
        vm.expectRevert(abi.encodeWithSelector(IAutoscalerNetwork.NetworkTooManyNodes.selector, max));
        network.register(_profile("https://node.example"), STAKE);
        vm.stopPrank();
    }

    function test_constructor_refusesZeroToken() public {
        bytes memory code = ReleaseBuild.creationCode("AutoscalerNetwork");
        vm.expectRevert(abi.encodeWithSelector(IAutoscalerNetwork.NetworkInvalid.selector, "token", "zero address"));
        ReleaseBuild.create(code, abi.encode(address(0), manager, PodnetLaunch.networkParams()));
    }
}
