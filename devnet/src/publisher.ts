/**
 * Publishers on a local chain: {@link Publisher} talks to provider APIs by hand with the protocol layer (what the
 * worker's tests and benchmarks need to control every request), {@link publisherClient} is the SDK as users get it.
 */
import { createPodnetClient, type PodnetClientWithActions } from "@podnet/sdk";
import {
  encodeWrappedKey,
  manifestBlobs,
  manifestHash,
  manifestResources,
  type PodManifestInput,
  parseManifest,
  podnetMarketAbi,
  providerApiPaths,
  type QuoteResponse,
  quoteFromResponse,
  signRequest,
  wrapKey,
} from "@podnet/sdk/protocol";
import { type Address, createPublicClient, type Hex, hexToBytes, http, parseEventLogs } from "viem";
import type { HDAccount } from "viem/accounts";
import { devAccount } from "./accounts.js";
import { clients, type LocalChain, walletClient } from "./chain.js";
import { fund, TOKEN } from "./funds.js";

/** A publisher talking to provider APIs with signed requests. */
export class Publisher {
  readonly address: Address;
  constructor(
    readonly chain: LocalChain,
    readonly account: HDAccount,
  ) {
    this.address = account.address;
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
    const receipt = await this.write("createLease", [quote, response.signature, deposit]);
    const [created] = parseEventLogs({ abi: podnetMarketAbi, eventName: "LeaseCreated", logs: receipt.logs });
    if (!created) throw new Error("createLease emitted no LeaseCreated");
    return { leaseId: created.args.leaseId, pricePerSecond: quote.pricePerSecond, deposit, receipt, quote };
  }

  /** Sends a PodnetMarket transaction from this publisher; resolves with its receipt. */
  async write(
    functionName:
      | "createLease"
      | "createOrder"
      | "acceptBid"
      | "cancelOrder"
      | "closeLease"
      | "updateLeaseSpec"
      | "topUp",
    args: readonly unknown[],
  ) {
    const hash = await walletClient(this.chain, this.account).writeContract({
      address: this.chain.deployment.contracts.podnetMarket.address,
      abi: podnetMarketAbi,
      functionName,
      args,
    } as never);
    return clients(this.chain).client.waitForTransactionReceipt({ hash });
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

/** A {@link Publisher} for anvil dev account `index`, with gas when needed and `tokens` the market may take. */
export async function fundedPublisher(chain: LocalChain, index: number, tokens = 1_000_000n * TOKEN) {
  const publisher = new Publisher(chain, devAccount(index).account);
  await fund(chain, publisher.account, tokens);
  return publisher;
}

/** Options of {@link publisherClient}. */
export type PublisherClientOptions = {
  /** Where the SDK keeps the blobs it sealed. */
  blobCacheDir: string;
  /** The indexer the SDK finds providers and orders with. */
  indexerUrl?: string;
  /** How often the SDK polls for receipts (viem's pollingInterval); default 50 ms. */
  pollingIntervalMs?: number;
  fetch?: typeof globalThis.fetch;
};

/** A publisher's SDK client on the local chain. */
export function publisherClient(
  chain: LocalChain,
  account: HDAccount,
  opts: PublisherClientOptions,
): PodnetClientWithActions {
  const { viemChain, client } = clients(chain);
  return createPodnetClient({
    publicClient:
      opts.pollingIntervalMs === undefined
        ? client
        : createPublicClient({
            chain: viemChain,
            transport: http(chain.rpcUrl),
            pollingInterval: opts.pollingIntervalMs,
          }),
    walletClient: walletClient(chain, account),
    deployment: chain.deployment,
    blobCacheDir: opts.blobCacheDir,
    ...(opts.indexerUrl ? { indexerUrl: opts.indexerUrl } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
}

/** A response body as loosely typed JSON: tests assert its shape field by field. */
// biome-ignore lint/suspicious/noExplicitAny: API bodies are checked by the assertions that read them.
export async function body(response: Response): Promise<any> {
  return response.json();
}
