/**
 * The worker's market and money duties and its crash behaviour, end to end on real parts: the bid engine with
 * capacity reservations, a lease whose manifest never comes, a lease that runs out of funds, no work during its own
 * reportable dark gap, collateral released after the dispute window, a dark report and unjail, and kill -9 in the
 * middle of provisioning. (Outages of the chain and of the Docker Engine: test/chaos-outages.test.ts.)
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  body,
  clients,
  Devnet,
  fundedPublisher,
  ingress,
  type LocalChain,
  leaseContainers,
  localDocker,
  type Publisher,
  podHost,
  publisherClient,
  type RunningProvider,
  registerWorker,
  type SealedBlob,
  sealTestImage,
  startTcpProxy,
  type TcpProxy,
  type WorkerProcess,
  waitFor,
  walletClient,
} from "@podnet/devnet";
import {
  disputeCourtAbi,
  encodeAttribute,
  manifestHash,
  manifestResources,
  type PodManifestInput,
  parseManifest,
  podnetMarketAbi,
  pricePerSecond,
  providerApiPaths,
} from "@podnet/sdk/protocol";
import { type Address, type Hex, keccak256, parseEventLogs, toBytes } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const docker = localDocker();
const PAGE = "hello lifecycle";
const pricing = { perCpuMilli: 1000n, perMemoryMiB: 100n, perStorageMiB: 1n, flat: 7n };

let devnet: Devnet;
let chain: LocalChain;
let P: RunningProvider;
let worker: WorkerProcess;
let provider: Address;
let alice: Publisher;
let image: SealedBlob;
/** The worker reaches anvil through this proxy, so the RPC outage test can cut the link. */
let rpcProxy: TcpProxy;

const market = () => chain.deployment.contracts.podnetMarket.address;
const containersOf = (leaseId: bigint) => leaseContainers(docker, provider, leaseId);

/** GET through this worker's ingress with a Host header (status 0 when nothing answers). */
const hostGet = (host: string) => ingress(worker.ingressPort, host).catch(() => ({ status: 0, body: "" }));

const serving = (leaseId: bigint, timeoutMs = 60_000) => worker.waitForPage(leaseId, PAGE, timeoutMs);

function manifest(opts: { cpuMillis?: number; replicas?: number; sidecar?: boolean } = {}): PodManifestInput {
  const containers: PodManifestInput["containers"] = [
    { name: "web", image: `blob:${image.cid}`, resources: { cpuMillis: opts.cpuMillis ?? 100, memoryMiB: 32 } },
  ];
  if (opts.sidecar) {
    containers.push({
      name: "side",
      image: `blob:${image.cid}`,
      command: ["sh", "-c", "while true; do wget -qO- http://web:8080/ >/dev/null; sleep 5; done"],
      resources: { cpuMillis: 50, memoryMiB: 16 },
    });
  }
  return {
    version: 1,
    replicas: opts.replicas ?? 1,
    containers,
    expose: { http: [{ container: "web", port: 8080 }] },
  };
}

async function send(leaseId: bigint, podManifest: PodManifestInput) {
  const upload = await alice.uploadBlob(worker.apiUrl, provider, leaseId, image.cid, image.ciphertext);
  expect([200, 201]).toContain(upload.status);
  const response = await alice.sendManifest(worker.apiUrl, provider, P.encryptionKey, leaseId, podManifest, {
    [image.cid]: image.key,
  });
  expect(response.status, await response.clone().text()).toBe(202);
}

async function publisherWrite(functionName: Parameters<Publisher["write"]>[0], args: readonly unknown[]) {
  const receipt = await alice.write(functionName, args);
  expect(receipt.status).toBe("success");
  return receipt;
}

/**
 * The publisher opens an order for `podManifest` straight on the chain, at `priceFactor` times the provider's price
 * and open for `bidSeconds`; resolves with its id, receipt and resources.
 */
async function openOrder(
  podManifest: PodManifestInput,
  { attributes = [], priceFactor = 2n, bidSeconds = 600, autoAccept = false } = {} as {
    attributes?: Hex[];
    priceFactor?: bigint;
    bidSeconds?: number;
    autoAccept?: boolean;
  },
) {
  const resources = manifestResources(parseManifest(podManifest));
  const price = pricePerSecond(pricing, resources);
  const now = Number((await clients(chain).client.getBlock()).timestamp);
  const receipt = await publisherWrite("createOrder", [
    manifestHash(podManifest),
    resources,
    price * priceFactor,
    price * 100_000n,
    now + bidSeconds,
    { minStake: 0n, attributes },
    autoAccept,
  ]);
  const [created] = parseEventLogs({ abi: podnetMarketAbi, eventName: "OrderCreated", logs: receipt.logs });
  return { orderId: created?.args.orderId as bigint, receipt, resources };
}

/** Moves chain time forward and waits until the worker has heartbeated again (so it can take new leases). */
async function warp(seconds: number) {
  const { client, testClient } = clients(chain);
  await testClient.increaseTime({ seconds });
  await testClient.mine({ blocks: 1 });
  const now = Number((await client.getBlock()).timestamp);
  await waitFor("a heartbeat after the warp", async () => {
    const stake = await client.readContract({
      address: market(),
      abi: podnetMarketAbi,
      functionName: "stakeOf",
      args: [provider],
    });
    return Number(stake.lastHeartbeat) >= now ? true : undefined;
  });
}

/** Waits for the lease's LeaseClosed event. */
function leaseClosed(leaseId: bigint) {
  return waitFor(`lease ${leaseId} to be closed`, async () => {
    const [log] = await clients(chain).client.getContractEvents({
      address: market(),
      abi: podnetMarketAbi,
      eventName: "LeaseClosed",
      args: { leaseId },
      fromBlock: 0n,
    });
    return log;
  });
}

/** Waits until the worker has followed the chain past `block`. */
async function workerSaw(block: bigint) {
  await waitFor(`the worker to follow past block ${block}`, async () => {
    const health = await body(await fetch(`${worker.apiUrl}/health`));
    return BigInt(health.chain.cursor) > block ? true : undefined;
  });
}

beforeAll(async () => {
  devnet = await Devnet.start({ dir: mkdtempSync(join(tmpdir(), "podnet-worker-life-")) });
  chain = devnet.chain;
  image = await sealTestImage(docker, "podnet-test/lifecycle:1", { page: PAGE });
  devnet.untagBlobOnStop(image.cid);
  rpcProxy = await startTcpProxy(Number(new URL(chain.rpcUrl).port));
  devnet.onStop("close the RPC proxy", () => rpcProxy.close());
  P = await devnet.startProvider({
    index: 5,
    capacity: { cpuMillis: 2000, memoryMiB: 2048, storageMiB: 10_000 },
    pricing,
    attributes: ["region=eu", "gpu=none"],
    env: {
      PODNET_WITHDRAW_INTERVAL_SEC: "100000",
      PODNET_OUT_OF_FUNDS_GRACE_SEC: "5",
      PODNET_MANIFEST_TIMEOUT_SEC: "300",
      PODNET_RPC_URL: rpcProxy.url,
    },
  });
  ({ worker, address: provider } = P);
  alice = await fundedPublisher(chain, 6);
}, 240_000);

afterAll(() => devnet?.stop());

describe("bid engine", () => {
  const createOrder = async (cpuMillis: number, attributes: Hex[] = []) => {
    const podManifest = manifest({ cpuMillis });
    return { ...(await openOrder(podManifest, { attributes })), podManifest };
  };
  it("bids its price on a matching order; the accepted bid becomes a serving pod", async () => {
    const order = await createOrder(500);
    const bid = await waitFor("a bid", async () => {
      const b = await bidOf(order.orderId);
      return b.status === 1 ? b : undefined;
    });
    expect(bid.pricePerSecond).toBe(pricePerSecond(pricing, order.resources));
    const receipt = await publisherWrite("acceptBid", [order.orderId, provider]);
    const [created] = parseEventLogs({ abi: podnetMarketAbi, eventName: "LeaseCreated", logs: receipt.logs });
    const leaseId = created?.args.leaseId as bigint;
    await send(leaseId, order.podManifest);
    await serving(leaseId);
  });

  it("never bids beyond its free capacity, counting open bids as taken", async () => {
    // Capacity 2000 mCPU; the running lease holds 500.
    const tooBig = await createOrder(1600);
    const fits = await createOrder(1000);
    await waitFor("a bid on the order that fits", async () =>
      (await bidOf(fits.orderId)).status === 1 ? true : undefined,
    );
    // 500 leased + 1000 bid: another 1000 would overcommit while the bid is open.
    const overcommit = await createOrder(1000);
    const wrongAttributes = await createOrder(100, [encodeAttribute("gpu", "a100")]);
    await workerSaw(wrongAttributes.receipt.blockNumber);
    expect((await bidOf(tooBig.orderId)).status).toBe(0);
    expect((await bidOf(overcommit.orderId)).status).toBe(0);
    expect((await bidOf(wrongAttributes.orderId)).status).toBe(0);
    // The publisher cancels: the worker releases its bid's reservation on chain.
    await publisherWrite("cancelOrder", [fits.orderId]);
    await waitFor("the bid to be released", async () => ((await bidOf(fits.orderId)).status === 3 ? true : undefined));
  });
});

describe("auto-accept orders", () => {
  it("finalizes an auto-accept order it leads once bidding has closed", async () => {
    const podManifest = manifest({ cpuMillis: 100 });
    const { orderId, receipt } = await openOrder(podManifest, { priceFactor: 1n, bidSeconds: 4, autoAccept: true });
    const { client } = clients(chain);
    const matched = await waitFor("the worker to finalize the order", async () => {
      const [log] = await client.getContractEvents({
        address: market(),
        abi: podnetMarketAbi,
        eventName: "OrderMatched",
        args: { orderId },
        fromBlock: receipt.blockNumber,
      });
      return log;
    });
    expect(matched.args.provider).toBe(provider);
    expect(matched.args.by).toBe(provider);
    await send(matched.args.leaseId as bigint, podManifest);
    await serving(matched.args.leaseId as bigint);
    await publisherWrite("closeLease", [matched.args.leaseId]);
  });
});

describe("money", () => {
  it("closes a lease whose manifest never came; the publisher gets the rest back", async () => {
    const { leaseId, pricePerSecond: price, deposit } = await alice.lease(worker.apiUrl, manifest(), 3600n);
    await warp(301);
    const { client } = clients(chain);
    const closed = await leaseClosed(leaseId);
    const lease = await client.readContract({
      address: market(),
      abi: podnetMarketAbi,
      functionName: "getLease",
      args: [leaseId],
    });
    expect(closed.args.closedBy).toBe(provider);
    expect(closed.args.owed).toBe(price * BigInt(lease.endedAt - lease.startedAt));
    expect((closed.args.owed as bigint) + (closed.args.refund as bigint)).toBe(deposit);
  });

  it("tears down a pod whose funds ran out after the grace period and closes it; paid exactly rate x time", async () => {
    const { leaseId, pricePerSecond: price, deposit } = await alice.lease(worker.apiUrl, manifest(), 600n);
    await send(leaseId, manifest());
    await serving(leaseId);
    await warp(601);
    const closed = await leaseClosed(leaseId);
    expect(closed.args.closedBy).toBe(provider);
    expect(closed.args.reason).toBe(3); // OutOfFunds
    expect(closed.args.owed).toBe(price * 600n);
    expect(closed.args.owed).toBe(deposit);
    expect(closed.args.refund).toBe(0n);
    await waitFor("the pod to be gone", async () => ((await containersOf(leaseId)).length === 0 ? true : undefined));
    expect((await hostGet(podHost(leaseId))).status).toBe(404);
  });
});

/** The order's bid of this provider (status 0: none, 1: active, 3: released). */
const bidOf = (orderId: bigint) =>
  clients(chain).client.readContract({
    address: market(),
    abi: podnetMarketAbi,
    functionName: "getBid",
    args: [orderId, provider],
  });

/** Asks the worker for a quote for `manifest()` as alice; the status and the error message, if any. */
async function askQuote() {
  const parsed = parseManifest(manifest());
  const response = await fetch(`${worker.apiUrl}${providerApiPaths.quote}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      specHash: manifestHash(parsed),
      resources: manifestResources(parsed),
      publisher: alice.address,
    }),
  });
  const json = (await response.json()) as { error?: { message?: string } };
  return { status: response.status, message: String(json.error?.message ?? "") };
}

const readMarket = <T>(functionName: string, args: readonly unknown[] = []) =>
  clients(chain).client.readContract({
    address: market(),
    abi: podnetMarketAbi,
    functionName,
    args,
  } as never) as Promise<T>;

describe("dark gaps, held collateral, disputes on closed leases, jail", () => {
  let disputedLeaseId: bigint;

  it("signs no quote and places no bid while its own dark gap is reportable, and takes work again after it", async () => {
    const { client } = clients(chain);
    const from = await client.getBlockNumber();
    // Longer than the heartbeat threshold: the worker's next heartbeat is late and records a dark gap.
    await warp(601);
    const gap = await waitFor("the worker's dark gap", async () => {
      const [log] = await client.getContractEvents({
        address: market(),
        abi: podnetMarketAbi,
        eventName: "DarkGapRecorded",
        args: { provider },
        fromBlock: from,
      });
      return log;
    });
    const refused = await waitFor("the quote to be refused", async () => {
      const answer = await askQuote();
      return answer.status === 503 ? answer : undefined;
    });
    expect(refused.message).toMatch(/dark gap/);
    expect(refused.message).toContain(String(gap.args.reportableUntil));
    const { orderId, receipt } = await openOrder(manifest({ cpuMillis: 100 }));
    await workerSaw(receipt.blockNumber);
    expect((await bidOf(orderId)).status).toBe(0);
    const log = readFileSync(join(P.env.PODNET_DATA_DIR as string, "worker.log"), "utf8");
    expect(log).toMatch(new RegExp(`"msg":"not bidding","orderId":"${orderId}","reason":"dark gap`));
    // Heartbeats on time past darkGapUntil + heartbeatThreshold: the gap is no longer reportable, quotes resume.
    await warp(301);
    await warp(301);
    expect(Number((await client.getBlock()).timestamp)).toBeGreaterThan(Number(gap.args.reportableUntil));
    await waitFor("quotes again", async () => ((await askQuote()).status === 200 ? true : undefined));
  });

  it("answers a dispute on a lease that already ended, with evidence of what the lease ran", async () => {
    const podManifest = manifest();
    const { leaseId } = await alice.lease(worker.apiUrl, podManifest, 3600n);
    await send(leaseId, podManifest);
    await serving(leaseId);
    await publisherWrite("closeLease", [leaseId]);
    await waitFor("the pod to be gone", async () => ((await containersOf(leaseId)).length === 0 ? true : undefined));
    const pub = publisherClient(chain, alice.account, {
      blobCacheDir: mkdtempSync(join(tmpdir(), "podnet-life-sdk-")),
    });
    const { disputeId } = await pub.openDispute({ leaseId, evidenceURI: "ipfs://evidence/closed-lease.json" });
    const { client } = clients(chain);
    const answered = await waitFor("the worker to answer the dispute", async () => {
      const [log] = await client.getContractEvents({
        address: chain.deployment.contracts.disputeCourt.address,
        abi: disputeCourtAbi,
        eventName: "DisputeAnswered",
        args: { disputeId },
        fromBlock: 0n,
      });
      return log;
    });
    const [url, fragment] = (answered.args.evidenceURI as string).split("#");
    const text = await (await fetch(url as string)).text();
    expect(fragment).toBe(`keccak256=${keccak256(toBytes(text))}`);
    const doc = JSON.parse(text);
    const lease = await readMarket<{ endedAt: number }>("getLease", [leaseId]);
    expect(doc.lease).toMatchObject({
      status: "closed",
      closedAt: lease.endedAt,
      manifestSpecHash: manifestHash(podManifest),
    });
    expect(doc.containers).toEqual([]);
    expect(doc.events.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(["closed", "dispute-opened"]),
    );
    disputedLeaseId = leaseId;
  });

  it("releases the collateral its closed leases held once the dispute window is over, not a disputed one's", async () => {
    const { client } = clients(chain);
    const closes = await client.getContractEvents({
      address: market(),
      abi: podnetMarketAbi,
      eventName: "LeaseClosed",
      fromBlock: 0n,
    });
    const held = [];
    for (const close of closes) {
      const lease = await readMarket<{ provider: Address; collateral: bigint }>("getLease", [close.args.leaseId]);
      if (lease.provider === provider && (close.args.collateralHeld as bigint) > 0n) held.push(close);
    }
    // The earlier tests closed leases by the publisher, by the worker (no manifest) and out of funds.
    expect(held.length).toBeGreaterThanOrEqual(4);
    for (const close of held) {
      const lease = await readMarket<{ collateral: bigint }>("getLease", [close.args.leaseId]);
      expect(lease.collateral).toBe(close.args.collateralHeld);
    }
    const last = Math.max(...held.map((c) => Number(c.args.releasableAt)));
    const now = Number((await client.getBlock()).timestamp);
    const from = await client.getBlockNumber();
    await warp(last - now + 1);
    const free = held.filter((c) => c.args.leaseId !== disputedLeaseId);
    expect(free).toHaveLength(held.length - 1);
    for (const close of free) {
      const released = await waitFor(`lease ${close.args.leaseId}'s collateral released`, async () => {
        const [log] = await client.getContractEvents({
          address: market(),
          abi: podnetMarketAbi,
          eventName: "CollateralReleased",
          args: { leaseId: close.args.leaseId },
          fromBlock: from,
        });
        return log;
      });
      expect(released.args.amount).toBe(close.args.collateralHeld);
      const tx = await client.getTransaction({ hash: released.transactionHash });
      expect(tx.from.toLowerCase()).toBe(provider.toLowerCase());
      expect((await readMarket<{ collateral: bigint }>("getLease", [close.args.leaseId])).collateral).toBe(0n);
    }
    // The dispute still holds the disputed lease's collateral: the worker left it alone.
    const disputed = held.find((c) => c.args.leaseId === disputedLeaseId);
    const disputedLease = await readMarket<{ collateral: bigint; disputed: boolean }>("getLease", [disputedLeaseId]);
    expect(disputedLease.disputed).toBe(true);
    expect(disputedLease.collateral).toBe(disputed?.args.collateralHeld);
  });

  it("reported dark for its gap: jailed, no quotes; register refuses before the cooldown, then unjails", async () => {
    const { client, testClient } = clients(chain);
    // The 2-day warp of the previous test left a reportable dark gap: a stranger reports it.
    const stranger = await fundedPublisher(chain, 7);
    const hash = await walletClient(chain, stranger.account).writeContract({
      address: market(),
      abi: podnetMarketAbi,
      functionName: "reportDark",
      args: [provider],
    });
    expect((await client.waitForTransactionReceipt({ hash })).status).toBe("success");
    const jailed = await waitFor("the quote to be refused for the jail", async () => {
      const answer = await askQuote();
      return answer.status === 503 && /jailed/.test(answer.message) ? answer : undefined;
    });
    expect(jailed.message).toMatch(/podnet-worker register/);
    await expect(registerWorker(P.env)).rejects.toThrow(/jailed: .* may unjail from \d+/);
    expect((await readMarket<{ jailed: boolean }>("stakeOf", [provider])).jailed).toBe(true);

    const params = await readMarket<{ jailCooldown: number }>("params");
    await testClient.increaseTime({ seconds: params.jailCooldown + 1 });
    await testClient.mine({ blocks: 1 });
    const out = await registerWorker(P.env);
    expect(out).toMatch(/unjailed: 0x/);
    const stake = await readMarket<{ jailed: boolean; darkGapUntil: number }>("stakeOf", [provider]);
    expect(stake.jailed).toBe(false);
    expect(stake.darkGapUntil).toBe(0);
    await waitFor("quotes again", async () => ((await askQuote()).status === 200 ? true : undefined));
  });
});

describe("RPC outage", () => {
  it("backs off while the chain is unreachable and resumes without missing an event", async () => {
    const { leaseId } = await alice.lease(worker.apiUrl, manifest(), 3600n);
    await send(leaseId, manifest());
    await serving(leaseId);
    rpcProxy.cut();
    await waitFor("the worker to notice the outage", async () => {
      const health = await fetch(`${worker.apiUrl}/health`);
      return health.status === 503 ? true : undefined;
    });
    // While the worker is cut off: the publisher closes its lease and opens an order, straight on the chain.
    await publisherWrite("closeLease", [leaseId]);
    const { orderId } = await openOrder(manifest({ cpuMillis: 100 }));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await containersOf(leaseId)).length).toBeGreaterThan(0);
    rpcProxy.restore();
    await waitFor("the pod of the closed lease to be removed", async () =>
      (await containersOf(leaseId)).length === 0 ? true : undefined,
    );
    await waitFor("a bid on the order made during the outage", async () => {
      const bid = await clients(chain).client.readContract({
        address: market(),
        abi: podnetMarketAbi,
        functionName: "getBid",
        args: [orderId, provider],
      });
      return bid.status === 1 ? true : undefined;
    });
    expect((await fetch(`${worker.apiUrl}/health`)).status).toBe(200);
  });
});

describe("crashes", () => {
  let leaseId: bigint;

  it("kill -9 in the middle of provisioning, then restart: exactly one set of containers, serving", async () => {
    const podManifest = manifest({ replicas: 3, sidecar: true });
    ({ leaseId } = await alice.lease(worker.apiUrl, podManifest, 3600n));
    await send(leaseId, podManifest);
    await waitFor("the first container", async () => ((await containersOf(leaseId)).length > 0 ? true : undefined), {
      intervalMs: 5,
    });
    worker.process.kill("SIGKILL");
    await worker.exited;
    const atKill = (await containersOf(leaseId)).length;
    console.log(`containers when the worker was killed: ${atKill} of 6`);
    worker = await P.restart("worker-restarted.log");
    await serving(leaseId);
    await waitFor("all six containers running", async () => {
      const list = await containersOf(leaseId);
      return list.length === 6 && list.every((c) => c.State === "running") ? true : undefined;
    });
    // Let a few more reconcile passes run: still one container per name.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const list = await containersOf(leaseId);
    expect(list).toHaveLength(6);
    expect(new Set(list.map((c) => c.Names[0])).size).toBe(6);
  });
});
