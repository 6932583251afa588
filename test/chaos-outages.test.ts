import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  body,
  clients,
  Devnet,
  fundedPublisher,
  ingress,
  leaseContainers,
  localDocker,
  type Publisher,
  podHost,
  type RunningProvider,
  type SealedBlob,
  sealTestImage,
  startTcpProxy,
  type TcpProxy,
  type WorkerProcess,
  waitFor,
} from "@podnet/devnet";
import { type PodManifestInput, podnetMarketAbi, providerApiPaths } from "@podnet/sdk/protocol";
import type { Address } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const docker = localDocker();
const PAGE = "hello chaos";
const OUTAGE_MS = 120_000;

let devnet: Devnet;
let P: RunningProvider;
let worker: WorkerProcess;
let provider: Address;
let alice: Publisher;
let image: SealedBlob;
/** An image whose blob only the trickling source has. */
let slowImage: SealedBlob;
let rpcProxy: TcpProxy;
let trickle: Trickle;
/** Leases whose pods serve PAGE; every one must survive every case. */
const serving: bigint[] = [];

const manifest = (cid: string): PodManifestInput => ({
  version: 1,
  containers: [{ name: "web", image: `blob:${cid}`, resources: { cpuMillis: 100, memoryMiB: 32 } }],
  expose: { http: [{ container: "web", port: 8080 }] },
});

/** A lease for `seconds` of the quoted price, its blob uploaded and its manifest sent; resolves once it serves. */
async function servingLease(seconds: bigint) {
  const lease = await alice.lease(worker.apiUrl, manifest(image.cid), seconds);
  const upload = await alice.uploadBlob(worker.apiUrl, provider, lease.leaseId, image.cid, image.ciphertext);
  expect([200, 201]).toContain(upload.status);
  const sent = await alice.sendManifest(worker.apiUrl, provider, P.encryptionKey, lease.leaseId, manifest(image.cid), {
    [image.cid]: image.key,
  });
  expect(sent.status, await sent.clone().text()).toBe(202);
  await worker.waitForPage(lease.leaseId, PAGE);
  serving.push(lease.leaseId);
  return lease;
}

/** The page of lease `leaseId` through the ingress, or why not. */
async function page(leaseId: bigint): Promise<string> {
  const answer = await ingress(worker.ingressPort, podHost(leaseId), "/", { timeoutMs: 2000 }).catch(
    (error: Error) => ({ status: 0, body: error.message }),
  );
  return answer.status === 200 && answer.body.includes(PAGE) ? "ok" : `${answer.status} ${answer.body.slice(0, 100)}`;
}

/** Ids of every container of the serving leases, and whether each runs. */
async function podContainers() {
  const all = [];
  for (const leaseId of serving) {
    for (const c of await leaseContainers(docker, provider, leaseId)) all.push({ leaseId, id: c.Id, state: c.State });
  }
  return all.sort((a, b) => a.id.localeCompare(b.id));
}

/** The count of reconcile passes the worker has measured (its reconcile-duration histogram). */
async function reconcilePasses(): Promise<number> {
  const text = await (await fetch(`${worker.apiUrl}/metrics`)).text();
  const match = text.match(/^podnet_worker_reconcile_seconds_count (\d+)/m);
  return Number(match?.[1] ?? -1);
}

/** Waits for a heartbeat of the worker at chain time `at` or later. */
async function heartbeatSince(at: number) {
  await waitFor(`a heartbeat at ${at} or later`, async () => {
    const stake = await clients(devnet.chain).client.readContract({
      address: devnet.chain.deployment.contracts.podnetMarket.address,
      abi: podnetMarketAbi,
      functionName: "stakeOf",
      args: [provider],
    });
    return Number(stake.lastHeartbeat) >= at ? true : undefined;
  });
}

/** GET /health with a deadline: it must answer whatever the chain or Docker do. */
async function health() {
  const started = performance.now();
  const response = await fetch(`${worker.apiUrl}/health`, { signal: AbortSignal.timeout(3000) });
  return { status: response.status, ms: performance.now() - started, json: await body(response) };
}

beforeAll(async () => {
  devnet = await Devnet.start({ dir: mkdtempSync(join(tmpdir(), "podnet-chaos-outages-")) });
  image = await sealTestImage(docker, "podnet-test/chaos:1", { page: PAGE });
  slowImage = await sealTestImage(docker, "podnet-test/chaos-slow:1", { page: "never served" });
  devnet.untagBlobOnStop(image.cid);
  devnet.untagBlobOnStop(slowImage.cid);
  trickle = await startTrickle(slowImage.ciphertext);
  devnet.onStop("close the trickling blob source", () => trickle.close());
  rpcProxy = await startTcpProxy(Number(new URL(devnet.chain.rpcUrl).port));
  devnet.onStop("close the RPC proxy", () => rpcProxy.close());
  P = await devnet.startProvider({
    index: 26,
    capacity: { cpuMillis: 2000, memoryMiB: 2048, storageMiB: 10_000 },
    env: {
      PODNET_RPC_URL: rpcProxy.url,
      // Due during the outage (its failures must not hold up the other duties) and right after it.
      PODNET_HEARTBEAT_INTERVAL_SEC: "60",
      PODNET_OUT_OF_FUNDS_GRACE_SEC: "5",
      PODNET_WITHDRAW_INTERVAL_SEC: "100000",
    },
  });
  ({ worker, address: provider } = P);
  alice = await fundedPublisher(devnet.chain, 27);
}, 240_000);

afterAll(() => devnet?.stop());

describe("reconcile isolation", () => {
  it("(a) a lease fetching from a trickling source stalls no other: a killed pod serves again within 5 s", async () => {
    const { leaseId: b } = await servingLease(3600n);
    // Two slow leases: as many as the worker fetches images for at once, so they hold every download slot.
    const slow = manifest(slowImage.cid);
    const slowLeases: bigint[] = [];
    for (let i = 0; i < 2; i++) {
      const { leaseId } = await alice.lease(worker.apiUrl, slow, 3600n);
      const sent = await alice.sendManifest(
        worker.apiUrl,
        provider,
        P.encryptionKey,
        leaseId,
        slow,
        { [slowImage.cid]: slowImage.key },
        { [slowImage.cid]: [trickle.url] },
      );
      expect(sent.status, await sent.clone().text()).toBe(202);
      slowLeases.push(leaseId);
    }
    await waitFor("the worker to fetch from the trickling source twice", async () =>
      trickle.openRequests >= 2 && trickle.bytesSent > 0 ? true : undefined,
    );
    const passesBefore = await reconcilePasses();

    const [container] = await leaseContainers(docker, provider, b);
    expect(container?.State).toBe("running");
    await docker.getContainer(container?.Id as string).kill();
    const killedAt = performance.now();
    await waitFor("the container to be down", async () => {
      const info = await docker.getContainer(container?.Id as string).inspect();
      return info.State.Running ? undefined : true;
    });
    await waitFor(`lease ${b} to serve again`, async () => ((await page(b)) === "ok" ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    const recoveryMs = performance.now() - killedAt;
    console.log(`killed pod serving again after ${Math.round(recoveryMs)} ms (leases ${slowLeases} still trickling)`);
    expect(recoveryMs).toBeLessThan(5000);

    // The slow fetches are still under way (they did not just fail fast), and passes went on being measured meanwhile.
    expect(trickle.openRequests).toBe(2);
    await waitFor("more reconcile passes measured", async () =>
      (await reconcilePasses()) >= passesBefore + 2 ? true : undefined,
    );
  });
});

describe("RPC outage", () => {
  it("(b) two minutes cut off from the chain: no pod removed, all serving, /health says so, catches up after", async () => {
    const { client, testClient } = clients(devnet.chain);
    const market = devnet.chain.deployment.contracts.podnetMarket.address;
    // Its escrow runs dry 30 s into the outage, from what the worker last read; the publisher tops it up meanwhile.
    const { leaseId: c, deposit } = await servingLease(600n);
    const runsOutAt = await client.readContract({
      address: market,
      abi: podnetMarketAbi,
      functionName: "leaseRunsOutAt",
      args: [c],
    });
    await testClient.increaseTime({ seconds: Number(runsOutAt) - Number((await client.getBlock()).timestamp) - 30 });
    await testClient.mine({ blocks: 1 });
    const warped = await client.getBlockNumber();
    await waitFor("the worker to see the warped block", async () =>
      BigInt((await health()).json.chain.cursor) > warped ? true : undefined,
    );
    await heartbeatSince(Number((await client.getBlock({ blockNumber: warped })).timestamp));
    const before = await podContainers();
    expect(before.length).toBe(serving.length);
    expect(before.every((pod) => pod.state === "running")).toBe(true);

    rpcProxy.cut();
    const cutAt = Date.now();
    const failures: string[] = [];
    let duringOutage: { health: Awaited<ReturnType<typeof health>>; metrics: string } | undefined;
    let toppedUpBlock = 0n;
    while (Date.now() - cutAt < OUTAGE_MS) {
      // anvil goes on mining, its clock with the wall's.
      await testClient.mine({ blocks: 1 });
      if (toppedUpBlock === 0n && Date.now() - cutAt > 10_000) {
        toppedUpBlock = (await alice.write("topUp", [c, deposit * 100n])).blockNumber;
      }
      for (const leaseId of serving) {
        const answer = await page(leaseId);
        if (answer !== "ok") failures.push(`${Math.round((Date.now() - cutAt) / 1000)} s: lease ${leaseId}: ${answer}`);
      }
      if (!duringOutage && Date.now() - cutAt > 20_000) {
        duringOutage = { health: await health(), metrics: await (await fetch(`${worker.apiUrl}/metrics`)).text() };
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(failures).toEqual([]);
    expect(await podContainers()).toEqual(before);
    expect(toppedUpBlock).toBeGreaterThan(0n);
    expect(duringOutage?.health.status).toBe(503);
    expect(duringOutage?.health.ms).toBeLessThan(2000);
    expect(duringOutage?.health.json.chain).toMatchObject({ reachable: false, state: "unreachable" });
    expect(duringOutage?.health.json.degraded).toContain("chain");
    expect(duringOutage?.metrics).toMatch(/^podnet_worker_chain_reachable 0$/m);

    rpcProxy.restore();
    const restoredAt = Number((await client.getBlock()).timestamp);
    await waitFor("the worker to follow past the top-up", async () => {
      const h = await health();
      return h.status === 200 && BigInt(h.json.chain.cursor) > toppedUpBlock ? h : undefined;
    });
    const events = await body(await alice.signedFetch(worker.apiUrl, provider, providerApiPaths.events(c)));
    expect(events.events.map((e: { type: string }) => e.type)).toContain("topped-up");
    await heartbeatSince(restoredAt);
    for (const leaseId of serving) expect(await page(leaseId)).toBe("ok");
    expect(await podContainers()).toEqual(before);
    expect(readFileSync(worker.logFile, "utf8")).not.toMatch(/"msg":"pod removed"/);
  }, 300_000);
});

type Trickle = Awaited<ReturnType<typeof startTrickle>>;

/** An HTTP blob source on 127.0.0.1 that sends `bytes` one byte per second (a slow or malicious peer). */
async function startTrickle(bytes: Uint8Array) {
  const responses = new Set<ServerResponse>();
  const stats = { bytesSent: 0, openRequests: 0 };
  const server: Server = createServer((_req, res) => {
    responses.add(res);
    stats.openRequests++;
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length });
    let offset = 0;
    const timer = setInterval(() => {
      if (offset >= bytes.length) return res.end();
      res.write(bytes.subarray(offset, offset + 1));
      offset++;
      stats.bytesSent++;
    }, 1000);
    res.on("close", () => {
      clearInterval(timer);
      responses.delete(res);
      stats.openRequests--;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/blob`,
    get bytesSent() {
      return stats.bytesSent;
    },
    get openRequests() {
      return stats.openRequests;
    },
    close() {
      for (const res of responses) res.destroy();
      server.close();
    },
  };
}
