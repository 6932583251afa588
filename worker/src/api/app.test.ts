import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ApiErrorBody,
  contentId,
  providerApiPaths,
  providerApiRoutes,
  requestHeaders,
  signRequest,
} from "@podnet/sdk/protocol";
import { type Address, getAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WorkerContext } from "../context.js";
import { collectBlobs } from "../pods/blob-collection.js";
import { RouteTable } from "../pods/routes.js";
import { BlobStore } from "../store/blob-store.js";
import { createApi } from "./app.js";
import { MAX_JSON_BODY, MAX_QUOTE_BODY } from "./body.js";
import type { ApiLimits } from "./rate-limit.js";
import { stubContextBase, stubEngineInfo, stubReconciler } from "./stub-context.js";

// The provider API composed from its route modules, against a stub worker: no chain, no Docker. What needs them
// (provisioning, pod status with containers, logs) is covered end to end by test/worker.test.ts.

const provider = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const publisher = privateKeyToAccount("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const stranger = privateKeyToAccount("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");
const otherProvider: Address = getAddress("0x90f79bf6eb2c4f870365e785982e1f101e93b906");
const chainId = 31337;
const cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

let dataDir: string;
let ctx: WorkerContext;
let dockerDown: string | undefined;
/** getLease calls the API made (eth_call on a real chain). */
let chainReads: bigint[];
/** getCode calls the API made (eth_getCode: is a lease's publisher a contract?). */
let codeReads: Address[];

/** Leases as the market's getLease returns them: 7 is the publisher's with this provider, 8 another provider's. */
function getLease(id: bigint) {
  if (id === 9n) throw new Error("RPC down");
  const lease = { provider: provider.address, publisher: publisher.address, specHash: `0x${"ab".repeat(32)}` };
  if (id === 7n) return { ...lease, status: 1 };
  if (id === 8n) return { ...lease, provider: otherProvider, status: 1 };
  return { ...lease, status: 0 };
}

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "podnet-api-"));
  dockerDown = undefined;
  chainReads = [];
  codeReads = [];
  ctx = {
    config: {
      dataDir,
      maxBlobBytes: 4096,
      ingressPort: 8080,
      podNetworkPrefix: 24,
      leaseDiskAllowance: 2048,
      trustedProxies: [],
    },
    chain: {
      account: provider,
      chainId,
      deployment: { contracts: { podnetMarket: { address: otherProvider } } },
      publicClient: {
        readContract: async ({ args }: { args: [bigint] }) => {
          chainReads.push(args[0]);
          return getLease(args[0]);
        },
        // The publisher here is an account without code; contract publishers are test/vault-signing.test.ts's.
        getCode: async ({ address }: { address: Address }) => {
          codeReads.push(address);
          return undefined;
        },
      },
    },
    state: {
      data: {
        cursor: 5,
        leases: {
          "7": {
            id: "7",
            publisher: publisher.address,
            specHash: `0x${"ab".repeat(32)}`,
            status: "active",
            resources: { cpuMillis: 100, memoryMiB: 64, storageMiB: 0 },
          },
        },
        bids: {},
        nextQuoteNonce: "1",
        leaseBlobs: {},
        events: { "7": [{ at: 1, type: "manifest", message: "received" }] },
      },
      save: () => undefined,
      saveNow: () => undefined,
    },
    blobs: new BlobStore(dataDir, 4096),
    runtime: {
      ping: async () => {
        if (dockerDown) throw new Error(dockerDown);
      },
      listContainers: async () => [],
      info: stubEngineInfo,
    },
    ...stubContextBase(),
    profile: { active: false },
  } as unknown as WorkerContext;
});

afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

function api(limits?: ApiLimits) {
  const reconciler = stubReconciler();
  return createApi(ctx, reconciler, new RouteTable("pods.localhost"), limits);
}

/** A request signed by `account` (the publisher by default), as the SDK sends it; `at` moves its timestamp. */
async function signed(
  path: string,
  init: { method?: string; body?: string } = {},
  account = publisher,
  at = Math.floor(Date.now() / 1000),
) {
  const method = init.method ?? "GET";
  const fields = { provider: provider.address, method, path, body: init.body };
  const headers = await signRequest(account, chainId, fields, at);
  return new Request(`http://provider.test${path}`, { method, headers, body: init.body });
}

/** An endless body of 64 KiB chunks, generated as it is pulled; `pulled()` says how many bytes were read. */
function endlessBody() {
  let pulled = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x7b);
  // highWaterMark 0: nothing is pulled before the reader asks.
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        pulled += chunk.length;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => pulled };
}

async function errorOf(response: Response) {
  return { status: response.status, body: (await response.json()) as ApiErrorBody };
}

describe("createApi", () => {
  it("serves exactly the protocol's route table", () => {
    const served = api()
      .routes.filter((r) => r.method !== "ALL")
      .map((r) => `${r.method} ${r.path}`);
    const declared = Object.values(providerApiRoutes).map((r) => `${r.method} ${r.pattern}`);
    expect(served.sort()).toEqual(declared.sort());
  });

  it("asks for a publisher signature on exactly the routes the table marks signed", async () => {
    const app = api();
    for (const [name, route] of Object.entries(providerApiRoutes)) {
      const args = (route.pattern.match(/:[A-Za-z]+/g) ?? []).map((p) => (p === ":cid" ? cid : 7n));
      const path = (route.path as (...a: unknown[]) => string)(...args);
      const response = await app.request(path, { method: route.method, body: route.method === "GET" ? null : "{}" });
      if (route.signed) {
        expect(await errorOf(response), name).toEqual({
          status: 401,
          body: { error: { status: 401, message: `${requestHeaders.signer}: missing` } },
        });
      } else {
        expect(response.status, name).not.toBe(401);
      }
    }
  });

  it("counts requests by route pattern and status", async () => {
    const app = api();
    await app.request(providerApiPaths.blob("not-a-cid"));
    await app.request(providerApiPaths.blob(cid));
    await app.request(providerApiPaths.status(7n));
    const counted = (await ctx.metrics.apiRequests.get()).values.map((v) => [v.labels.route, v.labels.status]);
    expect(counted).toEqual([
      ["/v1/blobs/:cid", "400"],
      ["/v1/blobs/:cid", "404"],
      ["/v1/leases/:id", "401"],
    ]);
  });

  it("answers an unknown route and an unexpected failure with the protocol's error body", async () => {
    const app = api();
    expect(await errorOf(await app.request("/v1/nope", { method: "DELETE" }))).toEqual({
      status: 404,
      body: { error: { status: 404, message: "DELETE /v1/nope: no such route" } },
    });
    expect(await errorOf(await app.request(await signed(providerApiPaths.events(9n))))).toEqual({
      status: 500,
      body: { error: { status: 500, message: "internal error" } },
    });
  });
});

describe("health routes", () => {
  it("reports ok, and degraded with 503 when Docker does not answer", async () => {
    const ok = await api().request(providerApiPaths.health);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: "ok", chainId, chain: { head: "10", cursor: 5 }, docker: "ok" });
    dockerDown = "connect ENOENT /var/run/docker.sock";
    const degraded = await api().request(providerApiPaths.health);
    expect(degraded.status).toBe(503);
    expect(await degraded.json()).toMatchObject({ status: "degraded", degraded: ["docker"], docker: dockerDown });
  });

  it("answers while the chain is unreachable, naming the chain as degraded", async () => {
    Object.assign(ctx.follower, {
      healthy: false,
      chainState: "unreachable",
      consecutiveFailures: 3,
      lastError: "down",
    });
    const response = await api().request(providerApiPaths.health);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      status: "degraded",
      degraded: ["chain"],
      chain: { state: "unreachable", reachable: false, failures: 3, lastError: "down", cursor: 5 },
      docker: "ok",
    });
    const metrics = await (await api().request(providerApiPaths.metrics)).text();
    expect(metrics).toMatch(/^podnet_worker_chain_reachable 0$/m);
  });

  it("serves Prometheus metrics", async () => {
    const response = await api().request(providerApiPaths.metrics);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("podnet_worker_chain_cursor 5");
  });
});

describe("quote routes", () => {
  it("refuses bodies that are too large, not JSON or invalid before quoting", async () => {
    const app = api();
    const post = (body: string, headers: Record<string, string> = {}) =>
      app.request(providerApiPaths.quote, { method: "POST", body, headers });
    expect(await errorOf(await post("{", { "content-length": String(MAX_QUOTE_BODY + 1) }))).toEqual({
      status: 413,
      body: {
        error: { status: 413, message: `body: ${MAX_QUOTE_BODY + 1} bytes is over the limit of ${MAX_QUOTE_BODY}` },
      },
    });
    expect((await errorOf(await post("{"))).body.error.message).toBe("body: not valid JSON");
    const invalid = await errorOf(await post("{}"));
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.issues?.map((i) => i.path)).toEqual(["specHash", "resources"]);
    const valid = {
      specHash: `0x${"ab".repeat(32)}`,
      resources: { cpuMillis: 1, memoryMiB: 1, storageMiB: 0 },
      publisher: publisher.address,
    };
    expect(await errorOf(await post(JSON.stringify(valid)))).toEqual({
      status: 503,
      body: { error: { status: 503, message: "provider: not registered or paused, not taking leases" } },
    });
  });
});

describe("blob routes", () => {
  it("stores a signed upload under its content id and serves it publicly", async () => {
    const app = api();
    const bytes = new TextEncoder().encode("ciphertext");
    const id = contentId(bytes);
    const upload = async () => {
      const request = await signed(providerApiPaths.leaseBlob(7n, id), { method: "PUT" });
      return app.request(new Request(request, { body: bytes }));
    };
    const first = await upload();
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ cid: id, bytes: bytes.length, created: true });
    expect((await upload()).status).toBe(200);

    const download = await app.request(providerApiPaths.blob(id));
    expect(download.headers.get("content-length")).toBe(String(bytes.length));
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(bytes);
    const head = await app.request(providerApiPaths.blob(id), { method: "HEAD" });
    expect([head.status, head.headers.get("content-length")]).toEqual([200, String(bytes.length)]);
  });

  /** `text` stored as a blob uploaded for lease 6 (e.g. by the same publisher's earlier lease), not for lease 7. */
  async function storedForLease6(text: string) {
    const bytes = new TextEncoder().encode(text);
    const id = contentId(bytes);
    await ctx.blobs.write(
      id,
      (async function* () {
        yield bytes;
      })(),
      4096,
    );
    ctx.state.data.leaseBlobs["6"] = { [id]: bytes.length };
    return { bytes, id };
  }

  it("records a blob another lease stored as this lease's upload too, so collecting the other's keeps it", async () => {
    const app = api();
    const { bytes, id } = await storedForLease6("shared ciphertext");
    const request = await signed(providerApiPaths.leaseBlob(7n, id), { method: "PUT" });
    const answer = await app.request(new Request(request, { body: bytes }));
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ cid: id, bytes: bytes.length, created: false });
    expect(ctx.state.data.leaseBlobs["7"]).toEqual({ [id]: bytes.length });
  });

  it("keeps a stored blob that a lease uploads again while blob collection drops the lease that stored it", async () => {
    const app = api();
    const { bytes, id } = await storedForLease6("ciphertext of a closed lease");
    // Lease 6 closed long ago: blob collection drops its uploads.
    ctx.state.data.leases["6"] = { ...ctx.state.data.leases["7"], id: "6", status: "closed", closedAt: 1 } as never;
    Object.assign(ctx.config, { blobRetentionSec: 60 });
    Object.assign(ctx, { manifests: { list: () => [] } });
    // Lease 7 uploads the same blob; its body arrives only once collection has run.
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let collectionRan: () => void = () => undefined;
    const bodyStarted = new Promise<void>((resolve) => {
      collectionRan = resolve;
    });
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          collectionRan();
          await released;
          controller.enqueue(bytes);
          controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    const request = await signed(providerApiPaths.leaseBlob(7n, id), { method: "PUT" });
    const answer = app.request(new Request(request, { body, duplex: "half" } as RequestInit));
    await bodyStarted;
    collectBlobs(ctx, 3_600_000);
    release();
    expect((await answer).status).toBe(200);
    expect(ctx.state.data.leaseBlobs["7"]).toEqual({ [id]: bytes.length });
    expect(ctx.blobs.has(id)).toBe(true);
  });

  it("refuses bytes that do not hash to the content id, a bad id, and someone else's lease", async () => {
    const app = api();
    const wrong = await signed(providerApiPaths.leaseBlob(7n, cid), { method: "PUT" });
    const mismatch = await errorOf(await app.request(new Request(wrong, { body: "other bytes" })));
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error.message).toContain(cid);
    expect(await errorOf(await app.request(providerApiPaths.blob("nope")))).toEqual({
      status: 400,
      body: { error: { status: 400, message: 'cid: "nope" is not a content id (CIDv1, raw, sha2-256)' } },
    });
    const notYours = await signed(providerApiPaths.leaseBlob(7n, cid), { method: "PUT" }, stranger);
    expect((await errorOf(await app.request(new Request(notYours, { body: "x" })))).status).toBe(403);
  });
});

describe("lease routes", () => {
  it("answers the lease's publisher, and refuses others, other providers' leases and bad ids", async () => {
    const app = api();
    const events = await app.request(await signed(providerApiPaths.events(7n)));
    expect(events.status).toBe(200);
    expect(await events.json()).toEqual({ events: [{ at: 1, type: "manifest", message: "received" }] });
    expect(await errorOf(await app.request(await signed(providerApiPaths.events(7n), {}, stranger)))).toEqual({
      status: 403,
      body: { error: { status: 403, message: `lease 7: ${stranger.address} is not its publisher` } },
    });
    expect((await errorOf(await app.request(await signed(providerApiPaths.usage(8n))))).body.error.message).toBe(
      "lease 8: not a lease of this provider",
    );
    expect((await errorOf(await app.request(await signed("/v1/leases/abc/events")))).body.error.message).toBe(
      'leaseId: "abc" is not a lease id',
    );
    const usage = await app.request(await signed(providerApiPaths.usage(7n)));
    expect(await usage.json()).toEqual({ leaseId: "7", containers: [] });
  });

  it("checks the logs' tail and finds no container in an empty pod", async () => {
    const app = api();
    const badTail = await app.request(await signed(`${providerApiPaths.logs(7n)}?tail=x`));
    expect((await errorOf(badTail)).body.error.message).toBe("tail: must be a whole number of lines");
    const none = await errorOf(await app.request(await signed(`${providerApiPaths.logs(7n)}?container=web`)));
    expect(none).toEqual({
      status: 404,
      body: { error: { status: 404, message: "container: no container web (replica 0) in lease 7" } },
    });
  });
});

describe("manifest route", () => {
  it("verifies the signature over the body and refuses an invalid upload before storing anything", async () => {
    const app = api();
    const body = JSON.stringify({ manifest: { version: 1 } });
    const request = await signed(providerApiPaths.manifest(7n), { method: "PUT", body });
    const invalid = await errorOf(await app.request(request));
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.issues?.length).toBeGreaterThan(0);
    // The same headers over another body: the signature covers the body.
    const swapped = await signed(providerApiPaths.manifest(7n), { method: "PUT", body });
    const tampered = await errorOf(await app.request(new Request(swapped, { body: `${body} ` })));
    expect(tampered.status).toBe(401);
    expect(tampered.body.error.message).toContain("does not match");
  });
});

describe("dispute routes", () => {
  it("serves the stored evidence byte for byte, 404 when there is none", async () => {
    const app = api();
    expect(await errorOf(await app.request(providerApiPaths.disputeEvidence(3n)))).toEqual({
      status: 404,
      body: { error: { status: 404, message: "no evidence for dispute 3" } },
    });
    mkdirSync(join(dataDir, "evidence"));
    writeFileSync(join(dataDir, "evidence", "3.json"), '{"a": 1}');
    const evidence = await app.request(providerApiPaths.disputeEvidence(3n));
    expect([evidence.status, evidence.headers.get("content-type"), await evidence.text()]).toEqual([
      200,
      "application/json",
      '{"a": 1}',
    ]);
  });
});

describe("hostile callers", () => {
  it("cuts a chunked body without a length off at the route's limit", async () => {
    const body = endlessBody();
    const response = await api().request(providerApiPaths.quote, {
      method: "POST",
      body: body.stream,
      duplex: "half",
    } as RequestInit);
    expect(await errorOf(response.clone())).toEqual({
      status: 413,
      body: { error: { status: 413, message: `body: over the limit of ${MAX_QUOTE_BODY} bytes` } },
    });
    expect(body.pulled()).toBeLessThanOrEqual(MAX_QUOTE_BODY + 128 * 1024);
  });

  it("closes the connection after answering a GET that came with a body", async () => {
    const app = api();
    const withBody = await app.request(providerApiPaths.attestation, { headers: { "transfer-encoding": "chunked" } });
    expect([withBody.status, withBody.headers.get("connection")]).toEqual([200, "close"]);
    const plain = await app.request(providerApiPaths.attestation);
    expect(plain.headers.get("connection")).toBeNull();
  });

  it("refuses a manifest from a stranger before reading its body, and a forged one after reading at most the limit", async () => {
    const path = providerApiPaths.manifest(7n);
    const stranger_ = await signed(path, { method: "PUT", body: "{}" }, stranger);
    const body = endlessBody();
    const refused = await api().request(new Request(stranger_, { body: body.stream, duplex: "half" } as RequestInit));
    expect((await errorOf(refused)).status).toBe(403);
    expect(body.pulled()).toBe(0);
    expect(chainReads).toEqual([]);
    const forged = await signed(path, { method: "PUT", body: "{}" });
    const big = endlessBody();
    const cut = await api().request(new Request(forged, { body: big.stream, duplex: "half" } as RequestInit));
    expect((await errorOf(cut)).status).toBe(413);
    expect(big.pulled()).toBeLessThanOrEqual(MAX_JSON_BODY + 128 * 1024);
  });

  it("costs an unknown signer no eth_call, and a publisher one per lease while the lease is unchanged", async () => {
    const app = api();
    for (let i = 0; i < 3; i++) {
      expect((await app.request(await signed(providerApiPaths.status(7n), {}, stranger))).status).toBe(403);
    }
    // Whether the publisher is a contract (which could vouch for the stranger) is asked once, then remembered.
    expect(codeReads).toEqual([publisher.address]);
    // The follower has seen lease 8 created for another provider: answered from the worker's own records.
    ctx.state.data.lastLeaseId = "8";
    expect((await errorOf(await app.request(await signed(providerApiPaths.status(8n))))).status).toBe(404);
    expect(chainReads).toEqual([]);
    for (let i = 0; i < 3; i++) expect((await app.request(await signed(providerApiPaths.events(7n)))).status).toBe(200);
    expect(chainReads).toEqual([7n]);
    // The follower applies a change to the lease: the cached chain view lapses.
    (ctx.state.data.leases["7"] as { specHash: string }).specHash = `0x${"cd".repeat(32)}`;
    expect((await app.request(await signed(providerApiPaths.events(7n)))).status).toBe(200);
    expect(chainReads).toEqual([7n, 7n]);
  });

  it("refuses a replay after a restart, even one signed ahead of the clock", async () => {
    const at = Math.floor(Date.now() / 1000) + 30;
    const request = await signed(providerApiPaths.events(7n), {}, publisher, at);
    expect((await api().request(request.clone())).status).toBe(200);
    expect((await api().request(request.clone())).status).toBe(401);
    const restarted = await errorOf(await api().request(request.clone()));
    expect(restarted).toEqual({
      status: 401,
      body: { error: { status: 401, message: "x-podnet-timestamp: signed before the provider restarted, sign again" } },
    });
  });

  it("rate-limits anonymous routes per source with Retry-After, and signed routes only for refused requests", async () => {
    const app = api({ rateLimit: { perSecond: 1, burst: 5 }, quotesPerSecond: 0 });
    for (let i = 0; i < 5; i++) expect((await app.request(providerApiPaths.attestation)).status).toBe(200);
    const limited = await app.request(providerApiPaths.health);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await errorOf(limited)).body.error.message).toMatch(/^rate limit: too many requests from this address/);

    const publisherApp = api({ rateLimit: { perSecond: 1, burst: 5 }, quotesPerSecond: 0 });
    for (let i = 0; i < 10; i++) {
      expect((await publisherApp.request(await signed(providerApiPaths.events(7n)))).status).toBe(200);
    }
    for (let i = 0; i < 5; i++) {
      expect((await publisherApp.request(await signed(providerApiPaths.events(7n), {}, stranger))).status).toBe(403);
    }
    expect((await publisherApp.request(await signed(providerApiPaths.events(7n)))).status).toBe(429);
  });

  it("caps the quotes the whole worker signs per second, whoever asks (503 with Retry-After)", async () => {
    Object.assign(ctx, {
      profile: {
        active: true,
        capacity: { cpuMillis: 1000, memoryMiB: 1024, storageMiB: 1024 },
        pricing: { perCpuMilli: 1n, perMemoryMiB: 1n, perStorageMiB: 1n, flat: 0n },
      },
      params: { heartbeatThreshold: 600 },
      chainNow: () => Math.floor(Date.now() / 1000),
      config: { ...ctx.config, quoteTtlSec: 300 },
    });
    (ctx.state.data as { liveness?: object }).liveness = {};
    const app = api({ rateLimit: { perSecond: 0, burst: 1 }, quotesPerSecond: 2 });
    const ask = () =>
      app.request(providerApiPaths.quote, {
        method: "POST",
        body: JSON.stringify({
          specHash: `0x${"ab".repeat(32)}`,
          resources: { cpuMillis: 10, memoryMiB: 10, storageMiB: 0 },
          publisher: publisher.address,
        }),
      });
    expect([(await ask()).status, (await ask()).status]).toEqual([200, 200]);
    const refused = await ask();
    expect([refused.status, refused.headers.get("retry-after")]).toEqual([503, "1"]);
    expect((await errorOf(refused)).body.error.message).toBe(
      "quotes: this provider signs at most 2 a second, retry in 1 s",
    );
  });

  it("leaves the state untouched when a blob upload is refused", async () => {
    const path = providerApiPaths.leaseBlob(7n, cid);
    const before = JSON.stringify(ctx.state.data);
    const tooBig = await signed(path, { method: "PUT" });
    const response = await api().request(
      new Request(tooBig, { body: endlessBody().stream, duplex: "half" } as RequestInit),
    );
    expect((await errorOf(response)).status).toBe(413);
    expect(JSON.stringify(ctx.state.data)).toBe(before);
  });
});
