import { existsSync, readFileSync } from "node:fs";
import { type Deployment, knownDeploymentFile, parseDeployment } from "@podnet/sdk/protocol";
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
  const file = o.deploymentsFile ?? knownDeploymentFile(chainId);
  if (!existsSync(file)) {
    throw new Error(
      o.deploymentsFile
        ? `deploymentsFile: ${file} does not exist`
        : `deploymentsFile: no deployment of chain ${chainId} is known (${file} does not exist); set deploymentsFile ` +
            "(PODNET_AUTOSCALER_DEPLOYMENTS_FILE) to the contracts' addresses",
    );
  }
  const deployment = parseDeployment(JSON.parse(readFileSync(file, "utf8")));
  if (chainId !== deployment.chainId) {
    throw new Error(`deploymentsFile is for chain ${deployment.chainId}, but ${o.rpcUrl} serves chain ${chainId}`);
  }
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
