import { createReadStream, existsSync, statSync } from "node:fs";
import {
  BlobCache,
  BlobCacheError,
  BlobSizeError,
  checkHandoverIssuedAt,
  type HandoverBundle,
  type HandoverRecord,
  InvalidParameterError,
  parseHandoverBundle,
  recoverHandoverSigner,
} from "@podnet/sdk";
import {
  apiErrorBody,
  ContentHasher,
  type Deployment,
  decodeWrappedKey,
  isContentId,
  NonceCache,
  RequestAuthError,
  unwrapKey,
  verifyRequest,
} from "@podnet/sdk/protocol";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { type Address, getAddress, type Hex, isAddress, type PublicClient } from "viem";
import { appLayout, ensureDir, readHandoverRecord, writeFileAtomic } from "./app-layout.js";
import { VaultReads } from "./vault-reads.js";

/**
 * The node's side of handing an app to the network: the owner uploads the app's ciphertext blobs, then PUTs a bundle
 * (pod.yaml, app.yaml, the content keys wrapped to this node, signed by the owner), which the node checks against the
 * chain before it writes anything (layout: app-layout.ts). Every refusal is a 4xx `{"error": {status, message}}` whose
 * message starts with the field it is about, and leaves the disk as it was.
 *
 * - `HEAD /v1/apps/:vault/blobs/:cid`: 200 when the ciphertext is here (so the owner uploads only what is missing);
 * - `PUT /v1/apps/:vault/blobs/:cid`: ciphertext, streamed to a temporary file, at most `maxBlobBytes`, kept only
 *   when it hashes to `:cid`; a signed request (request-signing.ts, this node as the `provider`) by the vault's
 *   owner, so nobody else fills the node's disk;
 * - `PUT /v1/apps/:vault/bundle`: JSON {@link HandoverBundle};
 * - `GET /v1/apps/:vault/bundle`: the bundle.json record (no keys), or 404.
 */

export interface HandoverDeps {
  /** This node's address (what bundles are signed for). */
  node: Address;
  /** This node's X25519 key pair: the one registered as its `encryptionKey`, which content keys are wrapped to. */
  encryptionKey: { privateKey: Uint8Array; publicKeyHex: Hex };
  publicClient: PublicClient;
  dataDir: string;
  deployment: Deployment;
  /** Largest blob upload, bytes; default 2 GiB. */
  maxBlobBytes?: number;
  /** Unix seconds; the clock issuedAt is compared with. */
  now?: () => number;
}

export const DEFAULT_MAX_HANDOVER_BLOB_BYTES = 2 * 1024 ** 3;
/** pod.yaml and app.yaml (1 MiB each at most) plus 256 wrapped keys. */
const MAX_BUNDLE_BODY = 3 * 1024 * 1024;

class Refusal extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 413 | 422,
    message: string,
  ) {
    super(message);
  }
}

function vaultParam(text: string): Address {
  if (!isAddress(text, { strict: false })) throw new Refusal(400, `vault: "${text}" is not a 0x address`);
  return getAddress(text);
}

function cidParam(text: string): string {
  if (!isContentId(text)) throw new Refusal(400, `cid: "${text}" is not a content id (CIDv1, raw, sha2-256)`);
  return text;
}

/**
 * Whether stored ciphertext files still are what their content id says. An upload is hashed as it streams in and kept
 * under its cid only when it matches; a file is hashed again only when its size or modification time changed since it
 * was last found good (a bundle sent again must not re-read gigabytes each time).
 */
class VerifiedBlobs {
  private readonly good = new Map<string, string>();

  private static stamp(path: string): string {
    const stat = statSync(path);
    return `${stat.size}:${stat.mtimeMs}`;
  }

  /** Records a file just written under its verified content id. */
  add(path: string): void {
    this.good.set(path, VerifiedBlobs.stamp(path));
  }

  async matches(path: string, cid: string): Promise<boolean> {
    const stamp = VerifiedBlobs.stamp(path);
    if (this.good.get(path) === stamp) return true;
    const hasher = new ContentHasher();
    for await (const chunk of createReadStream(path)) hasher.update(chunk as Uint8Array);
    if (hasher.digest() !== cid) return false;
    this.good.set(path, stamp);
    return true;
  }
}

export function handoverRoutes(deps: HandoverDeps): Hono {
  const app = new Hono();
  const reads = new VaultReads(deps.publicClient, deps.deployment);
  const nonces = new NonceCache();
  const verified = new VerifiedBlobs();
  const chainId = deps.deployment.chainId;
  const maxBlobBytes = deps.maxBlobBytes ?? DEFAULT_MAX_HANDOVER_BLOB_BYTES;
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  // One bundle write per vault at a time: the replay check and the writes happen under it.
  const locks = new Map<string, Promise<unknown>>();
  const underLock = <T>(vault: Address, work: () => Promise<T>): Promise<T> => {
    const previous = locks.get(vault) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    locks.set(vault, next);
    void next.finally(() => locks.get(vault) === next && locks.delete(vault)).catch(() => undefined);
    return next;
  };

  async function requireFactoryApp(vault: Address): Promise<void> {
    if (!(await reads.isFactoryApp(vault))) {
      throw new Refusal(
        404,
        `vault: ${vault} was not created by this deployment's app factory (${deps.deployment.contracts.appVaultFactory.address})`,
      );
    }
  }

  app.on(["HEAD", "GET"], "/v1/apps/:vault/blobs/:cid", async (c) => {
    const vault = vaultParam(c.req.param("vault"));
    const cid = cidParam(c.req.param("cid"));
    const path = new BlobCache(appLayout(deps.dataDir, vault).blobs).path(cid);
    // An altered file counts as missing, so the owner's next hand-over uploads it again.
    if (!existsSync(path) || !(await verified.matches(path, cid))) {
      return c.json(apiErrorBody(404, `cid: ${cid} is not here`), 404);
    }
    // Presence only: the ciphertext is served by providers, not by nodes.
    return c.body(null, 200, { "content-length": String(statSync(path).size) });
  });

  app.put("/v1/apps/:vault/blobs/:cid", async (c) => {
    const vault = vaultParam(c.req.param("vault"));
    const cid = cidParam(c.req.param("cid"));
    const declared = c.req.header("content-length");
    if (declared !== undefined && Number(declared) > maxBlobBytes) {
      throw new Refusal(413, `body: ${declared} bytes is over this node's blob limit of ${maxBlobBytes}`);
    }
    let signer: Address;
    try {
      // The signature covers the path (vault and content id), not the body: the content id pins every byte.
      signer = await verifyRequest(
        c.req.raw.headers,
        { provider: deps.node, method: "PUT", path: new URL(c.req.url).pathname },
        { chainId, nonces },
      );
    } catch (error) {
      if (error instanceof RequestAuthError) throw new Refusal(403, error.message);
      throw error;
    }
    // After the signature (cheap, local): an anonymous request costs the node no log scan.
    await requireFactoryApp(vault);
    const { owner, networkMode } = await reads.vaultState(vault);
    if (signer.toLowerCase() !== owner.toLowerCase()) {
      throw new Refusal(403, `x-podnet-signer: ${signer} is not the owner of ${vault} (${owner})`);
    }
    requireNetworkMode(vault, networkMode);
    const cache = new BlobCache(appLayout(deps.dataDir, vault).blobs);
    if (existsSync(cache.path(cid)) && (await verified.matches(cache.path(cid), cid))) {
      return c.json({ cid, bytes: statSync(cache.path(cid)).size, created: false }, 200);
    }
    if (!c.req.raw.body) throw new Refusal(400, "body: empty");
    ensureDir(cache.dir);
    try {
      const written = await cache.write(c.req.raw.body as unknown as AsyncIterable<Uint8Array>, {
        expectCid: cid,
        maxBytes: maxBlobBytes,
      });
      verified.add(cache.path(cid));
      return c.json({ cid, bytes: written.size, created: true }, 201);
    } catch (error) {
      if (error instanceof BlobSizeError) {
        throw new Refusal(413, `body: over this node's blob limit of ${maxBlobBytes} bytes`);
      }
      if (error instanceof BlobCacheError) {
        throw new Refusal(422, `body: ${error.message.replace(/^blob cache: /, "")}`);
      }
      throw error;
    }
  });

  app.put(
    "/v1/apps/:vault/bundle",
    bodyLimit({
      maxSize: MAX_BUNDLE_BODY,
      onError: () => {
        throw new Refusal(413, `body: over the limit of ${MAX_BUNDLE_BODY} bytes`);
      },
    }),
    async (c) => {
      const vault = vaultParam(c.req.param("vault"));
      let json: unknown;
      try {
        json = await c.req.json();
      } catch {
        throw new Refusal(400, "body: not JSON");
      }
      const bundle = parseHandoverBundle(json);
      if (bundle.node.toLowerCase() !== deps.node.toLowerCase()) {
        throw new Refusal(400, `node: the bundle was signed for ${bundle.node}, this node is ${deps.node}`);
      }
      await requireFactoryApp(vault);
      const signed = await recoverHandoverSigner(chainId, vault, deps.node, bundle);
      const chain = await reads.vaultState(vault);
      if (signed.signer.toLowerCase() !== chain.owner.toLowerCase()) {
        throw new Refusal(403, `signature: signed by ${signed.signer}, not by the vault's owner ${chain.owner}`);
      }
      requireNetworkMode(vault, chain.networkMode);
      if (signed.specHash !== chain.specHash) {
        throw new Refusal(409, `podYaml: hashes to ${signed.specHash}, the vault's specHash is ${chain.specHash}`);
      }
      if (signed.configHash !== chain.configHash) {
        throw new Refusal(
          409,
          `appYaml: hashes to ${signed.configHash}, the vault's configHash is ${chain.configHash}`,
        );
      }
      const layout = appLayout(deps.dataDir, vault);
      const cache = new BlobCache(layout.blobs);
      await checkBlobs(bundle, signed.podBlobs, cache, deps.encryptionKey, verified);
      const record: HandoverRecord = {
        vault,
        chainId,
        node: getAddress(deps.node),
        owner: getAddress(chain.owner),
        specHash: signed.specHash,
        configHash: signed.configHash,
        blobIndexHash: signed.blobIndexHash,
        issuedAt: bundle.issuedAt,
        signature: bundle.signature,
      };
      return underLock(vault, async () => {
        // Under the lock: two bundles sent at once cannot both pass as the newest.
        const held = readHandoverRecord(deps.dataDir, vault);
        replayCheck(bundle, now(), held);
        if (held && held.signature.toLowerCase() === bundle.signature.toLowerCase()) {
          return c.json({ ...record, created: false }, 200);
        }
        ensureDir(layout.blobs);
        writeFileAtomic(layout.podYaml, bundle.podYaml);
        writeFileAtomic(layout.appYaml, bundle.appYaml);
        for (const blob of bundle.blobs) {
          cache.put({
            cid: blob.cid,
            size: blob.size,
            kind: blob.kind,
            keyForSelf: blob.key,
            selfKey: deps.encryptionKey.publicKeyHex.toLowerCase() as Hex,
            sources: [],
            createdAt: bundle.issuedAt,
          });
        }
        writeFileAtomic(layout.bundle, `${JSON.stringify(record, null, 2)}\n`);
        return c.json({ ...record, created: true }, 201);
      });
    },
  );

  app.get("/v1/apps/:vault/bundle", (c) => {
    const vault = vaultParam(c.req.param("vault"));
    const record = readHandoverRecord(deps.dataDir, vault);
    if (!record) return c.json(apiErrorBody(404, `vault: this node holds no bundle for ${vault}`), 404);
    return c.json(record);
  });

  app.onError((error, c) => {
    if (error instanceof Refusal) return c.json(apiErrorBody(error.status, error.message), error.status);
    if (error instanceof InvalidParameterError) return c.json(apiErrorBody(400, error.message), 400);
    return c.json(apiErrorBody(500, "internal error"), 500);
  });
  return app;
}

/** A node keeps only apps the network may serve: anyone can create a vault, only its owner can opt it in. */
function requireNetworkMode(vault: Address, enabled: boolean): void {
  if (!enabled) {
    throw new Refusal(409, `vault: ${vault} is not in network mode (its owner sets it with setNetworkTerms first)`);
  }
}

function replayCheck(bundle: HandoverBundle, now: number, held: HandoverRecord | undefined): void {
  try {
    checkHandoverIssuedAt(bundle, now, held);
  } catch (error) {
    if (error instanceof InvalidParameterError && held && bundle.issuedAt <= held.issuedAt) {
      throw new Refusal(409, error.message);
    }
    throw error;
  }
}

/**
 * Every blob pod.yaml names has exactly one key in the bundle, the key opens with this node's key, and the
 * ciphertext was uploaded and is what its content id says. Reads only.
 */
async function checkBlobs(
  bundle: HandoverBundle,
  podBlobs: string[],
  cache: BlobCache,
  key: HandoverDeps["encryptionKey"],
  verified: VerifiedBlobs,
): Promise<void> {
  const listed = new Set(bundle.blobs.map((b) => b.cid));
  for (const cid of podBlobs) {
    if (!listed.has(cid)) throw new Refusal(400, `blobs: pod.yaml names ${cid}, the bundle has no key for it`);
  }
  const named = new Set(podBlobs);
  for (const [i, blob] of bundle.blobs.entries()) {
    if (!named.has(blob.cid)) throw new Refusal(400, `blobs[${i}].cid: ${blob.cid} is not named by pod.yaml`);
    try {
      unwrapKey(decodeWrappedKey(blob.key), key.privateKey).fill(0);
    } catch {
      throw new Refusal(
        400,
        `blobs[${i}].key: does not open with this node's key ${key.publicKeyHex} (sealed to another key, or altered)`,
      );
    }
  }
  for (const [i, blob] of bundle.blobs.entries()) {
    const path = cache.path(blob.cid);
    if (!existsSync(path)) {
      throw new Refusal(409, `blobs[${i}].cid: ${blob.cid} was not uploaded (PUT /v1/apps/<vault>/blobs/${blob.cid})`);
    }
    if (!(await verified.matches(path, blob.cid))) {
      throw new Refusal(409, `blobs[${i}].cid: the stored ciphertext does not hash to ${blob.cid}; upload it again`);
    }
    const size = statSync(path).size;
    if (size !== blob.size) throw new Refusal(400, `blobs[${i}].size: ${blob.size}, the ciphertext has ${size} bytes`);
  }
}
