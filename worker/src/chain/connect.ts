import { type Deployment, readDeploymentFor } from "@podnet/sdk/protocol";
import {
  type Account,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hash,
  http,
  type PublicClient,
  type TransactionReceipt,
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
 * How often a receipt is looked for while the worker waits on one of its own transactions. Not the public client's
 * `pollingInterval`: that is the follower's poll interval (`pollIntervalMs`), which may be minutes for a worker told
 * of new blocks by a subscription, and viem looks for a receipt the first check missed (a transaction not mined yet
 * when the send returns) only a polling interval later: past its 180 s timeout at 10 minutes (chain-push.test's
 * control worker's registration, 2026-12-07).
 */
export const RECEIPT_POLL_MS = 50;

/** Waits for the receipt of one of the worker's transactions, looking every {@link RECEIPT_POLL_MS}. */
export function waitForReceipt(chain: Pick<ChainContext, "publicClient">, hash: Hash): Promise<TransactionReceipt> {
  return chain.publicClient.waitForTransactionReceipt({ hash, pollingInterval: RECEIPT_POLL_MS });
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
