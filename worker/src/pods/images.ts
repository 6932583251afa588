import { Readable } from "node:stream";
import { decodeWrappedKey, decryptStream, unwrapKey } from "@podnet/sdk/protocol";
import type { WorkerContext } from "../context.js";
import type { StoredManifest } from "../store/manifest-store.js";

/** The local tag of a decrypted image blob: a restarted worker finds it without decrypting again. */
export const blobImageTag = (cid: string) => `podnet-blob/${cid}:latest`;

const inFlight = new Map<string, Promise<string>>();
/** Decrypted images unused for this long are removed from Docker (the encrypted blob stays for a fast reload). */
export const IMAGE_IDLE_MS = 10 * 60_000;

/** Removes decrypted blob images no container uses and no pod needed in the last {@link IMAGE_IDLE_MS}. */
export async function collectUnusedImages(ctx: WorkerContext): Promise<string[]> {
  // Only images this worker loaded (recorded in its state) are candidates: other workers on the same engine keep theirs.
  const used = ctx.state.data.images;
  const keep = new Set(Object.keys(used).filter((tag) => (used[tag] ?? 0) > Date.now() - IMAGE_IDLE_MS));
  const removed = await ctx.runtime.removeUnusedImages("podnet-blob", keep, new Set(Object.keys(used)));
  for (const tag of removed) delete used[tag];
  ctx.state.save();
  if (removed.length > 0) ctx.log.info("removed unused images", { images: removed });
  return removed;
}

/**
 * The local image id for a container's `image`: an encrypted blob is fetched if needed (verified by content id),
 * decrypted as a stream with the content key this provider unwraps, and `docker load`ed; a registry reference must be
 * pinned by digest and is pulled when missing. Concurrent requests for one image share one load.
 */
export function ensureImage(ctx: WorkerContext, stored: StoredManifest, image: string): Promise<string> {
  const pending = inFlight.get(image);
  if (pending) return pending;
  const work = resolveImage(ctx, stored, image).finally(() => inFlight.delete(image));
  inFlight.set(image, work);
  return work;
}

async function resolveImage(ctx: WorkerContext, stored: StoredManifest, image: string): Promise<string> {
  if (!image.startsWith("blob:")) {
    const present = await ctx.runtime.hasImage(image);
    if (present) return present;
    return ctx.runtime.pullImage(image);
  }
  const cid = image.slice(5);
  const tag = blobImageTag(cid);
  ctx.state.data.images[tag] = Date.now();
  ctx.state.save();
  const present = await ctx.runtime.hasImage(tag);
  if (present) return present;
  await ctx.blobs.fetch(cid, stored.sources[cid] ?? []);
  const wrapped = stored.keys[cid];
  if (!wrapped) throw new Error(`image blob ${cid}: no content key was sent for it`);
  const key = unwrapKey(decodeWrappedKey(wrapped), ctx.encryption.privateKey);
  const plaintext = Readable.from(decryptStream(ctx.blobs.read(cid), key));
  const id = await ctx.runtime.loadImage(plaintext, tag);
  ctx.log.info("image loaded from encrypted blob", { cid, image: id });
  return id;
}
