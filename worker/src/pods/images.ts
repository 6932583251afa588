import { Readable } from "node:stream";
import {
  DecryptionError,
  decodeWrappedKey,
  decryptStream,
  isPublicAddress,
  registryHost,
  unwrapKey,
} from "@podnet/sdk/protocol";
import type { WorkerContext } from "../context.js";
import { resolveAll } from "../net/public-fetch.js";
import type { StoredManifest } from "../store/manifest-store.js";

/** The local tag of a decrypted image blob: a restarted worker finds it without decrypting again. */
export const blobImageTag = (cid: string) => `podnet-blob/${cid}:latest`;

const inFlight = new Map<string, Promise<string>>();
/** Decrypted and pulled images unused for this long are removed from Docker (the encrypted blob stays for a reload). */
export const IMAGE_IDLE_MS = 10 * 60_000;

/**
 * Removes decrypted blob images and registry pulls no container uses and no pod needed in the last
 * {@link IMAGE_IDLE_MS}.
 */
export async function collectUnusedImages(ctx: WorkerContext): Promise<string[]> {
  // Only images this worker loaded (recorded in its state) are candidates: other workers on the same engine keep theirs.
  const used = ctx.state.data.images;
  const keep = new Set(Object.keys(used).filter((tag) => (used[tag] ?? 0) > Date.now() - IMAGE_IDLE_MS));
  const removed = [
    ...(await ctx.runtime.removeUnusedImages("podnet-blob", keep, new Set(Object.keys(used)))),
    ...(await ctx.runtime.removeUnusedPulls(
      Object.keys(used).filter((ref) => !ref.startsWith("podnet-blob/") && !keep.has(ref)),
    )),
  ];
  for (const tag of removed) delete used[tag];
  ctx.state.save();
  if (removed.length > 0) ctx.log.info("removed unused images", { images: removed });
  return removed;
}

/** Bytes an image of this lease may take unpacked: the provider's free allowance plus the storage the lease pays for. */
export function imageBudget(ctx: WorkerContext, leaseId: string): number {
  const paid = ctx.state.data.leases[leaseId]?.resources.storageMiB ?? 0;
  return (ctx.config.leaseDiskAllowance + paid) * 1024 * 1024;
}

/**
 * The local image id for a container's `image`: an encrypted blob is fetched if needed (verified by content id),
 * decrypted as a stream with the content key this provider unwraps, and `docker load`ed (no bigger unpacked than the
 * lease may use); a registry reference must be pinned by digest, on a public registry, and is pulled when missing.
 * Concurrent requests for one image share one load, but a blob image goes only to a lease that first proved it holds
 * the content key: the decrypted image is cached for whoever can decrypt the blob, not for whoever names it.
 */
export async function ensureImage(
  ctx: WorkerContext,
  stored: StoredManifest,
  image: string,
  signal?: AbortSignal,
): Promise<string> {
  if (image.startsWith("blob:")) await proveContentKey(ctx, stored, image.slice(5), signal);
  const pending = inFlight.get(image);
  if (pending) return pending;
  // A load another lease's job started is shared: its deadline, not this one's, bounds it.
  const work = resolveImage(ctx, stored, image, signal).finally(() => inFlight.delete(image));
  inFlight.set(image, work);
  return work;
}

/**
 * Whether `image` is ready here without fetching anything: a registry image already pulled, a blob image already
 * loaded whose encrypted blob is stored (its key proof then reads one local chunk). Such images skip the queue of
 * slow image work, so a lease restarting a container never waits behind another lease's download.
 */
export async function imageIsLocal(ctx: WorkerContext, image: string): Promise<boolean> {
  if (!image.startsWith("blob:")) return (await ctx.runtime.hasImage(image)) !== undefined;
  const cid = image.slice(5);
  return ctx.blobs.has(cid) && (await ctx.runtime.hasImage(blobImageTag(cid))) !== undefined;
}

/**
 * Checks that the lease's wrapped key opens blob `cid`: the blob's first chunk must authenticate under it (a wrong key
 * fails there, after reading at most one chunk).
 * The blob is fetched first when missing; `signal` stops that fetch (a source that trickles must not hold it forever).
 * @throws {Error} naming the blob when the key is missing or does not open it.
 */
async function proveContentKey(
  ctx: WorkerContext,
  stored: StoredManifest,
  cid: string,
  signal?: AbortSignal,
): Promise<void> {
  const wrapped = stored.keys[cid];
  if (!wrapped) throw new Error(`image blob ${cid}: no content key was sent for it`);
  await ctx.blobs.fetch(cid, stored.sources[cid] ?? [], signal);
  const key = unwrapKey(decodeWrappedKey(wrapped), ctx.encryption.privateKey);
  const stream = ctx.blobs.read(cid);
  try {
    for await (const _ of decryptStream(stream, key)) break;
  } catch (error) {
    if (error instanceof DecryptionError) {
      throw new Error(`image blob ${cid}: the content key sent for it does not open it`);
    }
    throw error;
  } finally {
    stream.destroy();
    key.fill(0);
  }
}

async function resolveImage(
  ctx: WorkerContext,
  stored: StoredManifest,
  image: string,
  signal?: AbortSignal,
): Promise<string> {
  if (!image.startsWith("blob:")) {
    ctx.state.data.images[image] = Date.now();
    ctx.state.save();
    const present = await ctx.runtime.hasImage(image);
    if (present) return present;
    await assertPublicRegistry(image);
    return ctx.runtime.pullImage(image, imageBudget(ctx, stored.leaseId), signal);
  }
  const cid = image.slice(5);
  const tag = blobImageTag(cid);
  ctx.state.data.images[tag] = Date.now();
  ctx.state.save();
  const present = await ctx.runtime.hasImage(tag);
  if (present) return present;
  const key = unwrapKey(decodeWrappedKey(stored.keys[cid] as string), ctx.encryption.privateKey);
  const plaintext = Readable.from(decryptStream(ctx.blobs.read(cid), key));
  const id = await ctx.runtime.loadImage(plaintext, tag, imageBudget(ctx, stored.leaseId), signal);
  ctx.log.info("image loaded from encrypted blob", { cid, image: id });
  return id;
}

/**
 * Refuses a registry whose host resolves to an address that is not public: the engine would pull from the provider's
 * own network. (The manifest schema already refuses such addresses written out; this catches names resolving there.)
 */
async function assertPublicRegistry(image: string): Promise<void> {
  const host = registryHost(image) ?? "registry-1.docker.io";
  const addresses = await resolveAll(host).catch(() => []);
  if (addresses.length === 0 || addresses.some((address) => !isPublicAddress(address))) {
    throw new Error(`image ${image}: registry ${host} does not resolve to public addresses only`);
  }
}
