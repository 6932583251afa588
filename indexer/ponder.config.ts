// Reads contract addresses and the start block from the deployment file, ABIs from the SDK's protocol layer,
// so a redeploy re-indexes without editing this file.
//
// Environment: CHAIN_ID (default 31337), RPC_URL (default http://127.0.0.1:8545), RPC_WS_URL (optional: new blocks by
// subscription instead of polling), DEPLOYMENTS_FILE (default ../deployments/<CHAIN_ID>.json), DATABASE_URL (Postgres;
// unset: embedded PGlite in PGLITE_DIRECTORY, default .ponder/pglite).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  appVaultAbi,
  appVaultFactoryAbi,
  autoscalerNetworkAbi,
  disputeCourtAbi,
  parseDeployment,
  podnetMarketAbi,
  providerRegistryAbi,
} from "@podnet/sdk/protocol";
import { createConfig, factory } from "ponder";
import { getAbiItem } from "viem";
import { rpcWsUrlFrom } from "./config/rpc-ws-url.js";

const chainId = Number(process.env.CHAIN_ID ?? 31337);
// Ponder loads this file through vite-node, where import.meta.url works but import.meta.dirname does not.
const deploymentsFile =
  process.env.DEPLOYMENTS_FILE ?? fileURLToPath(new URL(`../deployments/${chainId}.json`, import.meta.url));
const deployment = parseDeployment(JSON.parse(readFileSync(deploymentsFile, "utf8")));
if (deployment.chainId !== chainId) {
  throw new Error(`${deploymentsFile} is for chain ${deployment.chainId}, not CHAIN_ID ${chainId}`);
}
const { providerRegistry, podnetMarket, disputeCourt, appVaultFactory, autoscalerNetwork } = deployment.contracts;
const isLocal = chainId === 31337;
const rpcWsUrl = rpcWsUrlFrom(process.env.RPC_WS_URL);

export default createConfig({
  database: process.env.DATABASE_URL
    ? { kind: "postgres", connectionString: process.env.DATABASE_URL }
    : { kind: "pglite", directory: process.env.PGLITE_DIRECTORY },
  chains: {
    podnet: {
      id: chainId,
      rpc: process.env.RPC_URL ?? "http://127.0.0.1:8545",
      // New heads by subscription: a block is indexed when it is announced, and an idle indexer asks nothing. Ponder
      // goes back to polling (below) after nine failed connections in a row.
      ws: rpcWsUrl,
      // anvil reuses block numbers across restarts: never trust a cached response there.
      disableCache: isLocal,
      pollingInterval: isLocal ? 250 : 1_000,
    },
  },
  contracts: {
    ProviderRegistry: {
      chain: "podnet",
      abi: providerRegistryAbi,
      address: providerRegistry.address,
      startBlock: providerRegistry.blockNumber,
    },
    PodnetMarket: {
      chain: "podnet",
      abi: podnetMarketAbi,
      address: podnetMarket.address,
      startBlock: podnetMarket.blockNumber,
    },
    DisputeCourt: {
      chain: "podnet",
      abi: disputeCourtAbi,
      address: disputeCourt.address,
      startBlock: disputeCourt.blockNumber,
    },
    AutoscalerNetwork: {
      chain: "podnet",
      abi: autoscalerNetworkAbi,
      address: autoscalerNetwork.address,
      startBlock: autoscalerNetwork.blockNumber,
    },
    AppVaultFactory: {
      chain: "podnet",
      abi: appVaultFactoryAbi,
      address: appVaultFactory.address,
      startBlock: appVaultFactory.blockNumber,
    },
    // Every vault the deployment's factory created, found from its AppCreated events. Only that factory's address
    // counts: another contract emitting the same event (another factory, or a fake one) adds no vault.
    AppVault: {
      chain: "podnet",
      abi: appVaultAbi,
      address: factory({
        address: appVaultFactory.address,
        event: getAbiItem({ abi: appVaultFactoryAbi, name: "AppCreated" }),
        parameter: "vault",
      }),
      startBlock: appVaultFactory.blockNumber,
    },
  },
});
