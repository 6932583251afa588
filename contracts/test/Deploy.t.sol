// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Deploy} from "../script/Deploy.s.sol";
import {PodnetTestToken} from "../src/dev/PodnetTestToken.sol";
import {ReleaseBuild} from "./utils/ReleaseBuild.sol";
import {Test} from "forge-std/Test.sol";

/// @notice The deploy script's refusals on a real chain (anything but anvil's 31337).
/// @dev The environment is process-wide and forge runs tests in parallel: the test that runs the script sets exactly
///      the values Governance.t.sol sets, and the other rules are checked on `checkConfig` with explicit values.
contract DeployTest is Test {
    uint256 internal constant MAINNET = 1;

    Deploy internal script;
    address internal deployer;
    uint256 internal deployerKey;
    address internal governor = makeAddr("governor");
    address internal arbiter = makeAddr("arbiter");
    address internal treasury = makeAddr("treasury");
    address internal paymentToken;

    function setUp() public {
        (deployer, deployerKey) = makeAddrAndKey("deployer");
        script = new Deploy();
        paymentToken = ReleaseBuild.deploy("PodnetTestToken", ""); // stands for a real ERC-20 already on the chain
    }

    function _config() internal view returns (Deploy.Config memory) {
        return Deploy.Config({
            deployer: deployer,
            paymentToken: paymentToken,
            treasury: treasury,
            arbiter: arbiter,
            governor: governor,
            timelockDelay: 2 days
        });
    }

    /// @dev Issue 13, finding 6: on any chain the script deployed the mintable test token when PAYMENT_TOKEN was unset
    ///      and ran with the deployer as governor, arbiter and treasury. On a real chain it now refuses.
    function test_run_refusesTestTokenOnRealChain() public {
        vm.setEnv("DEPLOYER_PRIVATE_KEY", vm.toString(deployerKey));
        vm.setEnv("GOVERNOR", vm.toString(governor));
        vm.setEnv("ARBITER", vm.toString(arbiter));
        vm.setEnv("TREASURY", vm.toString(treasury));
        vm.setEnv("TIMELOCK_DELAY", vm.toString(uint256(2 days)));
        vm.setEnv("PAYMENT_TOKEN", vm.toString(address(0)));
        vm.chainId(MAINNET);
        vm.expectRevert(abi.encodeWithSelector(Deploy.DeployNoPaymentToken.selector, MAINNET, address(0)));
        script.run();
    }

    function test_checkConfig_acceptsExplicitSettings() public view {
        script.checkConfig(_config(), MAINNET);
    }

    function test_checkConfig_refusesPaymentTokenWithoutCode() public {
        Deploy.Config memory c = _config();
        c.paymentToken = makeAddr("not a contract");
        vm.expectRevert(abi.encodeWithSelector(Deploy.DeployNoPaymentToken.selector, MAINNET, c.paymentToken));
        script.checkConfig(c, MAINNET);
    }

    function test_checkConfig_refusesDeployerAsGovernor() public {
        Deploy.Config memory c = _config();
        c.governor = deployer;
        vm.expectRevert(abi.encodeWithSelector(Deploy.DeployDeployerInControl.selector, "GOVERNOR", deployer));
        script.checkConfig(c, MAINNET);
    }

    function test_checkConfig_refusesDeployerAsArbiter() public {
        Deploy.Config memory c = _config();
        c.arbiter = deployer;
        vm.expectRevert(abi.encodeWithSelector(Deploy.DeployDeployerInControl.selector, "ARBITER", deployer));
        script.checkConfig(c, MAINNET);
    }

    function test_checkConfig_refusesZeroAddresses() public {
        Deploy.Config memory c = _config();
        c.treasury = address(0);
        vm.expectRevert(abi.encodeWithSelector(Deploy.DeployZeroAddress.selector, "TREASURY"));
        script.checkConfig(c, MAINNET);
        c = _config();
        c.governor = address(0);
        vm.expectRevert(abi.encodeWithSelector(Deploy.DeployZeroAddress.selector, "GOVERNOR"));
        script.checkConfig(c, MAINNET);
        c = _config();
        c.arbiter = address(0);
        vm.expectRevert(abi.encodeWithSelector(Deploy.DeployZeroAddress.selector, "ARBITER"));
        script.checkConfig(c, MAINNET);
    }

    function test_checkConfig_refusesShortTimelockDelay() public {
        Deploy.Config memory c = _config();
        c.timelockDelay = 2 days - 1;
        vm.expectRevert(
            abi.encodeWithSelector(Deploy.DeployTimelockDelayTooShort.selector, 2 days - 1, script.MIN_TIMELOCK_DELAY())
        );
        script.checkConfig(c, MAINNET);
    }

    function test_checkConfig_localChainAllowsDefaults() public view {
        Deploy.Config memory c = _config();
        (c.paymentToken, c.treasury, c.arbiter, c.governor, c.timelockDelay) =
        (address(0), deployer, deployer, deployer, 60);
        script.checkConfig(c, 31_337);
    }

    function test_requiredAddress_refusesUnsetVariable() public {
        vm.expectRevert(abi.encodeWithSelector(Deploy.DeployMissingSetting.selector, "PODNET_TEST_NEVER_SET"));
        script.requiredAddress("PODNET_TEST_NEVER_SET");
    }
}
