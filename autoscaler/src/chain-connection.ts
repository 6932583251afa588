import { type Deployment, readDeploymentFor } from "@podnet/sdk/protocol";
import {
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  type PublicClient,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

/** The chain as a daemon of this package sees it: its deployment, a reader and a wallet for the daemon's key. */
export interface ChainConnection {
  deployment: Deployment;
  chain: Chain;
  chainId: number;
  publicClient: PublicClient;
  walletClient: WalletClient;
}

/**
 * Reads the deployment file (`deploymentsFile`, else the one `@podnet/sdk` knows for the RPC's chain) and connects to
 * `rpcUrl` with `key` as the wallet's account; refuses a deployments file of another chain than the RPC serves (every
 * address in it would be wrong).
 */
export async function connectChain(o: {
  rpcUrl: string;
  deploymentsFile?: string;
  key: Hex;
}): Promise<ChainConnection> {
  const probe = createPublicClient({ transport: http(o.rpcUrl) });
  const chainId = await probe.getChainId();
  const deployment = readDeploymentFor(chainId, o.deploymentsFile, "PODNET_AUTOSCALER_DEPLOYMENTS_FILE");
  const chain = defineChain({
    id: deployment.chainId,
    name: `chain-${deployment.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [o.rpcUrl] } },
  });
  const publicClient = createPublicClient({ chain, transport: http(o.rpcUrl), pollingInterval: 250 }) as PublicClient;
  const walletClient = createWalletClient({
    account: privateKeyToAccount(o.key),
    chain,
    transport: http(o.rpcUrl),
  }) as WalletClient;
  return { deployment, chain, chainId, publicClient, walletClient };
}
