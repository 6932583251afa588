import type { PodnetClient } from "../client.js";
import { InvalidParameterError, type InvalidParameterErrorType } from "../errors.js";
import { MAX_SECRET_FILE_BYTES } from "../protocol/index.js";
import { type EncryptToCacheErrorType, encryptToCache } from "./prepare-image.js";

export type PrepareSecretParameters = {
  /** The secret file's content (a string is UTF-8 encoded). At most 1 MiB. */
  value: string | Uint8Array;
};

export type PrepareSecretReturnType = {
  /** Content id of the ciphertext. */
  cid: string;
  /** What a secret volume's `files[].blob` takes (the content id). */
  blob: string;
  /** Ciphertext bytes. */
  size: number;
};

export type PrepareSecretErrorType = InvalidParameterErrorType | EncryptToCacheErrorType;

/**
 * Encrypts a secret (a password, a TLS key, a config file) as a blob in the blob cache, like `prepareImage`. Use it in
 * a `secret` volume; the provider decrypts it into memory only and mounts it read-only.
 *
 * @example
 * const { blob } = await client.prepareSecret({ value: process.env.DB_PASSWORD! });
 * const volumes = [{ type: "secret", name: "creds", files: [{ path: "db-password", blob }] }];
 */
export async function prepareSecret(
  client: PodnetClient,
  params: PrepareSecretParameters,
): Promise<PrepareSecretReturnType> {
  const bytes = typeof params.value === "string" ? new TextEncoder().encode(params.value) : params.value;
  if (!(bytes instanceof Uint8Array)) throw new InvalidParameterError("value", "must be a string or bytes");
  if (bytes.length > MAX_SECRET_FILE_BYTES) {
    throw new InvalidParameterError("value", `is ${bytes.length} bytes; secrets hold at most ${MAX_SECRET_FILE_BYTES}`);
  }
  const { cid, size } = await encryptToCache(client, "prepareSecret", "secret", bytes);
  return { cid, blob: cid, size };
}
