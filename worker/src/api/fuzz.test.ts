import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import {
  type ApiErrorBody,
  deriveEncryptionKeyPair,
  encodeWrappedKey,
  manifestHash,
  type PodManifestInput,
  type ProviderApiRoute,
  providerApiRoutes,
  requestHeaders,
  requestTypedData,
  sealBlob,
  wrapKey,
} from "@podnet/sdk/protocol";
import fc from "fast-check";
import { type Address, bytesToHex, getAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import type { WorkerContext } from "../context.js";
import { RouteTable } from "../pods/routes.js";
import { BlobStore } from "../store/blob-store.js";
import { ManifestStore } from "../store/manifest-store.js";
import { WorkerState } from "../store/worker-state.js";
import { createApi } from "./app.js";
import { MAX_JSON_BODY } from "./body.js";
import { stubContextBase, stubEngineInfo, stubReconciler } from "./stub-context.js";

/**
 * Property-based fuzzing (fast-check) of every route of the provider API's table, against the real Hono app with the
 * real stores (worker state, blobs, manifests, the nonce store and its mark) in a temp dir. Only the chain and Docker
 * are stubbed, as in app.test.ts; what needs them for real is covered end to end in test/. Generated: path
 * parameters, query strings, signature headers (none, the publisher's, a stranger's, garbage, skewed, tampered,
 * replayed) and bodies (none, random text and bytes, random JSON, valid requests with one field replaced by anything,
 * bodies past the limit). For every case: never a 5xx, never an error the app does not answer, and a 4xx changes no
 * state. The seed is fixed; PODNET_FUZZ_RUNS (default 200) sets the cases per route (the long run: `npm run bench`
 * sets more, see docs/worker.md).
 */

const RUNS = Number(process.env.PODNET_FUZZ_RUNS ?? 200);
const SEED = 15_2026;
/** A signed case takes a signature and a recovery (several ms each on the CI's 2 cores). */
const TIMEOUT_MS = 60_000 + RUNS * 150;

const providerKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const provider = privateKeyToAccount(providerKey);
const publisher = privateKeyToAccount("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const stranger = privateKeyToAccount("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");
const otherProvider: Address = getAddress("0x90f79bf6eb2c4f870365e785982e1f101e93b906");
const market: Address = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
const chainId = 31337;

let dataDir: string;
let ctx: WorkerContext;
let app: ReturnType<typeof createApi>;
/** The image blob stored here, its content key, and a manifest for lease 7 that uses it (its spec is lease 7's). */
let image: { cid: string; key: Uint8Array; ciphertext: Uint8Array };
let manifest: PodManifestInput;
let manifestUpload: Record<string, unknown>;
/** A blob not stored yet, with its bytes: a valid upload. */
let fresh: { cid: string; ciphertext: Uint8Array };

/**
 * Leases on the stub chain: 7 (active) and 9 (closed) are this provider's with `publisher`, 8 and 13 another
 * provider's; 12 is the newest the follower has seen; every other id does not exist.
 */
function getLease(id: bigint) {
  const lease = { provider: provider.address, publisher: publisher.address, specHash: manifestHash(manifest) };
  if (id === 7n) return { ...lease, status: 1 };
  if (id === 9n) return { ...lease, status: 2 };
  if (id === 8n || id === 13n) return { ...lease, provider: otherProvider, status: 1 };
  return { ...lease, status: 0 };
}

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), "podnet-fuzz-"));
  const config = loadConfig({ env: { PODNET_PROVIDER_KEY: providerKey, PODNET_DATA_DIR: dataDir }, argv: [] });
  const state = WorkerState.open(dataDir, { chainId, provider: provider.address, market }, 1);
  const encryption = deriveEncryptionKeyPair(providerKey);
  const blobs = new BlobStore(dataDir, 1024 * 1024);
  image = sealBlob(new TextEncoder().encode("an image tarball, as far as the API can tell"));
  fresh = sealBlob(new TextEncoder().encode("a blob nobody uploaded yet"));
  manifest = {
    version: 1,
    containers: [{ name: "web", image: `blob:${image.cid}`, resources: { cpuMillis: 100, memoryMiB: 32 } }],
    expose: { http: [{ container: "web", port: 8080 }] },
  };
  manifestUpload = { manifest, keys: { [image.cid]: encodeWrappedKey(wrapKey(image.key, encryption.publicKey)) } };
  const record = (id: string, status: "active" | "closed") => ({
    id,
    publisher: publisher.address,
    orderId: "0",
    specHash: manifestHash(manifest),
    resources: { cpuMillis: 500, memoryMiB: 512, storageMiB: 100 },
    pricePerSecond: "1",
    startedAt: 1,
    status,
  });
  state.data.leases = { "7": record("7", "active"), "9": record("9", "closed") };
  state.data.lastLeaseId = "12";
  const container = {
    id: "c7",
    name: "podnet-l7-web-0",
    leaseId: 7n,
    specHash: manifestHash(manifest),
    container: "web",
    replica: 0,
    state: "running",
    httpPorts: {},
    tcpPorts: {},
    image: "sha256:00",
    createdAt: 1,
  };
  ctx = {
    config,
    chain: {
      account: provider,
      chainId,
      deployment: { contracts: { podnetMarket: { address: market } }, deployBlock: 1 },
      publicClient: {
        readContract: async ({ args }: { args: [bigint] }) => getLease(args[0]),
        // Every publisher here is an account without code: ERC-1271 is test/vault-signing.test.ts's.
        getCode: async () => undefined,
        getContractEvents: async () => [],
      },
    },
    state,
    manifests: new ManifestStore(dataDir),
    blobs,
    runtime: {
      ping: async () => undefined,
      info: stubEngineInfo,
      listContainers: async () => [container],
      stats: async () => ({
        cpuNanos: 1n,
        cpuPercent: 0,
        memoryBytes: 1,
        memoryLimitBytes: 2,
        rxBytes: 0,
        txBytes: 0,
        pids: 1,
      }),
      logs: async function* () {
        yield { stream: "stdout", text: "GET /" };
        yield { stream: "stderr", text: "done" };
      },
    },
    ...stubContextBase(),
    profile: {
      active: true,
      registered: true,
      capacity: { cpuMillis: 4000, memoryMiB: 8192, storageMiB: 100_000 },
      pricing: { perCpuMilli: 1n, perMemoryMiB: 1n, perStorageMiB: 1n, flat: 0n },
    },
    params: { heartbeatThreshold: 600 },
    encryption,
    chainNow: () => Math.floor(Date.now() / 1000),
    reconcileLease: async () => undefined,
  } as unknown as WorkerContext;
  const reconciler = stubReconciler();
  // No rate limits: they answer 429 to a fuzzer that asks this fast, and it is the routes behind them under test.
  app = createApi(ctx, reconciler, new RouteTable("pods.localhost"), {
    rateLimit: { perSecond: 0, burst: 1 },
    quotesPerSecond: 0,
  });
  mkdirSync(join(dataDir, "evidence"));
  writeFileSync(join(dataDir, "evidence", "7.json"), '{"lease":"7"}');
  return blobs
    .write(
      image.cid,
      (async function* () {
        yield image.ciphertext;
      })(),
    )
    .then(() => undefined);
});

afterAll(() => {
  // Flushes the state's pending save first: its timer would write into the removed dir.
  ctx.state.saveNow();
  rmSync(dataDir, { recursive: true, force: true });
});

/** What "state" means here: the worker's state and every file of its data dir, but for the replay mark. */
function snapshot(): { state: string; files: Record<string, string> } {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(dataDir, path)] = createHash("sha256").update(readFileSync(path)).digest("hex");
    }
  };
  walk(dataDir);
  // The nonce store's mark moves with every accepted signature (that is its job, not a change of the worker's
  // state), and state.json is the state below, written a moment later.
  delete files["request-mark.json"];
  delete files["state.json"];
  return { state: JSON.stringify(ctx.state.data), files };
}

// ---------------------------------------------------------------- arbitraries

const anyText = fc.string({ unit: "grapheme", maxLength: 40 });

/** Mostly lease 7, the publisher's active lease: cases must get past the id to reach the deeper checks. */
const leaseIdArb = fc.oneof(
  { weight: 5, arbitrary: fc.constant("7") },
  { weight: 2, arbitrary: fc.constantFrom("9", "8", "12", "13", "99") },
  fc.bigInt({ min: -5n, max: 2n ** 70n }).map(String),
  fc.constantFrom("0", "007", "1e3", "7.0", " 7", "-1", "9".repeat(40), "..", "%2e", "7%00"),
  anyText,
);

const cidArb = () =>
  fc.oneof(
    fc.constant(image.cid),
    fc.constant(fresh.cid),
    fc.constantFrom("bafkrei", "..", "Qm", `${image.cid}x`, image.cid.toUpperCase()),
    anyText,
  );

const queryArb = fc.dictionary(fc.constantFrom("tail", "follow", "container", "replica", "x", ""), anyText, {
  maxKeys: 4,
});

/** A JSON value with one leaf (or the whole) replaced by anything: near-valid bodies reach the deep checks. */
function mutated(value: unknown) {
  const paths: (string | number)[][] = [[]];
  const collect = (v: unknown, path: (string | number)[]) => {
    if (v && typeof v === "object") {
      for (const [k, child] of Object.entries(v)) {
        const next = [...path, Array.isArray(v) ? Number(k) : k];
        paths.push(next);
        collect(child, next);
      }
    }
  };
  collect(value, []);
  return fc.tuple(fc.nat({ max: paths.length - 1 }), fc.jsonValue({ maxDepth: 3 })).map(([i, replacement]) => {
    const path = paths[i] as (string | number)[];
    if (path.length === 0) return replacement;
    const copy = structuredClone(value) as Record<string | number, unknown>;
    let node = copy;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    node[path[path.length - 1] as string | number] = replacement;
    return copy;
  });
}

/** Bodies: `json` is what a valid body of the route looks like. Undefined: no body; a number: that many bytes, streamed. */
function bodyArb(json: unknown) {
  return fc.oneof(
    fc.constant(undefined),
    fc.constant(JSON.stringify(json)),
    mutated(json).map((v) => JSON.stringify(v)),
    fc.json({ maxDepth: 4 }),
    anyText,
    fc.uint8Array({ maxLength: 2048 }),
    fc.constantFrom("[".repeat(5000), "{".repeat(5000), `"${"\\u0000".repeat(100)}"`, "\u0000", "null", "1e999"),
    fc.constantFrom(MAX_JSON_BODY + 1, 2 * 1024 * 1024),
  );
}

type Body = string | Uint8Array | number | undefined;

const validQuote = () => ({
  specHash: manifestHash(manifest),
  resources: { cpuMillis: 100, memoryMiB: 32, storageMiB: 0 },
  publisher: publisher.address,
});

function routeBodyArb(name: string): fc.Arbitrary<Body> {
  if (name === "quote") return bodyArb(validQuote());
  if (name === "manifest") return bodyArb(manifestUpload);
  if (name === "leaseBlob") {
    return fc.oneof(
      fc.constant(fresh.ciphertext),
      fc.constant(image.ciphertext),
      fc.uint8Array({ maxLength: 4096 }),
      fc.constant(undefined),
      fc.constant(2 * 1024 * 1024),
    );
  }
  // GET routes: mostly none, sometimes a body anyway.
  return fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: anyText });
}

type Auth =
  | { kind: "none" }
  | { kind: "publisher" | "stranger" | "tampered" | "replay"; nonce: Uint8Array }
  | { kind: "skewed"; nonce: Uint8Array; offset: number }
  | { kind: "garbage"; values: [string, string, string, string] };

const authArb: fc.Arbitrary<Auth> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("publisher" as const),
      nonce: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    }),
  },
  fc.constant({ kind: "none" as const }),
  fc.record({
    kind: fc.constantFrom("stranger" as const, "tampered" as const, "replay" as const),
    nonce: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  }),
  fc.record({
    kind: fc.constant("skewed" as const),
    nonce: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    offset: fc.integer({ min: -100_000, max: 100_000 }),
  }),
  fc.record({ kind: fc.constant("garbage" as const), values: fc.tuple(anyText, anyText, anyText, anyText) }),
);

interface Case {
  method: string;
  params: Record<string, string>;
  query: Record<string, string>;
  body: Body;
  auth: Auth;
}

function caseArb(name: string, route: ProviderApiRoute): fc.Arbitrary<Case> {
  const params: Record<string, fc.Arbitrary<string>> = {};
  for (const p of route.pattern.match(/:[A-Za-z]+/g) ?? []) params[p.slice(1)] = p === ":cid" ? cidArb() : leaseIdArb;
  return fc.record({
    method: fc.oneof(
      { weight: 9, arbitrary: fc.constant(route.method) },
      fc.constantFrom("GET", "PUT", "POST", "HEAD", "DELETE"),
    ),
    params: fc.record(params),
    query: route.method === "GET" ? queryArb : fc.constant({}),
    body: routeBodyArb(name),
    auth: route.signed ? authArb : fc.oneof({ weight: 4, arbitrary: fc.constant({ kind: "none" as const }) }, authArb),
  });
}

// ---------------------------------------------------------------- requests

/** The last request the publisher signed, replayed by `replay` cases. */
let lastSigned: Record<string, string> | undefined;

/** An endless-looking body of `bytes` bytes, generated as it is read. */
function streamOf(bytes: number) {
  let left = bytes;
  const chunk = new Uint8Array(64 * 1024).fill(0x5b);
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (left <= 0) return controller.close();
        const piece = chunk.subarray(0, Math.min(chunk.length, left));
        left -= piece.length;
        controller.enqueue(piece);
      },
    },
    { highWaterMark: 0 },
  );
}

async function buildRequest(name: string, route: ProviderApiRoute, c: Case): Promise<Request> {
  let path = route.pattern;
  for (const [key, value] of Object.entries(c.params)) path = path.replace(`:${key}`, encodeURIComponent(value));
  const search = new URLSearchParams(c.query).toString();
  const pathWithQuery = search ? `${path}?${search}` : path;
  const bodyless = c.method === "GET" || c.method === "HEAD";
  const body = bodyless ? undefined : c.body;
  const signedBody = name === "leaseBlob" || typeof body === "number" ? undefined : body;
  const headers: Record<string, string> = {};
  const sign = async (
    account: typeof publisher,
    nonce: Uint8Array,
    at: number,
    fields = { path: pathWithQuery, body: signedBody },
  ) => {
    const typed = requestTypedData(
      chainId,
      { provider: provider.address, method: c.method, ...fields },
      at,
      bytesToHex(nonce),
    );
    return {
      [requestHeaders.signer]: account.address,
      [requestHeaders.timestamp]: String(at),
      [requestHeaders.nonce]: bytesToHex(nonce),
      [requestHeaders.signature]: await account.signTypedData(typed),
    };
  };
  const now = Math.floor(Date.now() / 1000);
  switch (c.auth.kind) {
    case "none":
      break;
    case "publisher":
      Object.assign(headers, await sign(publisher, c.auth.nonce, now));
      lastSigned = { ...headers };
      break;
    case "stranger":
      Object.assign(headers, await sign(stranger, c.auth.nonce, now));
      break;
    case "tampered":
      Object.assign(headers, await sign(publisher, c.auth.nonce, now, { path: `${pathWithQuery}x`, body: signedBody }));
      break;
    case "replay":
      Object.assign(headers, lastSigned ?? (await sign(publisher, c.auth.nonce, now)));
      break;
    case "skewed":
      Object.assign(headers, await sign(publisher, c.auth.nonce, Math.max(0, now + c.auth.offset)));
      break;
    case "garbage": {
      const names = [requestHeaders.signer, requestHeaders.timestamp, requestHeaders.nonce, requestHeaders.signature];
      // Header values cannot hold every character: keep what HTTP allows.
      names.forEach((n, i) => {
        headers[n] = (c.auth as { values: string[] }).values[i]?.replace(/[^\t\x20-\x7e]/g, "") ?? "";
      });
      break;
    }
  }
  const init: RequestInit & { duplex?: "half" } = { method: c.method, headers };
  if (typeof body === "number") {
    init.body = streamOf(body);
    init.duplex = "half";
  } else if (body !== undefined) {
    init.body = body as string | Uint8Array<ArrayBuffer>;
  }
  return new Request(`http://provider.test${pathWithQuery}`, init);
}

// ---------------------------------------------------------------- the properties

describe("provider API fuzz", () => {
  for (const [index, [name, route]] of Object.entries(providerApiRoutes).entries()) {
    it(
      `${route.method} ${route.pattern}: never a 5xx, never a crash, no state change on a 4xx (${RUNS} cases)`,
      async () => {
        const statuses = new Map<number, number>();
        await fc.assert(
          fc.asyncProperty(caseArb(name, route), async (c) => {
            const request = await buildRequest(name, route, c);
            const before = snapshot();
            const response = await app.request(request);
            const text = await response.text();
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
            expect(response.status, text).toBeLessThan(500);
            if (response.status >= 400) {
              // Every refusal is the protocol's error body, naming what is wrong.
              if (c.method !== "HEAD") {
                const error = (JSON.parse(text) as ApiErrorBody).error;
                expect(error.status).toBe(response.status);
                expect(error.message.length).toBeGreaterThan(0);
              }
              expect(snapshot()).toEqual(before);
            }
          }),
          // One seed per route: the same seed would sign with the same nonces, which the shared nonce store refuses.
          { seed: SEED + index, numRuns: RUNS },
        );
        // The generators reach past the first checks: some cases succeed (the logs route streams them).
        console.log(`${route.method} ${route.pattern}: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
        expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
      },
      TIMEOUT_MS,
    );
  }
});
