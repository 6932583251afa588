import { Readable } from "node:stream";
import { isContentId, providerApiRoutes } from "@podnet/sdk/protocol";
import { Hono } from "hono";
import { ensureLeaseRecord } from "../../market/events.js";
import { markBodyRead } from "../body.js";
import type { ApiDeps } from "../deps.js";
import { HttpError } from "../http-error.js";

/** GET /v1/blobs/:cid (public: ciphertext only) and PUT /v1/leases/:id/blobs/:cid (the lease's publisher). */
export function blobRoutes({ ctx, auth }: ApiDeps) {
  const app = new Hono();

  app.on(providerApiRoutes.blob.method, providerApiRoutes.blob.pattern, async (c) => {
    const cid = blobId(c.req.param("cid"));
    if (!ctx.blobs.has(cid)) throw new HttpError(404, `blob ${cid}: not stored here`);
    const headers = { "content-type": "application/octet-stream", "content-length": String(ctx.blobs.size(cid)) };
    // Hono answers HEAD with the GET handler and drops the body: open no file for it (a dropped stream leaks its fd).
    if (c.req.method === "HEAD") return new Response(null, { headers });
    return new Response(Readable.toWeb(ctx.blobs.read(cid)) as ReadableStream, { headers });
  });

  // The signature covers the path (lease and content id), not the body: the content id already pins every byte,
  // and the client can sign before streaming a multi-gigabyte image.
  app.on(providerApiRoutes.leaseBlob.method, providerApiRoutes.leaseBlob.pattern, async (c) => {
    const cid = blobId(c.req.param("cid"));
    const { leaseId, lease } = await auth.authorize(c);
    if (lease.status !== 1) throw new HttpError(409, `lease ${leaseId}: not active`);
    const record = await ensureLeaseRecord(ctx, leaseId);
    if (!record) throw new HttpError(404, `lease ${leaseId}: not a lease of this provider`);
    // Each lease may store what the provider gives for free plus the storage it pays for, whatever the blob count.
    const uploads = ctx.state.data.leaseBlobs[leaseId.toString()] ?? {};
    const allowance = (ctx.config.leaseDiskAllowance + record.resources.storageMiB) * 1024 * 1024;
    const used = Object.entries(uploads).reduce((sum, [other, bytes]) => (other === cid ? sum : sum + bytes), 0);
    const limit = Math.max(Math.min(ctx.config.maxBlobBytes, allowance - used), 0);
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > limit && !ctx.blobs.has(cid)) {
      throw new HttpError(
        413,
        `body: ${declared} bytes is over what lease ${leaseId} may still upload (${limit} of ${allowance} bytes)`,
      );
    }
    if (!c.req.raw.body) throw new HttpError(400, "body: empty");
    // A blob stored here already is this lease's from now, before its body streams in: blob collection keeps what live
    // leases uploaded, and without the claim it could delete the blob meanwhile (the lease that stored it ended), so
    // the upload would succeed and the manifest then find no blob. The claim goes if the upload is refused.
    const key = leaseId.toString();
    const claimed = uploads[cid] === undefined && ctx.blobs.has(cid);
    if (claimed) ctx.state.data.leaseBlobs[key] = { ...uploads, [cid]: ctx.blobs.size(cid) };
    let result: { created: boolean; bytes: number };
    try {
      // Counted as it streams in (a chunked body declares no length): cut off with 413 past the limit.
      result = await ctx.blobs.write(cid, c.req.raw.body as unknown as AsyncIterable<Uint8Array>, limit);
    } catch (error) {
      if (claimed) {
        const { [cid]: _claim, ...others } = ctx.state.data.leaseBlobs[key] ?? {};
        if (Object.keys(others).length > 0) ctx.state.data.leaseBlobs[key] = others;
        else delete ctx.state.data.leaseBlobs[key];
      }
      throw error;
    }
    markBodyRead(c);
    // Also when another lease stored it first: this lease's upload must keep the blob alive after the other ends
    // (blob collection counts uploads per lease), and it counts against this lease's allowance like its own.
    if (uploads[cid] !== result.bytes) {
      ctx.state.data.leaseBlobs[key] = { ...(ctx.state.data.leaseBlobs[key] ?? uploads), [cid]: result.bytes };
      ctx.state.save();
    }
    return c.json({ cid, bytes: result.bytes, created: result.created }, result.created ? 201 : 200);
  });

  return app;
}

function blobId(text: string) {
  if (!isContentId(text)) throw new HttpError(400, `cid: "${text}" is not a content id (CIDv1, raw, sha2-256)`);
  return text;
}
