/**
 * @podnet/devnet: the local harness. A chain with the contracts (anvil, deployContracts, startLocalChain), provider
 * workers (startProvider, startWorkerProcess), the indexer, scratch Postgres databases, test images built FROM
 * scratch, the Docker objects they leave, publishers, the indexer's scripted scenario, and {@link Devnet}, which
 * owns a whole local marketplace and stops it in one call. The benchmarks' building blocks are its subpaths
 * `@podnet/devnet/bench/<module>` (pods, seed, history, stats, gas, report).
 */

export { claimProviderAccount, releaseProviderAccount } from "./account-claims.js";
export { ANVIL_DEPLOYER_KEY, ANVIL_MNEMONIC, devAccount } from "./accounts.js";
export { anvilWsUrl, chainIdAt, LOCAL_CHAIN_ID, type StartAnvilOptions, startAnvil, waitForChain } from "./anvil.js";
export { type AutoscaledApp, type AutoscaledAppOptions, createAutoscaledApp } from "./autoscaled-app.js";
export {
  type AutoscalerNodeProcess,
  type AutoscalerProcess,
  killProvider,
  startAutoscalerNodeProcess,
  startAutoscalerProcess,
} from "./autoscaler.js";
export { CHROMIUM, launchChromium } from "./browser.js";
export { clients, type LocalChain, startLocalChain, walletClient } from "./chain.js";
export { type CleanupStep, cleanupOnSignal, cleanupState, runCleanup } from "./cleanup.js";
export { contractHandles, contracts, readMarket } from "./contracts.js";
export { type DeployOptions, deployContracts } from "./deploy.js";
export { Devnet, type DevnetOptions } from "./devnet.js";
export { type DnsServer, startDnsServer } from "./dns.js";
export {
  describeLeftovers,
  infraContainerOf,
  type LeftoverCounts,
  leaseContainers,
  localDocker,
  type PodEndpoint,
  plantProviderLeftovers,
  podNetworks,
  providerLabel,
  providerObjects,
  removeProviderFirewall,
  removeProviderLeftovers,
  sandboxHostConfig,
  untagImages,
} from "./docker.js";
export { filesUnder } from "./files.js";
export { ensureGas, fund, mint, TOKEN, tokenBalance } from "./funds.js";
export {
  buildTestImage,
  DEFAULT_TEST_PAGE,
  HOST_BUSYBOX,
  type SealedBlob,
  saveImage,
  sealTestImage,
  type TestImageOptions,
  testImageTarball,
  webAppManifest,
} from "./images.js";
export {
  graphql,
  type Indexer,
  type IndexerOptions,
  type PonderStatus,
  spawnIndexer,
  startIndexer,
  waitForIndexedBlock,
  waitForSearchable,
} from "./indexer.js";
export {
  freshProject,
  type InstalledPackages,
  installPacked,
  installWorkerPackages,
  okInProject,
  type PackageName,
  type PackedPackage,
  packDryRunFiles,
  packPackage,
  publishDryRun,
  runInProject,
  userShellEnv,
} from "./installed-package.js";
export { type ListingOptions, listProvider, signedQuote } from "./listing.js";
export {
  canListen,
  freePort,
  type IngressGetOptions,
  ingress,
  preferredPort,
  startTcpProxy,
  type TcpProxy,
  waitFor,
} from "./net.js";
export {
  createNetworkApp,
  type NetworkAppOptions,
  type NetworkNode,
  type NetworkNodesOptions,
  type NodeView,
  nodeView,
  startNetworkNodes,
} from "./network-nodes.js";
export { cliEnv, runCommand, runNodeScript, type ScriptRun } from "./node-script.js";
export { autoscalerBin, bin, DEVNET_POSTGRES_ENV, podnetBin, repoRoot, workerBin } from "./paths.js";
export { createScratchDatabase, dropOrphanDevnetDatabases } from "./postgres.js";
export { procStat } from "./proc-stat.js";
export { type ProviderOptions, podNetworkPoolOf, pricingEnv, type RunningProvider, startProvider } from "./provider.js";
export { body, fundedPublisher, Publisher, type PublisherClientOptions, publisherClient } from "./publisher.js";
export {
  type AppScenarioResult,
  podResources,
  runAppScenario,
  runScenario,
  type ScenarioResult,
} from "./scenario.js";
export { podHost, registerWorker, startWorkerProcess, type WorkerProcess, workerEnv } from "./worker.js";
