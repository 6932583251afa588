/**
 * Global settings of `podnet` (flags > environment > defaults) and the lazily built connection: the chain behind
 * `--rpc-url`, the deployment file, the publisher key and the SDK client. Commands ask for what they need; `podnet
 * init` never touches the network, `podnet image add` never needs the chain.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import {
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  erc20Abi,
  type Hex,
  http,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { BlobCache } from "../blob-cache.js";
import { DEFAULT_PROVIDER_TIMEOUT_MS, type PodnetClient } from "../client.js";
import { createPodnetClient, type PodnetClientWithActions } from "../create-podnet-client.js";
import { type Deployment, knownDeploymentFile, parseDeployment } from "../protocol/index.js";
import type { OptionSpec } from "./args.js";
import { CliError } from "./errors.js";
import { KEY_ENV, type KeyIo, loadPublisherKey } from "./keys.js";
import type { Output } from "./output.js";

/** Options every command takes. */
export const globalOptions: OptionSpec = {
  json: { type: "boolean", description: "print the result as JSON on stdout (progress stays on stderr)" },
  "rpc-url": { type: "string", value: "url", description: "JSON-RPC endpoint (PODNET_RPC_URL, http://127.0.0.1:8545)" },
  deployments: {
    type: "string",
    value: "file",
    description: "contract addresses (PODNET_DEPLOYMENTS_FILE, the repo's deployments/<chainId>.json)",
  },
  "indexer-url": {
    type: "string",
    value: "url",
    description: "Podnet indexer for provider search (PODNET_INDEXER_URL, http://127.0.0.1:42069)",
  },
  keystore: {
    type: "string",
    value: "file",
    description: "encrypted key file (PODNET_KEYSTORE, ~/.podnet/keystore.json)",
  },
  "blob-cache": {
    type: "string",
    value: "dir",
    description: "encrypted images and secrets (PODNET_BLOB_CACHE, ~/.podnet/blobs)",
  },
  help: { type: "boolean", short: "h", description: "show help" },
};

/** A resolved setting and where it came from (`--rpc-url`, `PODNET_RPC_URL` or `default`), for error messages. */
export interface Setting {
  value: string;
  source: string;
}

export interface Settings {
  rpcUrl: Setting;
  /** Unset: the repository's deployments/<chainId>.json. */
  deploymentsFile?: Setting;
  indexerUrl: Setting;
  keystore: Setting;
  blobCache: Setting;
}

export function resolveSettings(
  options: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  cwd: string,
  home: string = homedir(),
): Settings {
  const pick = (flag: string, envName: string, fallback?: string): Setting | undefined => {
    const fromFlag = options[flag];
    if (typeof fromFlag === "string" && fromFlag !== "") return { value: fromFlag, source: `--${flag}` };
    const fromEnv = env[envName];
    if (fromEnv !== undefined && fromEnv !== "") return { value: fromEnv, source: envName };
    return fallback === undefined ? undefined : { value: fallback, source: "default" };
  };
  const path = (setting: Setting): Setting => {
    const expanded =
      setting.value === "~" || setting.value.startsWith("~/") ? join(home, setting.value.slice(1)) : setting.value;
    return { value: isAbsolute(expanded) ? expanded : resolve(cwd, expanded), source: setting.source };
  };
  const url = (setting: Setting): Setting => {
    let parsed: URL;
    try {
      parsed = new URL(setting.value);
    } catch {
      throw new CliError(`${setting.source}: "${setting.value}" is not a URL`, 2);
    }
    if (!/^https?:$/.test(parsed.protocol)) throw new CliError(`${setting.source}: must be an http(s) URL`, 2);
    return setting;
  };
  const deployments = pick("deployments", "PODNET_DEPLOYMENTS_FILE");
  return {
    rpcUrl: url(pick("rpc-url", "PODNET_RPC_URL", "http://127.0.0.1:8545") as Setting),
    ...(deployments ? { deploymentsFile: path(deployments) } : {}),
    indexerUrl: url(pick("indexer-url", "PODNET_INDEXER_URL", "http://127.0.0.1:42069") as Setting),
    keystore: path(pick("keystore", "PODNET_KEYSTORE", join(home, ".podnet", "keystore.json")) as Setting),
    blobCache: path(pick("blob-cache", "PODNET_BLOB_CACHE", join(home, ".podnet", "blobs")) as Setting),
  };
}

export interface Connection {
  chainId: number;
  chain: Chain;
  deployment: Deployment;
  deploymentsFile: string;
  publicClient: PublicClient;
}

export interface TokenInfo {
  address: Address;
  symbol: string;
  decimals: number;
}

/** Everything a command runs with. */
export class Context {
  private connection?: Promise<Connection>;
  private key?: Promise<Hex | undefined>;
  private tokenInfo?: Promise<TokenInfo>;
  /** Set while the command handles Ctrl-C itself (through `signal`); otherwise Ctrl-C exits at once. */
  graceful = false;

  constructor(
    readonly settings: Settings,
    readonly out: Output,
    readonly io: KeyIo & { stdout: NodeJS.WritableStream },
    readonly cwd: string,
    /** Aborted on Ctrl-C. */
    readonly signal: AbortSignal,
    /** Values never to print (the key, once loaded); the error printer redacts them. */
    readonly secrets: string[] = [],
  ) {}

  /** Probes the RPC for its chain id, then loads and checks the deployment file. */
  connect(): Promise<Connection> {
    this.connection ??= this.doConnect();
    return this.connection;
  }

  private async doConnect(): Promise<Connection> {
    const { rpcUrl } = this.settings;
    const probe = createPublicClient({ transport: http(rpcUrl.value, { retryCount: 0, timeout: 10_000 }) });
    let chainId: number;
    try {
      chainId = await probe.getChainId();
    } catch (error) {
      const reason = (error as { shortMessage?: string }).shortMessage ?? (error as Error).message;
      throw new CliError(`${rpcUrl.source}: no chain answers at ${rpcUrl.value} (${reason.split("\n")[0]})`);
    }
    const given = this.settings.deploymentsFile;
    const file = given?.value ?? knownDeploymentFile(chainId);
    const source = given?.source ?? "--deployments / PODNET_DEPLOYMENTS_FILE";
    if (!existsSync(file)) {
      throw new CliError(
        given
          ? `${source}: ${file} does not exist`
          : `--deployments: no deployment file for chain ${chainId} (${file} does not exist); set --deployments or PODNET_DEPLOYMENTS_FILE`,
      );
    }
    let deployment: Deployment;
    try {
      deployment = parseDeployment(JSON.parse(readFileSync(file, "utf8")));
    } catch (error) {
      const reason = error instanceof SyntaxError ? "not valid JSON" : (error as Error).message;
      throw new CliError(`${source}: ${file}: ${reason}`);
    }
    if (deployment.chainId !== chainId) {
      throw new CliError(
        `${source}: ${file} is for chain ${deployment.chainId}, but ${rpcUrl.value} serves chain ${chainId}`,
      );
    }
    const chain = defineChain({
      id: chainId,
      name: `chain-${chainId}`,
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [rpcUrl.value] } },
    });
    const publicClient = createPublicClient({ chain, transport: http(rpcUrl.value), pollingInterval: 500 });
    return { chainId, chain, deployment, deploymentsFile: file, publicClient: publicClient as PublicClient };
  }

  /** The publisher key (see keys.ts); registered for redaction as soon as it is read. */
  publisherKey(required: boolean): Promise<Hex | undefined> {
    // Optional: only when one is configured; a missing keystore is not an error then.
    if (!required && !this.io.env[KEY_ENV] && !existsSync(this.settings.keystore.value)) {
      return Promise.resolve(undefined);
    }
    this.key ??= loadPublisherKey(this.io, this.settings.keystore, { required: true }).then((key) => {
      if (key) this.secrets.push(key);
      return key;
    });
    return this.key;
  }

  /**
   * The SDK client. `wallet`: "required" loads the key (or fails), "optional" uses one when configured, "none"
   * never asks for a password.
   */
  async client(wallet: "required" | "optional" | "none"): Promise<PodnetClientWithActions> {
    const connection = await this.connect();
    const key = wallet === "none" ? undefined : await this.publisherKey(wallet === "required");
    return createPodnetClient({
      publicClient: connection.publicClient,
      ...(key
        ? {
            walletClient: createWalletClient({
              account: privateKeyToAccount(key),
              chain: connection.chain,
              transport: http(this.settings.rpcUrl.value),
            }),
          }
        : {}),
      deployment: connection.deployment,
      indexerUrl: this.settings.indexerUrl.value,
      blobCacheDir: this.settings.blobCache.value,
    });
  }

  /**
   * A client for encrypting into the blob cache only (prepareImage, prepareSecret): they use the wallet (to derive
   * the cache key, a local signature) and the cache, never the chain, so no RPC or deployment file is needed.
   */
  async blobClient(): Promise<PodnetClient> {
    const key = (await this.publisherKey(true)) as Hex;
    return {
      publicClient: undefined as unknown as PublicClient,
      walletClient: createWalletClient({
        account: privateKeyToAccount(key),
        transport: http(this.settings.rpcUrl.value),
      }),
      deployment: undefined as unknown as Deployment,
      blobCache: new BlobCache(this.settings.blobCache.value),
      fetch: (input, init) => globalThis.fetch(input, init),
      providerTimeoutMs: DEFAULT_PROVIDER_TIMEOUT_MS,
      state: { selfKeys: new Map(), permitDomains: new Map() },
    };
  }

  /** The payment token's address, symbol and decimals. */
  token(): Promise<TokenInfo> {
    this.tokenInfo ??= (async () => {
      const { publicClient, deployment } = await this.connect();
      const address = deployment.contracts.paymentToken.address;
      const [symbol, decimals] = await Promise.all([
        publicClient.readContract({ address, abi: erc20Abi, functionName: "symbol" }).catch(() => "tokens"),
        publicClient.readContract({ address, abi: erc20Abi, functionName: "decimals" }),
      ]);
      return { address, symbol, decimals };
    })();
    return this.tokenInfo;
  }

  /** A path given on the command line, resolved against the working directory. */
  path(file: string): string {
    return isAbsolute(file) ? file : resolve(this.cwd, file);
  }
}
