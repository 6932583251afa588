/**
 * The worker's market and money duties and its crash behaviour, end to end on real parts: the bid engine with
 * capacity reservations, a lease whose manifest never comes, a lease that runs out of funds, kill -9 in the middle of
 * provisioning, and a restart of the Docker Engine itself.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
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
  type RunningProvider,
  repoRoot,
  type SealedBlob,
  sealTestImage,
  startTcpProxy,
  type TcpProxy,
  type WorkerProcess,
  waitFor,
} from "@podnet/devnet";
import {
  encodeAttribute,
  manifestHash,
  manifestResources,
  type PodManifestInput,
  parseManifest,
  podnetMarketAbi,
  pricePerSecond,
} from "@podnet/sdk/protocol";
import { type Address, type Hex, parseEventLogs } from "viem";
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
  const bidOf = (orderId: bigint) =>
    clients(chain).client.readContract({
      address: market(),
      abi: podnetMarketAbi,
      functionName: "getBid",
      args: [orderId, provider],
    });

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

  it("brings pods back after the Docker Engine restarts", async () => {
    if (!existsSync("/tmp/podnet-dockerd.pid")) {
      console.warn(
        "skipped: the Docker Engine was not started by script/toolchain/docker.sh, so the test may not restart it",
      );
      return;
    }
    execFileSync("bash", ["script/toolchain/docker.sh", "restart"], { cwd: repoRoot, stdio: "pipe" });
    await serving(leaseId, 120_000);
    const list = await containersOf(leaseId);
    expect(list).toHaveLength(6);
    expect(list.every((c) => c.State === "running")).toBe(true);
  });
});
