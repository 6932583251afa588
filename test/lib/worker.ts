/**
 * Harness of the worker's end-to-end tests and benchmarks: a fresh anvil with the real contracts, provider workers
 * as child processes (`podnet-worker run`, so kill -9 is real), and a publisher that talks to them the way the SDK
 * will: signed quotes, createLease, blob upload and manifest upload signed with the protocol layer.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  type Deployment,
  encodeWrappedKey,
  manifestBlobs,
  manifestHash,
  manifestResources,
  type PodManifestInput,
  parseDeployment,
  parseManifest,
  podnetMarketAbi,
  podnetTestTokenAbi,
  providerApiPaths,
  type QuoteResponse,
  quoteFromResponse,
  signRequest,
  wrapKey,
} from "@podnet/sdk/protocol";
import {
  type Address,
  createPublicClient,
  createTestClient,
  createWalletClient,
  type Hex,
  hexToBytes,
  http,
  parseEventLogs,
} from "viem";
import { type HDAccount, mnemonicToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { bin, repoRoot, startAnvil } from "../../script/lib/chain.js";
import { freePort, waitFor } from "./net.js";

const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";
export const TOKEN = 10n ** 18n;

export interface LocalChain {
  rpcUrl: string;
  deployment: Deployment;
  deploymentsFile: string;
  stop(): void;
}

/** anvil on a free port + `npm run deploy:local` into `dir`; `anvilArgs` e.g. a larger block gas limit. */
export async function startLocalChain(
  dir: string,
  { anvilArgs = [] }: { anvilArgs?: string[] } = {},
): Promise<LocalChain> {
  mkdirSync(dir, { recursive: true });
  const anvil = await startAnvil({ port: await freePort(), logFile: join(dir, "anvil.log"), args: anvilArgs });
  execFileSync(bin("tsx"), ["script/dev/deploy-local.ts"], {
    cwd: repoRoot,
    env: { ...process.env, RPC_URL: anvil.rpcUrl, DEPLOYMENTS_DIR: dir, TIMELOCK_DELAY: "60" },
    stdio: "pipe",
  });
  const deploymentsFile = join(dir, "31337.json");
  return {
    rpcUrl: anvil.rpcUrl,
    deployment: parseDeployment(JSON.parse(readFileSync(deploymentsFile, "utf8"))),
    deploymentsFile,
    stop: () => anvil.process.kill(),
  };
}

export function clients(chain: LocalChain) {
  const viemChain = { ...foundry, rpcUrls: { default: { http: [chain.rpcUrl] } } };
  const transport = http(chain.rpcUrl);
  return {
    viemChain,
    client: createPublicClient({ chain: viemChain, transport, pollingInterval: 50 }),
    testClient: createTestClient({ chain: viemChain, transport, mode: "anvil" }),
  };
}

/** Anvil's dev account `index` (local chain only) with a private key for the worker's config. */
export function devAccount(index: number): { account: HDAccount; privateKey: Hex } {
  const account = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
  const privateKey = `0x${Buffer.from(account.getHdKey().privateKey as Uint8Array).toString("hex")}` as Hex;
  return { account, privateKey };
}

/** Mints test tokens to an account and lets the market take them. */
export async function fund(chain: LocalChain, account: HDAccount, amount: bigint) {
  const { viemChain, client } = clients(chain);
  const wallet = createWalletClient({ account, chain: viemChain, transport: http(chain.rpcUrl) });
  const token = chain.deployment.contracts.paymentToken.address;
  for (const [functionName, args] of [
    ["mint", [account.address, amount]],
    ["approve", [chain.deployment.contracts.podnetMarket.address, amount]],
  ] as const) {
    const hash = await wallet.writeContract({ address: token, abi: podnetTestTokenAbi, functionName, args } as never);
    await client.waitForTransactionReceipt({ hash });
  }
}

export async function tokenBalance(chain: LocalChain, who: Address): Promise<bigint> {
  return clients(chain).client.readContract({
    address: chain.deployment.contracts.paymentToken.address,
    abi: podnetTestTokenAbi,
    functionName: "balanceOf",
    args: [who],
  });
}

export interface WorkerProcess {
  apiUrl: string;
  ingressUrl: string;
  ingressPort: number;
  dataDir: string;
  logFile: string;
  process: ChildProcess;
  env: Record<string, string>;
  /** Resolves when the process exited. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const workerBin = join(repoRoot, "worker", "bin", "podnet-worker.mjs");

export function workerEnv(
  chain: LocalChain,
  opts: { providerKey: Hex; dataDir: string; apiPort: number; ingressPort: number; extra?: Record<string, string> },
): Record<string, string> {
  return {
    PODNET_PROVIDER_KEY: opts.providerKey,
    PODNET_RPC_URL: chain.rpcUrl,
    PODNET_DEPLOYMENTS_FILE: chain.deploymentsFile,
    PODNET_DATA_DIR: opts.dataDir,
    PODNET_API_HOST: "127.0.0.1",
    PODNET_API_PORT: String(opts.apiPort),
    PODNET_PUBLIC_URL: `http://127.0.0.1:${opts.apiPort}`,
    PODNET_INGRESS_HOST: "127.0.0.1",
    PODNET_INGRESS_PORT: String(opts.ingressPort),
    PODNET_TCP_BIND_IP: "127.0.0.1",
    PODNET_POLL_INTERVAL_MS: "100",
    PODNET_RECONCILE_INTERVAL_MS: "1000",
    PODNET_LOG_LEVEL: "debug",
    PODNET_STAKE: String(1000n * TOKEN),
    ...opts.extra,
  };
}

/**
 * `podnet-worker register` with the same environment a worker would run with. Asynchronous: a test may serve the
 * worker's RPC through an in-process proxy, which a blocking call would starve.
 */
export async function registerWorker(env: Record<string, string>): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [workerBin, "register"], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  return stdout;
}

/** Starts `podnet-worker run` and waits until its API answers /health. */
export async function startWorkerProcess(env: Record<string, string>, logName = "worker.log"): Promise<WorkerProcess> {
  const dataDir = env.PODNET_DATA_DIR as string;
  mkdirSync(dataDir, { recursive: true });
  const logFile = join(dataDir, logName);
  const out = openSync(logFile, "a");
  const child = spawn(process.execPath, [workerBin, "run"], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", out, out],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const apiUrl = `http://127.0.0.1:${env.PODNET_API_PORT}`;
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  await waitForOrKill(child, () =>
    waitFor(
      "the worker's /health",
      async () => {
        if (exitCode !== undefined)
          throw new Error(`worker exited with ${exitCode}: ${readFileSync(logFile, "utf8").slice(-2000)}`);
        const response = await fetch(`${apiUrl}/health`).catch(() => undefined);
        return response?.ok ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    ),
  );
  return {
    apiUrl,
    ingressUrl: `http://127.0.0.1:${env.PODNET_INGRESS_PORT}`,
    ingressPort: Number(env.PODNET_INGRESS_PORT),
    dataDir,
    logFile,
    process: child,
    env,
    exited,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

/** Runs `wait`; if it fails, the child is killed so no hung worker outlives the test. */
async function waitForOrKill<T>(child: ChildProcess, wait: () => Promise<T>): Promise<T> {
  try {
    return await wait();
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
}

/** A publisher talking to provider APIs with signed requests. */
export class Publisher {
  readonly address: Address;
  constructor(
    readonly chain: LocalChain,
    readonly account: HDAccount,
  ) {
    this.address = account.address;
  }

  private wallet() {
    const { viemChain } = clients(this.chain);
    return createWalletClient({ account: this.account, chain: viemChain, transport: http(this.chain.rpcUrl) });
  }

  /** fetch with the request signed for `provider` (body covered unless `unsignedBody`). */
  async signedFetch(
    apiUrl: string,
    provider: Address,
    path: string,
    init: {
      method?: string;
      body?: string | Uint8Array;
      unsignedBody?: boolean;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Response> {
    const method = init.method ?? "GET";
    const headers = await signRequest(this.account, 31337, {
      provider,
      method,
      path,
      body: init.unsignedBody ? undefined : init.body,
    });
    return fetch(`${apiUrl}${path}`, {
      method,
      headers: {
        ...headers,
        ...init.headers,
        ...(init.body && !init.unsignedBody ? { "content-type": "application/json" } : {}),
      },
      body: init.body as string | Uint8Array<ArrayBuffer> | undefined,
    });
  }

  async quote(apiUrl: string, manifest: PodManifestInput): Promise<QuoteResponse> {
    const parsed = parseManifest(manifest);
    const response = await fetch(`${apiUrl}${providerApiPaths.quote}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        specHash: manifestHash(parsed),
        resources: manifestResources(parsed),
        publisher: this.address,
      }),
    });
    if (!response.ok) throw new Error(`quote: ${response.status} ${await response.text()}`);
    return (await response.json()) as QuoteResponse;
  }

  /** Quote + createLease with a deposit covering `seconds` of the quoted price; returns the lease id and price. */
  async lease(apiUrl: string, manifest: PodManifestInput, seconds: bigint) {
    const response = await this.quote(apiUrl, manifest);
    const quote = quoteFromResponse(response);
    const deposit = quote.pricePerSecond * seconds;
    const { client } = clients(this.chain);
    const hash = await this.wallet().writeContract({
      address: this.chain.deployment.contracts.podnetMarket.address,
      abi: podnetMarketAbi,
      functionName: "createLease",
      args: [quote, response.signature, deposit],
    });
    const receipt = await client.waitForTransactionReceipt({ hash });
    const [created] = parseEventLogs({ abi: podnetMarketAbi, eventName: "LeaseCreated", logs: receipt.logs });
    if (!created) throw new Error("createLease emitted no LeaseCreated");
    return { leaseId: created.args.leaseId, pricePerSecond: quote.pricePerSecond, deposit, receipt, quote };
  }

  async write(functionName: "closeLease" | "updateLeaseSpec" | "topUp", args: readonly unknown[]) {
    const { client } = clients(this.chain);
    const hash = await this.wallet().writeContract({
      address: this.chain.deployment.contracts.podnetMarket.address,
      abi: podnetMarketAbi,
      functionName,
      args,
    } as never);
    return client.waitForTransactionReceipt({ hash });
  }

  async uploadBlob(apiUrl: string, provider: Address, leaseId: bigint, cid: string, bytes: Uint8Array) {
    return this.signedFetch(apiUrl, provider, providerApiPaths.leaseBlob(leaseId, cid), {
      method: "PUT",
      body: bytes,
      unsignedBody: true,
      headers: { "content-type": "application/octet-stream" },
    });
  }

  /** Sends the manifest with every blob key wrapped to the provider's registered encryption key. */
  async sendManifest(
    apiUrl: string,
    provider: Address,
    /** The provider's registered X25519 key (ProviderRegistry encryptionKey). */
    encryptionKey: Hex,
    leaseId: bigint,
    manifest: PodManifestInput,
    contentKeys: Record<string, Uint8Array>,
    sources: Record<string, string[]> = {},
  ) {
    const keys: Record<string, string> = {};
    for (const cid of manifestBlobs(parseManifest(manifest))) {
      const key = contentKeys[cid];
      if (key) keys[cid] = encodeWrappedKey(wrapKey(key, hexToBytes(encryptionKey)));
    }
    const body = JSON.stringify({ manifest, keys, sources });
    return this.signedFetch(apiUrl, provider, providerApiPaths.manifest(leaseId), { method: "PUT", body });
  }
}

export { freePort, waitFor };

/** A response body as loosely typed JSON: tests assert its shape field by field. */
// biome-ignore lint/suspicious/noExplicitAny: API bodies are checked by the assertions that read them.
export async function body(response: Response): Promise<any> {
  return response.json();
}

/** Removes every container, network and volume a test provider left behind (the acceptance asks for none). */
export async function removeProviderLeftovers(docker: import("dockerode"), provider: Address) {
  const label = [`podnet.provider=${provider.toLowerCase()}`];
  const containers = await docker.listContainers({ all: true, filters: { label } });
  await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  const networks = await docker.listNetworks({ filters: { label } });
  await Promise.all(
    networks.map((n) =>
      docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined),
    ),
  );
  const volumes = (await docker.listVolumes({ filters: { label } })).Volumes ?? [];
  await Promise.all(
    volumes.map((v) =>
      docker
        .getVolume(v.Name)
        .remove()
        .catch(() => undefined),
    ),
  );
}
