import {
  bodyIssues,
  DecryptionError,
  decodeWrappedKey,
  decryptStream,
  isLocalHostName,
  ManifestError,
  manifestBlobs,
  manifestHash,
  manifestResources,
  manifestUploadSchema,
  parseManifest,
  providerApiRoutes,
  unwrapKey,
} from "@podnet/sdk/protocol";
import { Hono } from "hono";
import { fitsWithin, leaseShortfall } from "../../market/capacity.js";
import { ensureLeaseRecord } from "../../market/events.js";
import { secretsBudget, secretsSize } from "../../pods/secrets.js";
import { usableAddresses } from "../../pods/subnets.js";
import { parseJson, readText } from "../body.js";
import type { ApiDeps } from "../deps.js";
import { HttpError } from "../http-error.js";

/**
 * PUT /v1/leases/:id/manifest: the pod for a lease, checked against the lease (spec hash, paid resources), this
 * provider's pod network and the blob keys before anything is stored; then provisioning starts (202).
 */
export function manifestRoutes({ ctx, auth }: ApiDeps) {
  const app = new Hono();

  app.on(providerApiRoutes.manifest.method, providerApiRoutes.manifest.pattern, async (c) => {
    // The body is read only after the cheap checks of the signature headers and bounded while it streams in; the
    // lease is read from the chain afresh, since a spec update may have been mined a moment ago.
    const { leaseId, lease, body } = await auth.authorize(c, { readBody: () => readText(c), fresh: true });
    if (lease.status !== 1) throw new HttpError(409, `lease ${leaseId}: not active`);
    const upload = manifestUploadSchema.safeParse(parseJson(body ?? ""));
    if (!upload.success) throw HttpError.invalid(bodyIssues(upload.error));
    let manifest: ReturnType<typeof parseManifest>;
    try {
      manifest = parseManifest(upload.data.manifest);
    } catch (error) {
      if (error instanceof ManifestError) throw HttpError.invalid(error.issues);
      throw error;
    }
    const specHash = manifestHash(manifest);
    if (specHash !== lease.specHash) {
      throw HttpError.invalid([
        { path: "manifest", message: `hashes to ${specHash}, but lease ${leaseId} runs spec ${lease.specHash}` },
      ]);
    }
    const record = await ensureLeaseRecord(ctx, leaseId);
    if (!record) throw new HttpError(404, `lease ${leaseId}: not a lease of this provider`);
    // Quotes reserve nothing, so leases can be made for more than the capacity: the lease made first keeps its place.
    if (!record.manifestSpecHash && ctx.manifests.list(record.id).length === 0) {
      const short = leaseShortfall(ctx.state.data, ctx.profile.capacity, record);
      if (short) {
        // Nothing frees room by itself: the money loop closes the lease (the rest of its deposit goes back).
        record.refusedAt ??= ctx.chainNow();
        ctx.state.save();
        throw new HttpError(
          409,
          `resources: ${short}: leases made before lease ${leaseId} hold the rest of this provider's capacity; the provider closes lease ${leaseId}, which returns what is left of its deposit`,
        );
      }
    }
    const needs = manifestResources(manifest);
    if (!fitsWithin(needs, record.resources)) {
      throw HttpError.invalid([
        {
          path: "containers",
          message: `the pod needs ${JSON.stringify(needs)}, the lease pays for ${JSON.stringify(record.resources)}`,
        },
      ]);
    }
    const addresses = usableAddresses(ctx.config.podNetworkPrefix);
    if (manifest.containers.length * manifest.replicas > addresses) {
      throw HttpError.invalid([
        {
          path: "replicas",
          message: `${manifest.containers.length * manifest.replicas} containers do not fit this provider's pod network (${addresses} addresses)`,
        },
      ]);
    }
    const issues = [];
    for (const cid of manifestBlobs(manifest)) {
      const wrapped = upload.data.keys[cid];
      if (!wrapped) {
        issues.push({
          path: `keys.${cid}`,
          message: "missing: every blob needs its content key wrapped to this provider",
        });
        continue;
      }
      let key: Uint8Array | undefined;
      try {
        key = unwrapKey(decodeWrappedKey(wrapped), ctx.encryption.privateKey);
      } catch (error) {
        if (!(error instanceof DecryptionError)) throw error;
        issues.push({ path: `keys.${cid}`, message: "cannot be unwrapped with this provider's encryption key" });
      }
      // A blob stored here (maybe another tenant's) is used only with a key that opens it.
      if (key && ctx.blobs.has(cid) && !(await opens(ctx.blobs.read(cid), key))) {
        issues.push({ path: `keys.${cid}`, message: "the content key does not open this blob" });
      }
      key?.fill(0);
      if (!ctx.blobs.has(cid) && (upload.data.sources[cid] ?? []).length === 0) {
        issues.push({ path: `sources.${cid}`, message: "blob not uploaded here and no source given" });
      }
    }
    for (const [cid, urls] of Object.entries(upload.data.sources)) {
      // A blob stored here is never fetched: its sources do not matter.
      if (ctx.blobs.has(cid)) continue;
      urls.forEach((url, i) => {
        // Never echo the URL: it may carry credentials.
        const host = new URL(url).hostname.replace(/^\[|\]$/g, "").toLowerCase();
        if (isLocalHostName(host) && !ctx.config.privateSourceHosts.includes(host)) {
          issues.push({
            path: `sources.${cid}[${i}]`,
            message: "must be on a public address (not loopback or private)",
          });
        }
      });
    }
    const secrets = secretsSize(manifest, (cid) => (ctx.blobs.has(cid) ? ctx.blobs.size(cid) : undefined));
    if (secrets > secretsBudget(manifest)) {
      issues.push({
        path: "volumes",
        message: `secret files take ${secrets} bytes of memory (tmpfs), more than the pod's memory of ${secretsBudget(manifest)} bytes`,
      });
    }
    if (issues.length > 0) throw HttpError.invalid(issues);
    ctx.manifests.put({
      leaseId: leaseId.toString(),
      specHash,
      manifest,
      keys: upload.data.keys,
      sources: upload.data.sources,
      receivedAt: Date.now(),
    });
    // Kept with the lease: its manifests go when it closes, a dispute within the window after that still asks.
    record.manifestSpecHash = specHash;
    ctx.state.recordEvent(leaseId.toString(), "manifest", `manifest for spec ${specHash} received`);
    void ctx.reconcileLease(leaseId.toString()).catch(() => undefined);
    return c.json({ leaseId: leaseId.toString(), specHash, status: providerApiRoutes.status.path(leaseId) }, 202);
  });

  return app;
}

/** Whether `key` authenticates the first chunk of the blob read from `stream` (closed either way). */
async function opens(stream: NodeJS.ReadableStream & { destroy(): void }, key: Uint8Array): Promise<boolean> {
  try {
    for await (const _ of decryptStream(stream as AsyncIterable<Uint8Array>, key)) break;
    return true;
  } catch (error) {
    if (error instanceof DecryptionError) return false;
    throw error;
  } finally {
    stream.destroy();
  }
}
