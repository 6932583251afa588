// TEMPORARY: the AutoscalerNetwork's and AppVault network mode's ABI from contracts/src/interfaces/IAutoscalerNetwork.sol,
// until the generated abis.ts has them (deleted at the merge of "contracts: AutoscalerNetwork").
import { parseAbi } from "viem";

export const autoscalerNetworkAbi = parseAbi([
  "struct NodeProfile { string endpoint; bytes32 encryptionKey; bytes4 dnsIpv4; bytes16 dnsIpv6; }",
  "struct NodeInfo { uint8 status; uint40 registeredAt; uint40 lastHeartbeat; uint40 exitAt; uint96 stake; NodeProfile profile; }",
  "struct NetworkParams { uint96 minStake; uint32 heartbeatPeriod; uint32 livenessWindow; uint32 exitDelay; }",
  "error NetworkAlreadyRegistered(address node)",
  "error NetworkNotRegistered(address node)",
  "error NetworkNotActive(address node)",
  "error NetworkStakeTooLow(uint256 stake, uint256 minStake)",
  "error NetworkZeroAmount()",
  "error NetworkInvalid(string field, string reason)",
  "error NetworkExitPending(address node, uint256 exitAt)",
  "error NetworkTooManyNodes(uint256 max)",
  "event NodeRegistered(address indexed node, string endpoint, bytes32 encryptionKey, bytes4 dnsIpv4, bytes16 dnsIpv6, uint256 stake)",
  "event NodeHeartbeat(address indexed node, uint256 at)",
  "event NodeExitStarted(address indexed node, uint256 exitAt)",
  "event NodeStakeWithdrawn(address indexed node, uint256 amount)",
  "function register(NodeProfile profile, uint96 stake)",
  "function updateProfile(NodeProfile profile)",
  "function heartbeat()",
  "function addStake(uint96 amount)",
  "function startExit()",
  "function withdrawStake()",
  "function token() view returns (address)",
  "function params() view returns (NetworkParams)",
  "function isLive(address node) view returns (bool)",
  "function getNode(address node) view returns (NodeInfo)",
  "function nodes() view returns (address[])",
  "function liveNodes() view returns (address[])",
]);

export const appVaultNetworkAbi = parseAbi([
  "struct NetworkTerms { bool enabled; uint96 feePerReplacement; uint96 maxFeesPerDay; }",
  "function setNetworkTerms(NetworkTerms terms)",
  "function networkTerms() view returns (NetworkTerms)",
  "function network() view returns (address)",
  "function feesPaidOn(uint256 day) view returns (uint256)",
  "event NetworkTermsSet(bool enabled, uint96 feePerReplacement, uint96 maxFeesPerDay)",
  "event NodeFeePaid(address indexed node, uint256 indexed slot, uint256 indexed newLease, uint256 amount)",
]);
