import type { Address, PublicClient, WalletClient } from "viem";
import { BlobCache, DEFAULT_BLOB_CACHE_DIR, type SelfEncryptionKey } from "./blob-cache.js";
import { type ErrorType, InvalidParameterError, type InvalidParameterErrorType } from "./errors.js";
import type { Deployment, PermitDomain } from "./protocol/index.js";

// The client alone: its configuration and `extend`, no action. Every action imports `PodnetClient` from here, so this
// module must never import an action (that is what decorators/podnet.ts and create-podnet-client.ts do).

export type PodnetClientConfig = {
  /** Reads the chain (any viem public client on the deployment's chain). */
  publicClient: PublicClient;
  /**
   * Signs transactions, provider API requests and the blob cache key. Optional: read-only actions work without it,
   * the others throw `WalletRequiredError`. Local and JSON-RPC accounts both work.
   */
  walletClient?: WalletClient;
  /** Contract addresses (deployments/<chainId>.json, parsed with `parseDeployment`). */
  deployment: Deployment;
  /** Base URL of a Podnet indexer, for `findProviders`. */
  indexerUrl?: string;
  /** Where encrypted blobs are cached (default `~/.podnet/blobs`). */
  blobCacheDir?: string;
  /** fetch for provider APIs and the indexer (default: the global fetch). */
  fetch?: typeof globalThis.fetch;
  /**
   * How long a provider has to answer a request (its status line and headers) before the call fails with a
   * ProviderApiError, in ms (default {@link DEFAULT_PROVIDER_TIMEOUT_MS}). Blob uploads are not bounded by it (their
   * duration depends on the size); a caller's `signal` may end any call sooner.
   */
  providerTimeoutMs?: number;
};

/**
 * A hung or hostile provider that accepts the connection and never answers would otherwise hold a deploy, a status
 * poll or an autoscaler's placement for minutes (the HTTP client's own header timeout is 300 s).
 */
export const DEFAULT_PROVIDER_TIMEOUT_MS = 30_000;

/** What every action receives: the configuration plus the blob cache and per-client memos. */
export type PodnetClient = {
  publicClient: PublicClient;
  walletClient?: WalletClient;
  deployment: Deployment;
  indexerUrl?: string;
  blobCache: BlobCache;
  fetch: typeof globalThis.fetch;
  /** See {@link PodnetClientConfig.providerTimeoutMs}. */
  providerTimeoutMs: number;
  /**
   * Memos shared by every copy of the client: the blob cache key per wallet account, and per token whether it takes
   * EIP-2612 permits (its domain, or null), read once.
   */
  readonly state: {
    selfKeys: Map<Address, Promise<SelfEncryptionKey>>;
    permitDomains: Map<Address, Promise<PermitDomain | null>>;
  };
};

/**
 * A {@link PodnetClient} with what earlier `extend` calls added (`extended`), like viem's `Client`. `extend(fn)`
 * returns a new client with the members of `fn(client)` merged in; it can be extended again.
 */
export type PodnetBaseClient<extended extends object = Record<never, never>> = PodnetClient &
  extended & {
    extend: <const added extends object>(
      fn: (client: PodnetBaseClient<extended>) => added,
    ) => PodnetBaseClient<extended & added>;
  };

// What an extension cannot replace: actions already bound read these, so swapping the chain, the wallet or the cache
// under them would split one client in two. A Record so that a new PodnetClient field cannot be forgotten here.
const baseFields: Record<keyof PodnetClient | "extend", true> = {
  publicClient: true,
  walletClient: true,
  deployment: true,
  indexerUrl: true,
  blobCache: true,
  fetch: true,
  providerTimeoutMs: true,
  state: true,
  extend: true,
};

function extendFrom(base: PodnetClient) {
  return (fn: (client: PodnetClient) => object): PodnetClient => {
    const added: Record<string, unknown> = { ...fn(base) };
    for (const field of Object.keys(baseFields)) delete added[field];
    const combined = { ...base, ...added };
    return Object.assign(combined, { extend: extendFrom(combined) });
  };
}

export type CreatePodnetBaseClientErrorType = InvalidParameterErrorType | ErrorType;

/**
 * The client without actions: the configuration checked, the blob cache opened, and `extend` to bind functions to
 * it, like viem's `createClient`. `createPodnetClient` is this extended with {@link podnetActions}; each action is
 * also a standalone function taking this client first.
 *
 * @example
 * import { createPodnetBaseClient, getQuote, podnetActions } from "@podnet/sdk";
 *
 * const base = createPodnetBaseClient({ publicClient, walletClient, deployment });
 * const quoted = await getQuote(base, { provider, manifest }); // a standalone action takes the client first
 * const client = base.extend(podnetActions); // or every action bound: client.getQuote({ provider, manifest })
 */
export function createPodnetBaseClient(config: PodnetClientConfig): PodnetBaseClient {
  if (!config.publicClient) throw new InvalidParameterError("publicClient", "is required");
  if (!config.deployment?.contracts) throw new InvalidParameterError("deployment", "is required (parseDeployment)");
  const chainId = config.publicClient.chain?.id;
  if (chainId !== undefined && chainId !== config.deployment.chainId) {
    throw new InvalidParameterError(
      "publicClient",
      `is on chain ${chainId}, the deployment is on chain ${config.deployment.chainId}`,
    );
  }
  const providerTimeoutMs = config.providerTimeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS;
  if (!Number.isSafeInteger(providerTimeoutMs) || providerTimeoutMs <= 0) {
    throw new InvalidParameterError(
      "providerTimeoutMs",
      `must be a positive whole number of ms, got ${providerTimeoutMs}`,
    );
  }
  const client: PodnetClient = {
    publicClient: config.publicClient,
    ...(config.walletClient ? { walletClient: config.walletClient } : {}),
    deployment: config.deployment,
    ...(config.indexerUrl ? { indexerUrl: config.indexerUrl } : {}),
    blobCache: new BlobCache(config.blobCacheDir ?? DEFAULT_BLOB_CACHE_DIR),
    fetch: config.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    providerTimeoutMs,
    state: { selfKeys: new Map(), permitDomains: new Map() },
  };
  return Object.assign(client, { extend: extendFrom(client) }) as PodnetBaseClient;
}
