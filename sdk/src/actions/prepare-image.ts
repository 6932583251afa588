import { createReadStream } from "node:fs";
import type { PodnetClient } from "../client.js";
import {
  type BlobCacheErrorType,
  type ErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
} from "../errors.js";
import { encryptStream, generateContentKey } from "../protocol/index.js";
import { type SelfEncryptionKeyErrorType, selfEncryptionKey } from "./internal/wallet.js";

export type PrepareImageParameters = {
  /** A `docker save` tarball: a file path, its bytes, or a stream of its bytes. */
  tarball: string | Uint8Array | AsyncIterable<Uint8Array>;
  /** Plaintext bytes per encrypted chunk (default 64 KiB). */
  chunkSize?: number;
};

export type PrepareImageReturnType = {
  /** Content id of the ciphertext. */
  cid: string;
  /** What a manifest container's `image` field takes. */
  image: `blob:${string}`;
  /** Ciphertext bytes. */
  size: number;
};

export type PrepareImageErrorType = EncryptToCacheErrorType;

/**
 * Encrypts a container image (`docker save` tarball) once, as a content-addressed blob in the blob cache: a fresh
 * random content key, XChaCha20-Poly1305 in chunks (streamed: memory stays flat whatever the image size), the
 * ciphertext hashed while it is written. The content key is kept only wrapped to the publisher's own cache key;
 * `deployPod` wraps it to each provider. Needs the wallet (to derive the cache key, one signature per client).
 *
 * @example
 * const { image } = await client.prepareImage({ tarball: "web.tar" }); // docker save web:1 -o web.tar
 * const manifest = { version: 1, containers: [{ name: "web", image, resources: { cpuMillis: 250, memoryMiB: 64 } }] };
 */
export async function prepareImage(
  client: PodnetClient,
  params: PrepareImageParameters,
): Promise<PrepareImageReturnType> {
  const { cid, size } = await encryptToCache(client, "prepareImage", "image", params.tarball, params.chunkSize);
  return { cid, image: `blob:${cid}`, size };
}

/** The wallet signs for the cache key; an unreadable source or a full disk fails with a file-system error. */
export type EncryptToCacheErrorType =
  | SelfEncryptionKeyErrorType
  | InvalidParameterErrorType
  | BlobCacheErrorType
  | ErrorType;

/** Encrypts `source` under a fresh key into the cache; shared by prepareImage and prepareSecret. */
export async function encryptToCache(
  client: PodnetClient,
  action: string,
  kind: "image" | "secret",
  source: string | Uint8Array | AsyncIterable<Uint8Array>,
  chunkSize?: number,
): Promise<{ cid: string; size: number }> {
  const self = await selfEncryptionKey(client, action);
  let input: AsyncIterable<Uint8Array>;
  if (typeof source === "string") input = createReadStream(source);
  else if (source instanceof Uint8Array) input = single(source);
  else if (source && typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === "function") input = source;
  else
    throw new InvalidParameterError(
      kind === "image" ? "tarball" : "value",
      "must be a path, bytes or an async iterable of bytes",
    );
  const key = generateContentKey();
  try {
    const { cid, size } = await client.blobCache.write(encryptStream(input, key, chunkSize ? { chunkSize } : {}));
    client.blobCache.put({
      cid,
      size,
      kind,
      ...client.blobCache.seal(key, self),
      sources: [],
      createdAt: Math.floor(Date.now() / 1000),
    });
    return { cid, size };
  } finally {
    key.fill(0);
  }
}

async function* single(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
