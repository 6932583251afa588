/**
 * The provider API under hostile callers, on real parts: anvil with the real contracts, the worker as a child process
 * (`podnet-worker run`) and a real Docker Engine. (a) Chunked bodies of 3 GB, generated on the fly, to the anonymous
 * quote route and to the signed manifest route are cut off with 413 while the worker stays small; (b) a flood of
 * anonymous quotes for the provider's whole free capacity, from one source and from many, leaves a paying publisher
 * able to lease and run its pod, and a lease made later from one of those quotes is refused at manifest time with
 * the resource named.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  body,
  clients,
  Devnet,
  fundedPublisher,
  localDocker,
  type Publisher,
  type RunningProvider,
  type SealedBlob,
  sealTestImage,
  waitFor,
} from "@podnet/devnet";
import {
  manifestHash,
  manifestResources,
  type PodManifestInput,
  parseManifest,
  podnetMarketAbi,
  providerApiPaths,
  type QuoteResponse,
  quoteFromResponse,
  signRequest,
} from "@podnet/sdk/protocol";
import { parseEventLogs } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const docker = localDocker();
const PAGE = "hello chaos";
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
/** What the worker may hold resident while it is being flooded (the bound). */
const RSS_LIMIT = 300 * MiB;
const capacity = { cpuMillis: 2000, memoryMiB: 2048, storageMiB: 10_000 };

let devnet: Devnet;
let P: RunningProvider;
let image: SealedBlob;
/** Pays for its pod; its first lease (made before any flood) is the target of the signed 3 GB manifest. */
let alice: Publisher;
/** Asks for the quotes of the flood, then pays for one of them after alice's pod runs. */
let mallory: Publisher;
let waitingLease: bigint;

function podManifest(cpuMillis: number, memoryMiB: number): PodManifestInput {
  return {
    version: 1,
    containers: [{ name: "web", image: `blob:${image.cid}`, resources: { cpuMillis, memoryMiB } }],
    expose: { http: [{ container: "web", port: 8080 }] },
  };
}

/** The worker's resident set in bytes (VmRSS of its process); Infinity once the process is gone. */
function workerRss(): number {
  const worker = P.worker.process;
  if (worker.exitCode !== null || worker.signalCode !== null) return Number.POSITIVE_INFINITY;
  try {
    const status = readFileSync(`/proc/${worker.pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * Samples the worker's RSS every 50 ms while `work` runs; resolves with the work's result, the peak, and whether the
 * worker process is still alive afterwards.
 */
async function peakRssDuring<T>(work: () => Promise<T>): Promise<{ result: T; peak: number; alive: boolean }> {
  let peak = workerRss();
  const timer = setInterval(() => {
    peak = Math.max(peak, workerRss());
  }, 50);
  try {
    const result = await work();
    const now = workerRss();
    return { result, peak: Math.max(peak, now), alive: Number.isFinite(now) };
  } finally {
    clearInterval(timer);
  }
}

interface StreamOutcome {
  /** The status the worker answered with, if it answered before the connection ended. */
  status?: number;
  body: string;
  /** Bytes the client wrote before the worker answered or closed the connection. */
  sent: number;
  /** The connection failed (reset, closed) before a complete answer arrived. */
  error?: string;
}

/**
 * Sends `total` bytes as a chunked body (no content-length), generated on the fly in 64 KiB pieces, and stops as
 * soon as the worker answers or closes the connection. Gives up after `timeoutMs`.
 */
function streamChunked(
  url: string,
  method: string,
  headers: Record<string, string>,
  total: number,
  { localAddress, timeoutMs = 60_000 }: { localAddress?: string; timeoutMs?: number } = {},
): Promise<StreamOutcome> {
  const piece = Buffer.alloc(64 * 1024, 0x7b); // "{{{{...": not JSON, whatever length
  return new Promise((resolve) => {
    const outcome: StreamOutcome = { body: "", sent: 0 };
    let done = false;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (error && outcome.status === undefined) outcome.error = error;
      req.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish(`no answer within ${timeoutMs} ms (${outcome.sent} bytes sent)`), timeoutMs);
    const req = request(url, { method, headers: { ...headers, "transfer-encoding": "chunked" }, localAddress });
    req.on("response", (res) => {
      outcome.status = res.statusCode;
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        outcome.body += chunk;
      });
      res.on("end", () => finish());
      res.on("error", (e) => finish(e.message));
    });
    req.on("error", (e) => finish(e.message));
    req.on("close", () => finish("connection closed"));
    const pump = () => {
      while (!done && outcome.sent < total) {
        outcome.sent += piece.length;
        if (!req.write(piece)) {
          req.once("drain", pump);
          return;
        }
      }
      if (!done && outcome.sent >= total) req.end();
    };
    pump();
  });
}

/** POSTs a quote request from `localAddress`; resolves with the status, the Retry-After header and the body. */
function quoteFrom(agent: Agent, localAddress: string, body: unknown) {
  const url = new URL(providerApiPaths.quote, P.worker.apiUrl);
  const text = JSON.stringify(body);
  return new Promise<{ status: number; retryAfter: string | undefined; body: string }>((resolve, reject) => {
    const req = request(url, {
      method: "POST",
      agent,
      localAddress,
      headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) },
    });
    req.on("response", (res) => {
      let data = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        data += chunk;
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: res.headers["retry-after"] as string | undefined,
          body: data,
        }),
      );
    });
    req.on("error", reject);
    req.end(text);
  });
}

beforeAll(async () => {
  devnet = await Devnet.start({ dir: mkdtempSync(join(tmpdir(), "podnet-chaos-api-")) });
  image = await sealTestImage(docker, "podnet-test/chaos-api:1", { page: PAGE });
  devnet.untagBlobOnStop(image.cid);
  P = await devnet.startProvider({ index: 106, capacity });
  alice = await fundedPublisher(devnet.chain, 42);
  mallory = await fundedPublisher(devnet.chain, 43);
  // A lease still waiting for its manifest: the signed 3 GB upload below goes to it.
  ({ leaseId: waitingLease } = await alice.lease(P.worker.apiUrl, podManifest(100, 32), 3600n));
}, 240_000);

afterAll(() => devnet?.stop());

describe("chaos: bodies", () => {
  it("cuts a chunked 3 GB body to POST /v1/quote off with 413, the worker staying under 300 MiB", async () => {
    const { result, peak, alive } = await peakRssDuring(() =>
      streamChunked(
        `${P.worker.apiUrl}${providerApiPaths.quote}`,
        "POST",
        { "content-type": "application/json" },
        3 * GiB,
        {
          localAddress: "127.0.0.50",
        },
      ),
    );
    console.log(
      `quote: ${result.status ?? result.error} after ${Math.round(result.sent / MiB)} MiB sent; peak RSS ${Math.round(peak / MiB)} MiB`,
    );
    expect(alive, "the worker process died").toBe(true);
    expect(result.status, result.error).toBe(413);
    expect(JSON.parse(result.body).error.message).toMatch(/^body: /);
    expect(peak).toBeLessThan(RSS_LIMIT);
  });

  it("cuts a chunked 3 GB manifest upload off: 401 unread when unsigned, 413 when signed by the lease's publisher", async () => {
    const path = providerApiPaths.manifest(waitingLease);
    const url = `${P.worker.apiUrl}${path}`;
    const json = { "content-type": "application/json" };
    const { result: unsigned, peak: peakUnsigned } = await peakRssDuring(() =>
      streamChunked(url, "PUT", json, 3 * GiB, { localAddress: "127.0.0.51" }),
    );
    expect(unsigned.status, unsigned.error).toBe(401);
    // Signed over a small body; the worker cannot know the body differs before it has read it, and stops at its limit.
    const headers = await signRequest(alice.account, 31337, { provider: P.address, method: "PUT", path, body: "{}" });
    const { result: signed, peak } = await peakRssDuring(() =>
      streamChunked(url, "PUT", { ...json, ...headers }, 3 * GiB, { localAddress: "127.0.0.52" }),
    );
    console.log(
      `manifest: unsigned ${unsigned.status} after ${Math.round(unsigned.sent / MiB)} MiB, signed ${signed.status ?? signed.error} after ${Math.round(signed.sent / MiB)} MiB; peak RSS ${Math.round(Math.max(peak, peakUnsigned) / MiB)} MiB`,
    );
    expect(signed.status, signed.error).toBe(413);
    expect(Math.max(peak, peakUnsigned)).toBeLessThan(RSS_LIMIT);
    // The worker is still whole: it answers, and the lease still waits for its manifest.
    const status = await alice.signedFetch(P.worker.apiUrl, P.address, providerApiPaths.status(waitingLease));
    expect(status.status).toBe(200);
    expect((await body(status)).pod.phase).toBe("waiting-manifest");
  });
});

describe("chaos: anonymous quotes", () => {
  it("1,000 quotes for the whole free capacity lock nothing: a paying publisher leases and serves, a late lease is refused by name", async () => {
    // Everything not leased yet (alice's waiting lease holds 100 mCPU and 32 MiB).
    const greedy = podManifest(capacity.cpuMillis - 100, capacity.memoryMiB - 32);
    const greedyResources = manifestResources(parseManifest(greedy));
    const request = { specHash: manifestHash(greedy), resources: greedyResources, publisher: mallory.address };
    // 500 from one source, as fast as 32 connections go; then 20 from each of 25 other sources: 1,000 in all.
    const single = new Agent({ keepAlive: true, maxSockets: 32 });
    const fromOne = await Promise.all(Array.from({ length: 500 }, () => quoteFrom(single, "127.0.0.2", request)));
    const fromMany = await Promise.all(
      Array.from({ length: 25 }, (_, s) => {
        const agent = new Agent({ keepAlive: true, maxSockets: 2 });
        return Promise.all(Array.from({ length: 20 }, () => quoteFrom(agent, `127.0.1.${s + 1}`, request)));
      }),
    );
    const answers = [...fromOne, ...fromMany.flat()];
    const byStatus = new Map<number, number>();
    for (const a of answers) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
    console.log(`1,000 anonymous quotes: ${JSON.stringify(Object.fromEntries(byStatus))}`);
    // Signed, or told when to come back: 429 when this source asks too often, 503 when the worker as a whole signs
    // as many quotes a second as it may (the thread that signs also serves the pods' ingress). Nothing else.
    for (const a of answers.filter((answer) => answer.status !== 200)) {
      expect([429, 503], a.body).toContain(a.status);
      expect(Number(a.retryAfter), a.body).toBeGreaterThan(0);
    }
    expect(fromOne.filter((a) => a.status === 429).length).toBeGreaterThan(0);
    // The quotes that were signed reserve nothing.
    const signed = answers.filter((a) => a.status === 200);
    expect(signed.length).toBeGreaterThan(0);

    // Alice pays for a pod right after the flood: quote, lease, blob, manifest, serving.
    const pod = podManifest(250, 64);
    const { leaseId } = await alice.lease(P.worker.apiUrl, pod, 3600n);
    const upload = await alice.uploadBlob(P.worker.apiUrl, P.address, leaseId, image.cid, image.ciphertext);
    expect([200, 201]).toContain(upload.status);
    const sent = await alice.sendManifest(P.worker.apiUrl, P.address, P.encryptionKey, leaseId, pod, {
      [image.cid]: image.key,
    });
    expect(sent.status, await sent.clone().text()).toBe(202);
    await P.worker.waitForPage(leaseId, PAGE);

    // Mallory now pays for one of its quotes: the chain takes the lease, the worker has no room left for it.
    const response = JSON.parse((signed[0] as { body: string }).body) as QuoteResponse;
    const quote = quoteFromResponse(response);
    const receipt = await mallory.write("createLease", [quote, response.signature, quote.pricePerSecond * 600n]);
    const [created] = parseEventLogs({ abi: podnetMarketAbi, eventName: "LeaseCreated", logs: receipt.logs });
    const late = created?.args.leaseId as bigint;
    await mallory.uploadBlob(P.worker.apiUrl, P.address, late, image.cid, image.ciphertext);
    const refused = await mallory.sendManifest(P.worker.apiUrl, P.address, P.encryptionKey, late, greedy, {
      [image.cid]: image.key,
    });
    const { error } = await body(refused);
    expect(refused.status, error.message).toBe(409);
    expect(error.message).toMatch(/cpuMillis: 1900 wanted, 1650 free/);
    // Nothing will free the room by itself: the worker closes the refused lease, and Mallory gets the rest back.
    const { client } = clients(devnet.chain);
    await waitFor("the worker to close the refused lease", async () => {
      const lease = await client.readContract({
        address: devnet.chain.deployment.contracts.podnetMarket.address,
        abi: podnetMarketAbi,
        functionName: "getLease",
        args: [late],
      });
      return lease.status === 1 ? undefined : lease;
    });
    // Alice's pod keeps serving.
    await P.worker.waitForPage(leaseId, PAGE, 5_000);
  });
});
