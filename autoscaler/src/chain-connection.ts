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
import { sendTransaction } from "viem/actions";

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
  const walletClient = oneSendAtATime(
    createWalletClient({ account: privateKeyToAccount(o.key), chain, transport: http(o.rpcUrl) }),
  ) as WalletClient;
  return { deployment, chain, chainId, publicClient, walletClient };
}

/**
 * The wallet with its transactions sent one at a time. A network node's heartbeats and each of its app runners' vault
 * calls share the key, and two transactions sent at once read the same pending nonce: one was refused ("nonce too
 * low"), seen in a test where a placement thereby skipped the cheapest provider for the next. Each send (the nonce
 * read, signing, eth_sendRawTransaction) waits for the one before it; receipts are still awaited side by side. Every
 * write of viem and the SDK (writeContract, the SDK's actions) goes through the client's `sendTransaction`.
 */
export function oneSendAtATime<client extends WalletClient>(walletClient: client) {
  let tail: Promise<unknown> = Promise.resolve();
  return walletClient.extend((base) => ({
    sendTransaction: ((parameters: Parameters<typeof sendTransaction>[1]) => {
      const sent = tail.then(() => sendTransaction(base, parameters));
      tail = sent.catch(() => undefined);
      return sent;
    }) as typeof base.sendTransaction,
  }));
}
