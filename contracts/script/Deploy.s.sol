// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AppVaultFactory} from "../src/AppVaultFactory.sol";
import {AutoscalerNetwork} from "../src/AutoscalerNetwork.sol";
import {DisputeCourt} from "../src/DisputeCourt.sol";
import {PodnetMarket} from "../src/PodnetMarket.sol";
import {ProviderRegistry} from "../src/ProviderRegistry.sol";
import {PodnetTestToken} from "../src/dev/PodnetTestToken.sol";
import {IAutoscalerNetwork} from "../src/interfaces/IAutoscalerNetwork.sol";
import {IDisputeCourt} from "../src/interfaces/IDisputeCourt.sol";
import {IPodnetMarket} from "../src/interfaces/IPodnetMarket.sol";
import {IProviderRegistry} from "../src/interfaces/IProviderRegistry.sol";
import {NetworkParams} from "../src/types/NetworkTypes.sol";
import {PodnetLaunch} from "./PodnetLaunch.sol";
import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Script} from "forge-std/Script.sol";

/// @notice Deploys Podnet: AccessManager, TimelockController, ProviderRegistry, PodnetMarket and DisputeCourt with the
///         launch parameters, wires the roles (both in `PodnetLaunch`), hands the AccessManager's admin role to the
///         timelock, and deploys the AppVaultFactory (ungoverned: each app belongs to its owner) on the market and
///         court.
/// @dev Environment:
///      DEPLOYER_PRIVATE_KEY  the deploying account (read here, so the key never appears on a command line).
///      PAYMENT_TOKEN         the ERC-20 to pay in; unset deploys PodnetTestToken (local chain only).
///      TREASURY              where protocol fees go; defaults to the deployer (local chain only).
///      ARBITER               the first arbiter; defaults to the deployer (local chain only).
///      GOVERNOR              proposer and executor of the timelock; defaults to the deployer (local chain only).
///      TIMELOCK_DELAY        seconds between scheduling and executing a governed change; defaults to 2 days.
///      NETWORK_HEARTBEAT_PERIOD, NETWORK_LIVENESS_WINDOW  the autoscaler network's heartbeat clock in seconds; read on
///                            the local chain only (tests run nodes with a clock of seconds), launch values elsewhere.
///      On any chain but anvil's (31337) the script refuses to run unless PAYMENT_TOKEN (an existing contract),
///      TREASURY, ARBITER and GOVERNOR are set explicitly, the governor and the arbiter are not the deployer, and
///      TIMELOCK_DELAY is at least MIN_TIMELOCK_DELAY: it never deploys the mintable test token there and never leaves
///      the deployer in control. After this script only the timelock administers the AccessManager: every parameter
///      and role change is scheduled on the timelock and executed after the delay.
contract Deploy is Script {
    /// @notice The only chain where defaults (the deployer, the test token, a short delay) are allowed.
    uint256 public constant LOCAL_CHAIN_ID = 31_337;
    /// @notice Shortest timelock delay on any other chain.
    uint256 public constant MIN_TIMELOCK_DELAY = 2 days;

    /// @notice `name` must be set in the environment on this chain.
    error DeployMissingSetting(string name);
    /// @notice On chain `chainId` the payment token must be an existing contract, not `token`.
    error DeployNoPaymentToken(uint256 chainId, address token);
    /// @notice `role` must not be the deployer (`deployer`) on a real chain.
    error DeployDeployerInControl(string role, address deployer);
    /// @notice `name` must not be the zero address.
    error DeployZeroAddress(string name);
    /// @notice The timelock delay `delay` is below `minimum`.
    error DeployTimelockDelayTooShort(uint256 delay, uint256 minimum);

    struct Deployment {
        IERC20 token;
        AccessManager manager;
        TimelockController timelock;
        ProviderRegistry registry;
        PodnetMarket market;
        DisputeCourt court;
        AutoscalerNetwork network;
        /// @dev Its constructor creates the AppVault implementation (`implementation()`).
        AppVaultFactory vaultFactory;
    }

    /// @notice Who the deployment hands what to.
    struct Config {
        address deployer;
        /// @dev address(0): deploy PodnetTestToken (local chain only).
        address paymentToken;
        address treasury;
        address arbiter;
        address governor;
        uint256 timelockDelay;
    }

    function run() external returns (Deployment memory d) {
        uint256 deployerKey = vm.envUint("DEPLOYER_PRIVATE_KEY");
        Config memory c = config(vm.addr(deployerKey), block.chainid);

        vm.startBroadcast(deployerKey);
        d.token = c.paymentToken == address(0) ? IERC20(address(new PodnetTestToken())) : IERC20(c.paymentToken);
        d.manager = new AccessManager(c.deployer);
        d.registry = new ProviderRegistry();
        d.market = new PodnetMarket(
            d.token, IProviderRegistry(address(d.registry)), address(d.manager), c.treasury, PodnetLaunch.marketParams()
        );
        d.court = new DisputeCourt(IPodnetMarket(address(d.market)), address(d.manager), PodnetLaunch.courtParams());
        PodnetLaunch.wireRoles(d.manager, d.market, d.court, c.arbiter);
        d.network = new AutoscalerNetwork(d.token, address(d.manager), networkParams(block.chainid));

        address[] memory governors = new address[](1);
        governors[0] = c.governor;
        d.timelock = new TimelockController(c.timelockDelay, governors, governors, address(0));
        d.manager.grantRole(d.manager.ADMIN_ROLE(), address(d.timelock), 0);
        d.manager.renounceRole(d.manager.ADMIN_ROLE(), c.deployer);
        d.vaultFactory = new AppVaultFactory(
            IPodnetMarket(address(d.market)), IDisputeCourt(address(d.court)), IAutoscalerNetwork(address(d.network))
        );
        vm.stopBroadcast();
    }

    /// @notice The configuration from the environment for chain `chainId`, checked (see `checkConfig`). On the local
    ///         chain unset addresses default to the deployer and an unset PAYMENT_TOKEN to the test token; elsewhere
    ///         each must be set.
    function config(address deployer, uint256 chainId) public view returns (Config memory c) {
        bool local = chainId == LOCAL_CHAIN_ID;
        c.deployer = deployer;
        c.paymentToken = local ? vm.envOr("PAYMENT_TOKEN", address(0)) : requiredAddress("PAYMENT_TOKEN");
        c.treasury = local ? vm.envOr("TREASURY", deployer) : requiredAddress("TREASURY");
        c.arbiter = local ? vm.envOr("ARBITER", deployer) : requiredAddress("ARBITER");
        c.governor = local ? vm.envOr("GOVERNOR", deployer) : requiredAddress("GOVERNOR");
        c.timelockDelay = vm.envOr("TIMELOCK_DELAY", MIN_TIMELOCK_DELAY);
        checkConfig(c, chainId);
    }

    /// @notice Refuses, on any chain but the local one, a configuration that deploys the test token (or names a
    ///         payment token without code), leaves the deployer governing or arbitrating, names a zero address, or
    ///         has a timelock delay under MIN_TIMELOCK_DELAY.
    function checkConfig(Config memory c, uint256 chainId) public view {
        if (c.treasury == address(0)) revert DeployZeroAddress("TREASURY");
        if (c.arbiter == address(0)) revert DeployZeroAddress("ARBITER");
        if (c.governor == address(0)) revert DeployZeroAddress("GOVERNOR");
        if (chainId == LOCAL_CHAIN_ID) return;
        if (c.paymentToken.code.length == 0) revert DeployNoPaymentToken(chainId, c.paymentToken);
        if (c.governor == c.deployer) revert DeployDeployerInControl("GOVERNOR", c.deployer);
        if (c.arbiter == c.deployer) revert DeployDeployerInControl("ARBITER", c.deployer);
        if (c.timelockDelay < MIN_TIMELOCK_DELAY) {
            revert DeployTimelockDelayTooShort(c.timelockDelay, MIN_TIMELOCK_DELAY);
        }
    }

    /// @notice The network's launch parameters; on the local chain the heartbeat clock may come from the environment.
    function networkParams(uint256 chainId) public view returns (NetworkParams memory p) {
        p = PodnetLaunch.networkParams();
        if (chainId != LOCAL_CHAIN_ID) return p;
        p.heartbeatPeriod = uint32(vm.envOr("NETWORK_HEARTBEAT_PERIOD", uint256(p.heartbeatPeriod)));
        p.livenessWindow = uint32(vm.envOr("NETWORK_LIVENESS_WINDOW", uint256(p.livenessWindow)));
    }

    /// @notice The address in environment variable `name`, which must be set.
    function requiredAddress(string memory name) public view returns (address) {
        if (!vm.envExists(name)) revert DeployMissingSetting(name);
        return vm.envAddress(name);
    }
}
