/**
 * Helpers of the SDK's end-to-end tests: provider workers started the way an operator would (fund, register, run),
 * publishers as `createPodnetClient` instances on the local chain, and the pods' ingress.
 */
import { createPodnetClient, deriveEncryptionKeyPair, podnetTestTokenAbi } from "@podnet/sdk";
import { type Address, createWalletClient, type Hex, http } from "viem";
import type { HDAccount } from "viem/accounts";
import { ingress } from "./net.js";
import {
  clients,
  devAccount,
  freePort,
  fund,
  type LocalChain,
  registerWorker,
  startWorkerProcess,
  TOKEN,
  type WorkerProcess,
  waitFor,
  workerEnv,
} from "./worker.js";

export { ingress };

export interface TestProvider {
  address: Address;
  privateKey: Hex;
  encryptionKey: Hex;
  worker: WorkerProcess;
}

/** Funds, registers and starts a provider worker for anvil dev account `index`. */
export async function startProvider(
  chain: LocalChain,
  opts: { index: number; dataDir: string; extra?: Record<string, string> },
): Promise<TestProvider> {
  const { account, privateKey } = devAccount(opts.index);
  await fund(chain, account, 10_000n * TOKEN);
  const env = workerEnv(chain, {
    providerKey: privateKey,
    dataDir: opts.dataDir,
    apiPort: await freePort(),
    ingressPort: await freePort(),
    extra: opts.extra,
  });
  await registerWorker(env);
  const worker = await startWorkerProcess(env);
  return {
    address: account.address,
    privateKey,
    encryptionKey: deriveEncryptionKeyPair(privateKey).publicKeyHex,
    worker,
  };
}

/**
 * Gives `account` gas money (anvil funds only dev accounts 0-9) and mints it test tokens (the test token is freely
 * mintable), without approving anyone.
 */
export async function mint(chain: LocalChain, account: HDAccount, amount: bigint) {
  const { viemChain, client, testClient } = clients(chain);
  if ((await client.getBalance({ address: account.address })) === 0n) {
    await testClient.setBalance({ address: account.address, value: 100n * 10n ** 18n });
  }
  const wallet = createWalletClient({ account, chain: viemChain, transport: http(chain.rpcUrl) });
  const hash = await wallet.writeContract({
    address: chain.deployment.contracts.paymentToken.address,
    abi: podnetTestTokenAbi,
    functionName: "mint",
    args: [account.address, amount],
  });
  await client.waitForTransactionReceipt({ hash });
}

/** A publisher's SDK client on the local chain. */
export function publisherClient(
  chain: LocalChain,
  account: HDAccount,
  opts: { blobCacheDir: string; fetch?: typeof globalThis.fetch },
) {
  const { viemChain, client } = clients(chain);
  return createPodnetClient({
    publicClient: client,
    walletClient: createWalletClient({ account, chain: viemChain, transport: http(chain.rpcUrl) }),
    deployment: chain.deployment,
    blobCacheDir: opts.blobCacheDir,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
}

/** Waits until lease `leaseId` serves a page containing `expected` through the worker's ingress. */
export function serving(worker: WorkerProcess, leaseId: bigint, expected: string, timeoutMs = 60_000) {
  return waitFor(
    `lease ${leaseId} to serve "${expected}" on ${worker.ingressUrl}`,
    async () => {
      const { status, body } = await ingress(worker.ingressPort, `l${leaseId}.pods.localhost`);
      return status === 200 && body.includes(expected) ? body : undefined;
    },
    { timeoutMs, intervalMs: 100 },
  );
}
