import { manifestBlobs } from "@podnet/sdk/protocol";
import type { WorkerContext } from "../context.js";

/**
 * Deletes stored blobs no live lease references: neither named by a stored manifest of an active lease nor uploaded
 * for one (a lease waiting for its manifest keeps its uploads). A blob of a lease that ended stays `blobRetentionSec`
 * after the end (its publisher may deploy it again right away); a blob no lease accounts for (fetched, or uploaded
 * before upload records existed) stays as long after its last change, so a lease not followed yet keeps it.
 * Encrypted blobs are the largest files a worker keeps; without this they would stay forever.
 * @returns the content ids deleted.
 */
export function collectBlobs(ctx: WorkerContext, now = ctx.chainNow() * 1000): string[] {
  const retention = ctx.config.blobRetentionSec * 1000;
  const live = new Set<string>();
  for (const lease of Object.values(ctx.state.data.leases)) {
    if (lease.status !== "active") continue;
    for (const stored of ctx.manifests.list(lease.id)) for (const cid of manifestBlobs(stored.manifest)) live.add(cid);
  }
  const expired = new Set<string>();
  for (const [leaseId, uploads] of Object.entries(ctx.state.data.leaseBlobs)) {
    const lease = ctx.state.data.leases[leaseId];
    const endedAt = lease?.status === "active" ? undefined : (lease?.closedAt ?? 0) * 1000;
    if (endedAt === undefined || now - endedAt < retention) {
      for (const cid of Object.keys(uploads)) live.add(cid);
      continue;
    }
    for (const cid of Object.keys(uploads)) expired.add(cid);
    delete ctx.state.data.leaseBlobs[leaseId];
  }
  const removed: string[] = [];
  for (const blob of ctx.blobs.list()) {
    if (live.has(blob.cid) || (!expired.has(blob.cid) && blob.modifiedAt > Date.now() - retention)) continue;
    ctx.blobs.remove(blob.cid);
    removed.push(blob.cid);
  }
  ctx.state.save();
  if (removed.length > 0) ctx.log.info("removed unreferenced blobs", { blobs: removed });
  return removed;
}
