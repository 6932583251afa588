import { Readable } from "node:stream";
import { type Address, type Hex, hexToBytes } from "viem";
import type { PodnetClient } from "../client.js";
import { countedChunks } from "../counted-chunks.js";
import {
  type BlobCacheErrorType,
  BlobNotFoundError,
  type BlobNotFoundErrorType,
  type ErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
  type ManifestErrorType,
  ProviderApiError,
  SpecHashMismatchError,
  type SpecHashMismatchErrorType,
} from "../errors.js";
import {
  encodeWrappedKey,
  manifestBlobs,
  manifestHash,
  parseManifest,
  providerApiPaths,
  wrapKey,
} from "../protocol/index.js";
import { type ActiveLeaseTargetErrorType, leaseTarget } from "./internal/lease.js";
import { baseUrl, type ProviderFetchErrorType, providerFetch } from "./internal/provider-api.js";
import { type SelfEncryptionKeyErrorType, selfEncryptionKey } from "./internal/wallet.js";

export type DeployPodParameters = {
  leaseId: bigint;
  /** The manifest whose hash is the lease's spec hash (validated with `parseManifest`). */
  manifest: unknown;
  /**
   * Extra URLs serving blobs (content id → URLs), e.g. an IPFS gateway. Passed to the provider as given; a blob with a
   * source here is never uploaded by this call.
   */
  sources?: Record<string, string[]>;
  /** Content keys of blobs that are not in the blob cache (encrypted elsewhere). */
  contentKeys?: Record<string, Uint8Array>;
  /** Per-source timeout of the presence checks (HEAD), default 5 s. */
  checkTimeoutMs?: number;
  /** Called as each upload streams: bytes of ciphertext sent so far of `total` (progress bars). */
  onUploadProgress?: (progress: UploadProgress) => void;
};

export type UploadProgress = { cid: string; sent: number; total: number };

/** How each blob reached (or will reach) the provider. */
export type BlobDelivery = "present" | "uploaded" | "sources";

export type DeployPodReturnType = {
  leaseId: bigint;
  specHash: Hex;
  provider: Address;
  /** Blobs uploaded by this call (0 when the provider had them or fetches them from other sources). */
  uploads: number;
  /** Content id → how the provider gets it. */
  blobs: Record<string, BlobDelivery>;
  /** The provider API URL of the pod's status (see getPodStatus). */
  statusUrl: string;
};

export type DeployPodErrorType =
  | ManifestErrorType
  | ActiveLeaseTargetErrorType
  | SpecHashMismatchErrorType
  | InvalidParameterErrorType
  | SelfEncryptionKeyErrorType
  | BlobNotFoundErrorType
  | BlobCacheErrorType
  | ProviderFetchErrorType
  | ErrorType;

/**
 * Sends a pod to the provider of a lease ("upload once, deploy anywhere"). Checks, before anything is sent, that the
 * wallet is the lease's publisher, the lease is active and `manifestHash(manifest)` is the lease's spec hash. Then for
 * each blob the manifest references (image blobs, secret files):
 * 1. the provider already stores it (`HEAD /v1/blobs/<cid>`): nothing to send;
 * 2. else a source is known (given in `sources`, or a URL in the blob cache that still answers, e.g. another
 *    provider's blob endpoint): the provider fetches it itself, verified by content id;
 * 3. else it is uploaded from the blob cache (signed `PUT /v1/leases/<id>/blobs/<cid>`, streamed).
 * Finally the manifest goes to the provider with every content key wrapped to the provider's registered X25519 key,
 * and the provider's blob URL is recorded in the cache for blobs it now stores (found there or uploaded), as a
 * source for later deployments elsewhere.
 *
 * @throws {SpecHashMismatchError} when the manifest is not the lease's spec (use updatePod to change it).
 * @throws {BlobNotFoundError} when a blob is nowhere to be had (prepare it with prepareImage / prepareSecret).
 * @throws {ProviderApiError} with the provider's status, message and issues when it refuses.
 * @example
 * const { image } = await client.prepareImage({ tarball: "web.tar" });
 * const manifest = { version: 1, containers: [{ name: "web", image, resources: { cpuMillis: 250, memoryMiB: 64 } }],
 *   expose: { http: [{ container: "web", port: 8080 }] } };
 * const { quote, signature } = await client.getQuote({ provider, manifest });
 * const { leaseId } = await client.createLease({ quote, signature, deposit: quote.pricePerSecond * 3600n });
 * const { uploads } = await client.deployPod({ leaseId, manifest });
 * const status = await client.waitForPod({ leaseId });
 */
export async function deployPod(client: PodnetClient, params: DeployPodParameters): Promise<DeployPodReturnType> {
  const manifest = parseManifest(params.manifest);
  const specHash = manifestHash(manifest);
  const { lease, provider, target } = await leaseTarget(client, "deployPod", params.leaseId, { active: true });
  if (specHash.toLowerCase() !== lease.specHash.toLowerCase()) {
    throw new SpecHashMismatchError(params.leaseId, lease.specHash, specHash);
  }
  if (/^0x0{64}$/.test(provider.encryptionKey)) {
    throw new InvalidParameterError("provider", `${provider.address} registered no encryption key`);
  }
  const cids = manifestBlobs(manifest);
  const cache = client.blobCache;
  const providerKey = hexToBytes(provider.encryptionKey);

  // Every content key first: a blob we cannot give a key for fails the call before any request.
  const keys: Record<string, string> = {};
  const needsSelfKey = cids.some((cid) => !params.contentKeys?.[cid]);
  const self = needsSelfKey ? await selfEncryptionKey(client, "deployPod") : undefined;
  for (const cid of cids) {
    const given = params.contentKeys?.[cid];
    if (!given && !cache.has(cid)) {
      throw new BlobNotFoundError(
        cid,
        "its content key is neither in the blob cache nor in contentKeys (prepareImage/prepareSecret it first)",
      );
    }
    const key = given ?? cache.contentKey(cid, self as NonNullable<typeof self>);
    keys[cid] = encodeWrappedKey(wrapKey(key, providerKey));
    if (!given) key.fill(0);
  }

  const endpoint = baseUrl(target.endpoint);
  const timeoutMs = params.checkTimeoutMs ?? 5_000;
  const sources: Record<string, string[]> = {};
  const blobs: Record<string, BlobDelivery> = {};
  let uploads = 0;
  for (const cid of cids) {
    if (await serves(client, `${endpoint}${providerApiPaths.blob(cid)}`, timeoutMs)) {
      blobs[cid] = "present";
      continue;
    }
    const given = params.sources?.[cid] ?? [];
    const known = (cache.get(cid)?.sources ?? []).filter(
      (url) => !url.startsWith(`${endpoint}/`) && !given.includes(url),
    );
    const live: string[] = [];
    for (const url of known) {
      if (given.length + live.length >= 8) break;
      if (await serves(client, url, timeoutMs)) live.push(url);
      else cache.removeSource(cid, url);
    }
    if (given.length + live.length > 0) {
      sources[cid] = [...given, ...live];
      blobs[cid] = "sources";
      continue;
    }
    if (!cache.has(cid)) throw new BlobNotFoundError(cid, "not at the provider, not in the blob cache, and no source");
    const total = cache.get(cid)?.size ?? 0;
    await providerFetch(client, "deployPod", target, {
      method: "PUT",
      path: providerApiPaths.leaseBlob(params.leaseId, cid),
      signed: true,
      unsignedBody: Readable.toWeb(
        Readable.from(countedChunks(cache.read(cid), (sent) => params.onUploadProgress?.({ cid, sent, total }))),
      ) as ReadableStream<Uint8Array>,
    });
    uploads++;
    blobs[cid] = "uploaded";
  }

  await providerFetch(client, "deployPod", target, {
    method: "PUT",
    path: providerApiPaths.manifest(params.leaseId),
    signed: true,
    json: { manifest, keys, sources },
  });
  for (const [cid, how] of Object.entries(blobs)) {
    if (how !== "sources") cache.addSource(cid, `${endpoint}${providerApiPaths.blob(cid)}`);
  }
  return {
    leaseId: params.leaseId,
    specHash,
    provider: provider.address,
    uploads,
    blobs,
    statusUrl: `${endpoint}${providerApiPaths.status(params.leaseId)}`,
  };
}

/** Whether `url` serves a blob right now (HEAD 2xx). */
async function serves(client: PodnetClient, url: string, timeoutMs: number): Promise<boolean> {
  try {
    const response = await client.fetch(url, { method: "HEAD", signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok;
  } catch (error) {
    if (error instanceof ProviderApiError) throw error;
    return false;
  }
}
