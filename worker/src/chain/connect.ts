import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Deployment, parseDeployment } from "@podnet/sdk/protocol";
import {
  type Account,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type PublicClient,
  type Transport,
  type WalletClient,
  webSocket,
} from "viem";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import type { WorkerConfig } from "../config.js";

export interface ChainContext {
  chainId: number;
  chain: Chain;
  deployment: Deployment;
  account: PrivateKeyAccount;
  publicClient: PublicClient<Transport, Chain>;
  walletClient: WalletClient<Transport, Chain, Account>;
}

/** Where the deployment file is when the config does not say: deployments/<chainId>.json of the repository. */
const defaultDeploymentsFile = (chainId: number) =>
  join(import.meta.dirname, "..", "..", "..", "deployments", `${chainId}.json`);

/**
 * Connects to the chain, checks it is the one the deployment file describes, and builds the clients. The key never
 * leaves the account object.
 */
export async function connectChain(config: WorkerConfig): Promise<ChainContext> {
  const transport = config.rpcUrl.startsWith("ws") ? webSocket(config.rpcUrl) : http(config.rpcUrl, { retryCount: 0 });
  const probe = createPublicClient({ transport });
  let chainId: number;
  try {
    chainId = await probe.getChainId();
  } catch (error) {
    throw new Error(`rpcUrl: no chain answers at ${config.rpcUrl} (${(error as Error).message.split("\n")[0]})`);
  }
  const file = config.deploymentsFile ?? defaultDeploymentsFile(chainId);
  if (!existsSync(file)) {
    throw new Error(`deploymentsFile: ${file} does not exist (deploy with \`npm run deploy:local\` or set it)`);
  }
  const deployment = parseDeployment(JSON.parse(readFileSync(file, "utf8")));
  if (deployment.chainId !== chainId) {
    throw new Error(`deploymentsFile: ${file} is for chain ${deployment.chainId}, the RPC serves chain ${chainId}`);
  }
  const chain = defineChain({
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
  const account = privateKeyToAccount(config.providerKey);
  const publicClient = createPublicClient({ chain, transport, pollingInterval: config.pollIntervalMs });
  const walletClient = createWalletClient({ chain, transport, account });
  return { chainId, chain, deployment, account, publicClient, walletClient };
}
