import {
  type Address,
  getAddress,
  type Hex,
  isAddress,
  isHex,
  keccak256,
  type LocalAccount,
  recoverTypedDataAddress,
  stringToBytes,
} from "viem";
import { parseAppYaml } from "./app-yaml.js";
import { InvalidParameterError } from "./errors.js";
import { parsePodSpec } from "./pod-spec.js";
import {
  appConfigHash,
  canonicalJson,
  decodeWrappedKey,
  isContentId,
  manifestBlobs,
  manifestHash,
} from "./protocol/index.js";
import type { SealedBlobKey } from "./share-blob-keys.js";

/**
 * An app handed to one autoscaler node of the network ("bundle"): pod.yaml and app.yaml as the owner wrote them, the
 * content keys of every blob pod.yaml names wrapped to that node's registered X25519 key, and the owner's EIP-712
 * signature over what the node needs to trust them. Both sides use this file: the owner's `handAppToNetwork` signs,
 * the node's `PUT /v1/apps/:vault/bundle` verifies.
 *
 * The signature covers `{ vault, node, specHash, configHash, blobIndexHash, issuedAt }` in the domain
 * `{ name: "Podnet App Handover", version: "1", chainId }`: chain-bound and not bound to a contract, the approach of
 * signed provider-API requests (request-signing.ts), under its own domain name so a handover signature can never pass
 * as a provider-API request (nor the reverse; an AppVault's ERC-1271 check rebuilds digests in the request domain
 * only). `node` makes a bundle good for one node only: the keys inside are wrapped to that node, and a node cannot
 * turn its bundle into another node's. `specHash` and `configHash` are the vault's own rules (`manifestHash` of
 * pod.yaml's manifest, `appConfigHash` of app.yaml's config), so the node compares them with the chain.
 */

/** How far in the future a bundle's `issuedAt` may be from the node's clock, in seconds. */
export const HANDOVER_MAX_FUTURE_SECONDS = 300;

/** EIP-712 domain of an app handover. */
export const handoverDomain = (chainId: number) => ({ name: "Podnet App Handover", version: "1", chainId }) as const;

/** EIP-712 types of an app handover. */
export const handoverTypes = {
  Handover: [
    { name: "vault", type: "address" },
    { name: "node", type: "address" },
    { name: "specHash", type: "bytes32" },
    { name: "configHash", type: "bytes32" },
    { name: "blobIndexHash", type: "bytes32" },
    { name: "issuedAt", type: "uint64" },
  ],
} as const;

/** One blob of a bundle: its content key wrapped to the node (the shape `sealBlobKeys` makes). */
export type HandoverBlobKey = SealedBlobKey;

/** The body of `PUT /v1/apps/:vault/bundle`. */
export interface HandoverBundle {
  podYaml: string;
  appYaml: string;
  blobs: HandoverBlobKey[];
  /** Unix seconds; a node keeps the newest per vault and refuses older ones. */
  issuedAt: number;
  /** The node it was signed for (informative: the node verifies against its own address). */
  node: Address;
  signature: Hex;
}

/** What a bundle's signature covers, as the node recomputes it. */
export interface HandoverFields {
  vault: Address;
  node: Address;
  specHash: Hex;
  configHash: Hex;
  blobIndexHash: Hex;
  issuedAt: number;
}

/** `<dataDir>/apps/<vault>/bundle.json`: what a node accepted (no keys: those are in `blobs/index.json`). */
export interface HandoverRecord {
  vault: Address;
  chainId: number;
  node: Address;
  owner: Address;
  specHash: Hex;
  configHash: Hex;
  blobIndexHash: Hex;
  issuedAt: number;
  signature: Hex;
}

/** The largest pod.yaml or app.yaml a bundle carries (both parsers refuse more anyway). */
const MAX_YAML_CHARS = 1024 * 1024;
const MAX_BLOBS = 256;

/**
 * The hash of a bundle's blob index: keccak256 of the canonical JSON of its entries sorted by content id, so the
 * order they were sent in does not matter and every wrapped key is covered by the owner's signature.
 */
export function handoverBlobIndexHash(blobs: readonly HandoverBlobKey[]): Hex {
  const sorted = [...blobs]
    .map(({ cid, kind, size, key }) => ({ cid, kind, size, key }))
    .sort((a, b) => (a.cid < b.cid ? -1 : a.cid > b.cid ? 1 : 0));
  return keccak256(stringToBytes(canonicalJson(sorted)));
}

/** The typed data a handover signature signs (one builder for signing and verifying). */
export function handoverTypedData(chainId: number, fields: HandoverFields) {
  return {
    domain: handoverDomain(chainId),
    types: handoverTypes,
    primaryType: "Handover",
    message: {
      vault: fields.vault,
      node: fields.node,
      specHash: fields.specHash,
      configHash: fields.configHash,
      blobIndexHash: fields.blobIndexHash,
      issuedAt: BigInt(fields.issuedAt),
    },
  } as const;
}

/** The hashes a bundle's files and index stand for, computed with the vault's own rules; errors name the field. */
export function handoverHashes(bundle: Pick<HandoverBundle, "podYaml" | "appYaml" | "blobs">): {
  specHash: Hex;
  configHash: Hex;
  blobIndexHash: Hex;
  podBlobs: string[];
} {
  let manifest: ReturnType<typeof parsePodSpec>;
  try {
    manifest = parsePodSpec(bundle.podYaml, "podYaml");
  } catch (error) {
    throw new InvalidParameterError("podYaml", (error as Error).message.replace(/^podYaml:?\s*/, ""));
  }
  let config: ReturnType<typeof parseAppYaml>;
  try {
    config = parseAppYaml(bundle.appYaml, "appYaml");
  } catch (error) {
    throw new InvalidParameterError("appYaml", (error as Error).message.replace(/^appYaml:?\s*/, ""));
  }
  return {
    specHash: manifestHash(manifest),
    configHash: appConfigHash(config),
    blobIndexHash: handoverBlobIndexHash(bundle.blobs),
    podBlobs: manifestBlobs(manifest),
  };
}

/**
 * Signs a bundle for one node as the app's owner.
 *
 * @example
 * const bundle = await signHandoverBundle(owner, 31337, { vault, node, podYaml, appYaml, blobs });
 * await fetch(`${endpoint}/v1/apps/${vault}/bundle`, { method: "PUT", body: JSON.stringify(bundle) });
 */
export async function signHandoverBundle(
  account: Pick<LocalAccount, "signTypedData">,
  chainId: number,
  params: { vault: Address; node: Address; podYaml: string; appYaml: string; blobs: HandoverBlobKey[] },
  issuedAt: number = Math.floor(Date.now() / 1000),
): Promise<HandoverBundle> {
  const hashes = handoverHashes(params);
  const signature = await account.signTypedData(
    handoverTypedData(chainId, { vault: params.vault, node: params.node, ...hashes, issuedAt }),
  );
  return {
    podYaml: params.podYaml,
    appYaml: params.appYaml,
    blobs: params.blobs,
    issuedAt,
    node: getAddress(params.node),
    signature,
  };
}

/** Recovers who signed a bundle for `node`, with the hashes it stands for. */
export async function recoverHandoverSigner(
  chainId: number,
  vault: Address,
  node: Address,
  bundle: HandoverBundle,
): Promise<{ signer: Address; specHash: Hex; configHash: Hex; blobIndexHash: Hex; podBlobs: string[] }> {
  const hashes = handoverHashes(bundle);
  let signer: Address;
  try {
    signer = await recoverTypedDataAddress({
      ...handoverTypedData(chainId, { vault, node, ...hashes, issuedAt: bundle.issuedAt }),
      signature: bundle.signature,
    });
  } catch {
    throw new InvalidParameterError("signature", "malformed signature");
  }
  return { signer, ...hashes };
}

/**
 * Whether `issuedAt` may replace what the node holds: not more than {@link HANDOVER_MAX_FUTURE_SECONDS} ahead of its
 * clock, and not older than the newest bundle it accepted for the vault (equal only for the very same signature: a
 * resend).
 *
 * @throws {InvalidParameterError} naming `issuedAt`.
 */
export function checkHandoverIssuedAt(
  bundle: Pick<HandoverBundle, "issuedAt" | "signature">,
  now: number,
  newest?: Pick<HandoverRecord, "issuedAt" | "signature">,
): void {
  if (bundle.issuedAt > now + HANDOVER_MAX_FUTURE_SECONDS) {
    throw new InvalidParameterError(
      "issuedAt",
      `${bundle.issuedAt} is more than ${HANDOVER_MAX_FUTURE_SECONDS}s ahead of the node's clock (${now})`,
    );
  }
  if (!newest) return;
  if (bundle.issuedAt < newest.issuedAt) {
    throw new InvalidParameterError(
      "issuedAt",
      `${bundle.issuedAt} is older than the bundle this node holds (issued ${newest.issuedAt}): a replay, refused`,
    );
  }
  if (bundle.issuedAt === newest.issuedAt && bundle.signature.toLowerCase() !== newest.signature.toLowerCase()) {
    throw new InvalidParameterError(
      "issuedAt",
      `${bundle.issuedAt}: this node holds another bundle issued the same second; sign again`,
    );
  }
}

/**
 * Reads a bundle from untrusted JSON; every error names the field. The keys are only checked for form here: whether
 * they open with the node's key is the node's check.
 *
 * @throws {InvalidParameterError}
 */
export function parseHandoverBundle(json: unknown): HandoverBundle {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new InvalidParameterError("body", "must be a JSON object");
  }
  const raw = json as Record<string, unknown>;
  const text = (field: "podYaml" | "appYaml") => {
    const value = raw[field];
    if (typeof value !== "string" || value.length === 0)
      throw new InvalidParameterError(field, "must be a non-empty string");
    if (value.length > MAX_YAML_CHARS) throw new InvalidParameterError(field, `more than ${MAX_YAML_CHARS} characters`);
    return value;
  };
  const podYaml = text("podYaml");
  const appYaml = text("appYaml");
  const issuedAt = raw.issuedAt;
  if (typeof issuedAt !== "number" || !Number.isSafeInteger(issuedAt) || issuedAt <= 0) {
    throw new InvalidParameterError("issuedAt", "must be a unix time in seconds");
  }
  const signature = raw.signature;
  if (typeof signature !== "string" || !isHex(signature, { strict: true })) {
    throw new InvalidParameterError("signature", "must be 0x-prefixed hex");
  }
  const node = raw.node;
  if (typeof node !== "string" || !isAddress(node, { strict: false })) {
    throw new InvalidParameterError("node", "must be the node's 0x address");
  }
  if (!Array.isArray(raw.blobs)) throw new InvalidParameterError("blobs", "must be a list");
  if (raw.blobs.length > MAX_BLOBS) throw new InvalidParameterError("blobs", `more than ${MAX_BLOBS} entries`);
  const seen = new Set<string>();
  const blobs = raw.blobs.map((entry, i): HandoverBlobKey => {
    const at = `blobs[${i}]`;
    if (typeof entry !== "object" || entry === null) throw new InvalidParameterError(at, "must be an object");
    const { cid, kind, size, key } = entry as Record<string, unknown>;
    if (typeof cid !== "string" || !isContentId(cid)) {
      throw new InvalidParameterError(`${at}.cid`, "not a content id (CIDv1, raw, sha2-256)");
    }
    if (seen.has(cid)) throw new InvalidParameterError(`${at}.cid`, `${cid} is listed twice`);
    seen.add(cid);
    if (kind !== "image" && kind !== "secret")
      throw new InvalidParameterError(`${at}.kind`, 'must be "image" or "secret"');
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
      throw new InvalidParameterError(`${at}.size`, "must be a byte count");
    }
    if (typeof key !== "string") throw new InvalidParameterError(`${at}.key`, "must be a wrapped key (base64url)");
    try {
      decodeWrappedKey(key);
    } catch (error) {
      throw new InvalidParameterError(`${at}.key`, (error as Error).message);
    }
    return { cid, kind, size, key };
  });
  return { podYaml, appYaml, blobs, issuedAt, node: getAddress(node), signature };
}
