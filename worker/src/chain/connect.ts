import { type Deployment, readDeploymentFor } from "@podnet/sdk/protocol";
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
  // Unset: the deployment @podnet/sdk knows for this chain (the repository's, or one the package ships).
  const deployment = readDeploymentFor(chainId, config.deploymentsFile, "PODNET_DEPLOYMENTS_FILE");
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
