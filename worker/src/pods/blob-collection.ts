import { manifestBlobs } from "@podnet/sdk/protocol";
import type { WorkerContext } from "../context.js";

/**
 * A blob no lease accounts for (a fetch, an upload from before upload records) is kept this long after its last
 * change, so a lease the worker has not followed yet does not lose it.
 */
export const BLOB_GRACE_MS = 10 * 60_000;

/**
 * Deletes stored blobs no live lease references: neither named by a stored manifest of an active lease nor uploaded
 * for one (a lease waiting for its manifest keeps its uploads). Also forgets the upload records of closed leases.
 * Encrypted blobs are the largest files a worker keeps; without this they would stay forever.
 * @returns the content ids deleted.
 */
export function collectBlobs(ctx: WorkerContext, now = Date.now()): string[] {
  const live = new Set<string>();
  for (const lease of Object.values(ctx.state.data.leases)) {
    if (lease.status !== "active") continue;
    for (const stored of ctx.manifests.list(lease.id)) for (const cid of manifestBlobs(stored.manifest)) live.add(cid);
    for (const cid of Object.keys(ctx.state.data.leaseBlobs[lease.id] ?? {})) live.add(cid);
  }
  // Uploads of leases that ended: no need to wait for the grace period.
  const ended = new Set<string>();
  for (const [leaseId, uploads] of Object.entries(ctx.state.data.leaseBlobs)) {
    if (ctx.state.data.leases[leaseId]?.status === "active") continue;
    for (const cid of Object.keys(uploads)) ended.add(cid);
    delete ctx.state.data.leaseBlobs[leaseId];
  }
  const removed: string[] = [];
  for (const blob of ctx.blobs.list()) {
    if (live.has(blob.cid) || (!ended.has(blob.cid) && blob.modifiedAt > now - BLOB_GRACE_MS)) continue;
    ctx.blobs.remove(blob.cid);
    removed.push(blob.cid);
  }
  ctx.state.save();
  if (removed.length > 0) ctx.log.info("removed unreferenced blobs", { blobs: removed });
  return removed;
}
