import { Readable } from "node:stream";
import {
  apiErrorBody,
  bodyIssues,
  DecryptionError,
  decodeWrappedKey,
  isContentId,
  ManifestError,
  manifestBlobs,
  manifestHash,
  manifestResources,
  manifestUploadSchema,
  type PodEventsResponse,
  type PodStatusResponse,
  type PodUsageResponse,
  parseManifest,
  providerApiPaths,
  unwrapKey,
} from "@podnet/sdk/protocol";
import { type Context, Hono } from "hono";
import type { WorkerContext } from "../context.js";
import { fitsWithin } from "../market/capacity.js";
import { readEvidence } from "../market/disputes.js";
import { ensureLeaseRecord } from "../market/events.js";
import type { Reconciler } from "../pods/reconciler.js";
import type { RouteTable } from "../pods/routes.js";
import { usableAddresses } from "../pods/subnets.js";
import { BlobError } from "../store/blob-store.js";
import { PublisherAuth } from "./auth.js";
import { HttpError } from "./http-error.js";
import { attestationDocument, signQuote } from "./quote.js";

/** Manifest uploads are references and wrapped keys: 256 KiB is generous. */
const MAX_JSON_BODY = 256 * 1024;

/**
 * The provider API (Hono): quotes and attestation, blob upload/download, manifest upload, pod status, usage, events
 * and logs, health and metrics. Lease routes are signed by the lease's publisher (PublisherAuth).
 */
export function createApi(ctx: WorkerContext, reconciler: Reconciler, routes: RouteTable) {
  const app = new Hono();
  const auth = new PublisherAuth(ctx);
  const startedAt = Math.floor(Date.now() / 1000);
  let attestation: Awaited<ReturnType<typeof attestationDocument>> | undefined;
  const getAttestation = async () => {
    attestation ??= await attestationDocument(ctx, startedAt);
    return attestation;
  };

  app.use(async (c, next) => {
    await next();
    ctx.metrics.apiRequests.inc({ route: c.req.routePath, status: String(c.res.status) });
  });

  app.onError((error, c) => {
    if (error instanceof HttpError) return c.json(error.toJSON(), error.status);
    if (error instanceof BlobError) return c.json(new HttpError(error.status, error.message).toJSON(), error.status);
    ctx.log.error("api error", { path: c.req.path, error: error.message });
    return c.json(apiErrorBody(500, "internal error"), 500);
  });
  app.notFound((c) => c.json(new HttpError(404, `${c.req.method} ${c.req.path}: no such route`).toJSON(), 404));

  app.get(providerApiPaths.health, async (c) => {
    let docker = "ok";
    try {
      await ctx.runtime.ping();
    } catch (error) {
      docker = (error as Error).message;
    }
    const healthy = docker === "ok" && ctx.follower.healthy;
    return c.json(
      {
        status: healthy ? "ok" : "degraded",
        provider: ctx.chain.account.address,
        chainId: ctx.chain.chainId,
        chain: {
          healthy: ctx.follower.healthy,
          head: ctx.follower.head.number.toString(),
          cursor: ctx.state.data.cursor,
        },
        docker,
        leases: Object.values(ctx.state.data.leases).filter((l) => l.status === "active").length,
        routes: routes.size,
      },
      healthy ? 200 : 503,
    );
  });

  app.get(providerApiPaths.metrics, async (c) => {
    ctx.metrics.chainCursor.set(ctx.state.data.cursor);
    return c.text(await ctx.metrics.registry.metrics(), 200, { "content-type": ctx.metrics.registry.contentType });
  });

  app.get(providerApiPaths.attestation, async (c) => c.json(await getAttestation()));

  app.post(providerApiPaths.quote, async (c) => {
    const body = await readJson(c);
    return c.json(await signQuote(ctx, body, await getAttestation()));
  });

  app.get("/v1/blobs/:cid", async (c) => {
    const cid = blobId(c.req.param("cid"));
    if (!ctx.blobs.has(cid)) throw new HttpError(404, `blob ${cid}: not stored here`);
    const headers = { "content-type": "application/octet-stream", "content-length": String(ctx.blobs.size(cid)) };
    // Hono answers HEAD with the GET handler and drops the body: open no file for it (a dropped stream leaks its fd).
    if (c.req.method === "HEAD") return new Response(null, { headers });
    return new Response(Readable.toWeb(ctx.blobs.read(cid)) as ReadableStream, { headers });
  });

  // The signature covers the path (lease and content id), not the body: the content id already pins every byte,
  // and the client can sign before streaming a multi-gigabyte image.
  app.put("/v1/leases/:id/blobs/:cid", async (c) => {
    const signer = await auth.signer(c);
    const cid = blobId(c.req.param("cid"));
    const { lease } = await auth.ownedLease(c.req.param("id"), signer);
    if (lease.status !== 1) throw new HttpError(409, `lease ${c.req.param("id")}: not active`);
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > ctx.config.maxBlobBytes) {
      throw new HttpError(413, `body: ${declared} bytes is over the blob limit of ${ctx.config.maxBlobBytes}`);
    }
    if (!c.req.raw.body) throw new HttpError(400, "body: empty");
    const result = await ctx.blobs.write(cid, c.req.raw.body as unknown as AsyncIterable<Uint8Array>);
    return c.json({ cid, bytes: result.bytes, created: result.created }, result.created ? 201 : 200);
  });

  app.put("/v1/leases/:id/manifest", async (c) => {
    const text = await readText(c);
    const signer = await auth.signer(c, text);
    const { leaseId, lease } = await auth.ownedLease(c.req.param("id"), signer);
    if (lease.status !== 1) throw new HttpError(409, `lease ${leaseId}: not active`);
    const upload = manifestUploadSchema.safeParse(parseJson(text));
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
      try {
        unwrapKey(decodeWrappedKey(wrapped), ctx.encryption.privateKey).fill(0);
      } catch (error) {
        if (!(error instanceof DecryptionError)) throw error;
        issues.push({ path: `keys.${cid}`, message: "cannot be unwrapped with this provider's encryption key" });
      }
      if (!ctx.blobs.has(cid) && (upload.data.sources[cid] ?? []).length === 0) {
        issues.push({ path: `sources.${cid}`, message: "blob not uploaded here and no source given" });
      }
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
    ctx.state.recordEvent(leaseId.toString(), "manifest", `manifest for spec ${specHash} received`);
    void ctx.reconcileLease(leaseId.toString()).catch(() => undefined);
    return c.json({ leaseId: leaseId.toString(), specHash, status: providerApiPaths.status(leaseId) }, 202);
  });

  // Public, like the on-chain URI that points here: the exact bytes whose keccak256 the answer committed to.
  app.get("/v1/disputes/:id/evidence", (c) => {
    const body = readEvidence(ctx, c.req.param("id"));
    if (body === undefined) throw new HttpError(404, `no evidence for dispute ${c.req.param("id")}`);
    return c.body(body, 200, { "content-type": "application/json" });
  });

  app.get("/v1/leases/:id", async (c) => {
    const { leaseId, lease } = await auth.ownedLease(c.req.param("id"), await auth.signer(c));
    const id = leaseId.toString();
    const record = ctx.state.data.leases[id];
    const containers = (await ctx.runtime.listContainers()).filter((x) => x.leaseId === leaseId);
    const stored = reconciler.desired(record);
    const ingressBase = `:${ctx.config.ingressPort}`;
    const body: PodStatusResponse = {
      leaseId: id,
      publisher: lease.publisher,
      specHash: lease.specHash,
      status: lease.status === 1 ? "active" : "closed",
      runsOutAt: record?.runsOutAt ?? null,
      pod: reconciler.phases.get(id) ?? { phase: lease.status === 1 ? "waiting-manifest" : "stopped" },
      manifestSpecHash: stored?.specHash ?? null,
      containers: containers.map((x) => ({
        name: x.container,
        replica: x.replica,
        specHash: x.specHash,
        state: x.state,
        image: x.image,
      })),
      http: routes.hostsOf(id).map((host) => ({ host, url: `http://${host}${ingressBase}/` })),
      tcp: stored
        ? stored.manifest.expose.tcp.flatMap((e) =>
            containers.flatMap((x) => {
              const hostPort = x.tcpPorts[e.port];
              return x.container === e.container && x.specHash === stored.specHash && hostPort !== undefined
                ? [{ container: e.container, port: e.port, replica: x.replica, hostPort }]
                : [];
            }),
          )
        : [],
      events: (ctx.state.data.events[id] ?? []).slice(-20),
    };
    return c.json(body);
  });

  app.get("/v1/leases/:id/events", async (c) => {
    const { leaseId } = await auth.ownedLease(c.req.param("id"), await auth.signer(c));
    const body: PodEventsResponse = { events: ctx.state.data.events[leaseId.toString()] ?? [] };
    return c.json(body);
  });

  app.get("/v1/leases/:id/usage", async (c) => {
    const { leaseId } = await auth.ownedLease(c.req.param("id"), await auth.signer(c));
    const containers = (await ctx.runtime.listContainers()).filter(
      (x) => x.leaseId === leaseId && x.state === "running",
    );
    const usage = await Promise.all(
      containers.map(async (x) => {
        const s = await ctx.runtime.stats(x.id);
        return { name: x.container, replica: x.replica, ...s, cpuNanos: s.cpuNanos.toString() };
      }),
    );
    const body: PodUsageResponse = { leaseId: leaseId.toString(), containers: usage };
    return c.json(body);
  });

  app.get("/v1/leases/:id/logs", async (c) => {
    const { leaseId } = await auth.ownedLease(c.req.param("id"), await auth.signer(c));
    const name = c.req.query("container");
    const replica = Number(c.req.query("replica") ?? "0");
    const tailText = c.req.query("tail") ?? "100";
    if (!/^\d{1,6}$/.test(tailText)) throw new HttpError(400, "tail: must be a whole number of lines");
    const follow = c.req.query("follow") === "true" || c.req.query("follow") === "1";
    const candidates = (await ctx.runtime.listContainers()).filter(
      (x) => x.leaseId === leaseId && (name === undefined || x.container === name) && x.replica === replica,
    );
    const stored = reconciler.desired(ctx.state.data.leases[leaseId.toString()]);
    const target =
      candidates.find((x) => x.specHash === stored?.specHash) ??
      candidates.sort((a, b) => b.createdAt - a.createdAt)[0];
    if (!target)
      throw new HttpError(404, `container: no container ${name ?? ""} (replica ${replica}) in lease ${leaseId}`);
    const abort = new AbortController();
    const lines = ctx.runtime.logs(target.id, { tail: Number(tailText), follow, signal: abort.signal });
    const iterator = lines[Symbol.asyncIterator]();
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { value, done } = await iterator.next();
          if (done) controller.close();
          else controller.enqueue(encoder.encode(`${JSON.stringify(value)}\n`));
        } catch {
          controller.close();
        }
      },
      cancel() {
        abort.abort();
      },
    });
    c.req.raw.signal.addEventListener("abort", () => abort.abort());
    return new Response(body, { headers: { "content-type": "application/x-ndjson", "cache-control": "no-store" } });
  });

  return app;
}

function blobId(text: string) {
  if (!isContentId(text)) throw new HttpError(400, `cid: "${text}" is not a content id (CIDv1, raw, sha2-256)`);
  return text;
}

async function readText(c: Context): Promise<string> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_JSON_BODY)
    throw new HttpError(413, `body: ${declared} bytes is over the limit of ${MAX_JSON_BODY}`);
  const text = await c.req.text();
  if (Buffer.byteLength(text) > MAX_JSON_BODY)
    throw new HttpError(413, `body: over the limit of ${MAX_JSON_BODY} bytes`);
  return text;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "body: not valid JSON");
  }
}

async function readJson(c: Context): Promise<unknown> {
  return parseJson(await readText(c));
}
