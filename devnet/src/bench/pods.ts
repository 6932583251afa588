/**
 * One provider's worker under benchmark (npm run bench, bench:worker): leases from signed quotes, manifests, the
 * ingress polled until a pod serves, many pods at once, kill -9 and restart, and the "docker run floor" to compare
 * against. Real parts only: the worker runs as a child process on the Docker Engine of script/toolchain/docker.sh.
 */
import { Agent } from "node:http";
import { type PodManifestInput, podnetMarketAbi, quoteFromResponse } from "@podnet/sdk/protocol";
import { type Hex, parseEventLogs } from "viem";
import { clients, type LocalChain, walletClient } from "../chain.js";
import { cleanupState } from "../cleanup.js";
import type { Devnet } from "../devnet.js";
import { localDocker, podNetworks } from "../docker.js";
import type { SealedBlob } from "../images.js";
import { ingress } from "../net.js";
import type { ProviderOptions, RunningProvider } from "../provider.js";
import type { Publisher } from "../publisher.js";
import { podHost } from "../worker.js";
import { now, sleep, until } from "./stats.js";

/** How often a waiting bench asks the ingress; small, so the figure is the worker's and not the poll's. */
const INGRESS_POLL_MS = 5;
const RESTART_TIMEOUT_MS = 180_000;
/** An hour of escrow per lease: far above the market's minimum, never runs out during a bench. */
const DEPOSIT_SECONDS = 3600n;
/** Listed capacity far above what a benchmark leases: the worker never turns a pod away for room. */
const BENCH_CAPACITY = { cpuMillis: 256_000, memoryMiB: 1_048_576, storageMiB: 1_000_000 };

export const docker = localDocker();

export const agent = new Agent({ keepAlive: true, maxSockets: 32 });

/** GET / on 127.0.0.1:`port` (with a Host header when given) over the keep-alive agent; status 0 when nothing answers. */
export function httpGet(port: number, host?: string): Promise<{ status: number; body: string }> {
  return ingress(port, host, "/", { agent, timeoutMs: 5_000 }).catch(() => ({ status: 0, body: "" }));
}

/** One provider's worker under test, its image blob and the publishers that lease from it. */
export type BenchProvider = RunningProvider & {
  chain: LocalChain;
  image: SealedBlob;
  publishers: Publisher[];
  /** Text the image's page contains: a pod serves when the ingress answers 200 with it. */
  page: string;
};

/**
 * A provider of `devnet` set up for a benchmark: room for every pod it will get, manifests awaited up to 15 minutes
 * (a bench may lease long before it sends them), and what it serves.
 */
export async function startBenchProvider(
  devnet: Devnet,
  opts: Omit<ProviderOptions, "dataDir"> & { image: SealedBlob; publishers: Publisher[]; page: string },
): Promise<BenchProvider> {
  const { image, publishers, page, ...provider } = opts;
  const started = await devnet.startProvider({
    capacity: BENCH_CAPACITY,
    ...provider,
    // The worker's default warm pool, which the devnet's providers shrink to one (devnet/src/worker.ts).
    env: { PODNET_MANIFEST_TIMEOUT_SEC: "900", PODNET_WARM_NETWORKS: String(WARM_NETWORKS), ...provider.env },
  });
  // The same object the devnet stops, so a restart here is the worker its cleanup stops.
  return Object.assign(started, { chain: devnet.chain, image, publishers, page });
}

export function podManifest(cid: string, cpuMillis: number, memoryMiB: number): PodManifestInput {
  return {
    version: 1,
    containers: [{ name: "web", image: `blob:${cid}`, resources: { cpuMillis, memoryMiB } }],
    expose: { http: [{ container: "web", port: 8080 }] },
  };
}

export async function receiptOf(chain: LocalChain, hash: Hex) {
  const { client } = clients(chain);
  return until(`receipt of ${hash}`, async () => client.getTransactionReceipt({ hash }).catch(() => undefined), {
    timeoutMs: 30_000,
    intervalMs: 2,
  });
}

/** Quote first (not timed), then createLease -> receipt, timed from just before the transaction is sent. */
export async function createLease(b: BenchProvider, publisher: Publisher, manifest: PodManifestInput) {
  const response = await publisher.quote(b.worker.apiUrl, manifest);
  const quote = quoteFromResponse(response);
  const wallet = walletClient(b.chain, publisher.account);
  const t0 = now();
  const hash = await wallet.writeContract({
    address: b.chain.deployment.contracts.podnetMarket.address,
    abi: podnetMarketAbi,
    functionName: "createLease",
    args: [quote, response.signature, quote.pricePerSecond * DEPOSIT_SECONDS],
  });
  const receipt = await receiptOf(b.chain, hash);
  const t1 = now();
  if (receipt.status !== "success") throw new Error(`createLease ${hash} reverted`);
  const [created] = parseEventLogs({ abi: podnetMarketAbi, eventName: "LeaseCreated", logs: receipt.logs });
  if (!created) throw new Error("createLease emitted no LeaseCreated");
  return { leaseId: created.args.leaseId, t0, t1 };
}

export async function sendManifest(
  b: BenchProvider,
  publisher: Publisher,
  leaseId: bigint,
  manifest: PodManifestInput,
) {
  const response = await publisher.sendManifest(b.worker.apiUrl, b.address, b.encryptionKey, leaseId, manifest, {
    [b.image.cid]: b.image.key,
  });
  const text = await response.text();
  if (response.status !== 202) throw new Error(`manifest of lease ${leaseId}: ${response.status} ${text}`);
}

/** Polls the ingress until the pod answers 200 with the page; also notes when it stopped answering 404 (routed). */
export async function waitServing(b: BenchProvider, leaseId: bigint, timeoutMs = 60_000) {
  let routedAt: number | undefined;
  const servingAt = await until(
    `lease ${leaseId} to serve`,
    async () => {
      const { status, body } = await httpGet(b.worker.ingressPort, podHost(leaseId));
      const at = now();
      if (status !== 404 && status !== 0) routedAt ??= at;
      return status === 200 && body.includes(b.page) ? at : undefined;
    },
    { timeoutMs, intervalMs: INGRESS_POLL_MS },
  );
  return { routedAt: routedAt ?? servingAt, servingAt };
}

/**
 * The lease's containers and networks still there, as "container <name> (<state>)" / "network <name> <id>". A pod
 * network is named by its pool slot, not the lease: `networkIds` (from {@link leaseNetworkIds} while the pod ran)
 * names the lease's; networks still labelled with the lease (older workers) count too.
 */
export async function leaseObjects(b: BenchProvider, leaseId: bigint, networkIds: string[] = []): Promise<string[]> {
  const label = [b.label, `podnet.lease=${leaseId}`];
  const [containers, labelled, all] = await Promise.all([
    docker.listContainers({ all: true, filters: { label } }),
    docker.listNetworks({ filters: { label } }),
    networkIds.length > 0 ? docker.listNetworks({ filters: { label: [b.label] } }) : Promise.resolve([]),
  ]);
  const networks = [...labelled, ...all.filter((n) => networkIds.includes(n.Id))];
  return [
    ...containers.map((c) => `container ${c.Names[0]?.replace(/^\//, "")} (${c.State})`),
    ...networks.map((n) => `network ${n.Name} ${n.Id.slice(0, 12)}`),
  ];
}

/** The ids of the networks the lease's containers are on (their own, or their infra container's). */
export async function leaseNetworkIds(b: BenchProvider, leaseId: bigint): Promise<string[]> {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [b.label, `podnet.lease=${leaseId}`] },
  });
  const networks = await Promise.all(containers.map((c) => podNetworks(docker, c)));
  return [...new Set(networks.flatMap((byName) => Object.values(byName).map((n) => n.NetworkID)))];
}

/** The publisher closes the lease; resolves with the time until the worker removed the pod's container and network. */
export async function closeLease(b: BenchProvider, publisher: Publisher, leaseId: bigint) {
  const networkIds = await leaseNetworkIds(b, leaseId);
  const start = now();
  await publisher.write("closeLease", [leaseId]);
  try {
    await until(
      `lease ${leaseId}'s pod to be removed`,
      async () => ((await leaseObjects(b, leaseId, networkIds)).length === 0 ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 20 },
    );
  } catch (error) {
    const left = await leaseObjects(b, leaseId, networkIds).catch(() => []);
    throw new Error(`${(error as Error).message}; still there: ${left.join(", ") || "nothing"}`);
  }
  return now() - start;
}

/** Every container of the provider: its pods' and its slots' infra containers (memory counts both). */
export async function providerContainers(b: BenchProvider) {
  return docker.listContainers({ all: true, filters: { label: [b.label] } });
}

/** The provider's pod containers (a lease label), without its slots' infra containers. */
export async function podContainers(b: BenchProvider) {
  return (await providerContainers(b)).filter((c) => c.Labels["podnet.lease"] !== undefined);
}

/** The worker's /metrics; `value(name)` reads one unlabelled sample. */
export async function workerMetrics(b: { worker: { apiUrl: string } }) {
  const text = await (await fetch(`${b.worker.apiUrl}/metrics`)).text();
  return (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, "m").exec(text)?.[1] ?? Number.NaN);
}

/** The worker's default warmNetworks, which the benchmarks keep (startBenchProvider). */
export const WARM_NETWORKS = 2;
/** The longest a timed lease waits for the worker's warm networks to be made. */
export const WARM_POOL_WAIT_MS = 5_000;

/**
 * Waits until the worker's warm networks are all made (its /metrics), at most WARM_POOL_WAIT_MS, and returns how long
 * that took. A timed lease is then measured against a worker at rest, as the floor is measured against an idle engine:
 * leases sent back to back outrun the refill here (a network and an infra container, ~0.5-0.7 s on 2 cores) and
 * drain the pool.
 */
export async function warmNetworksMade(b: { worker: { apiUrl: string } }): Promise<number> {
  const start = now();
  while (now() - start < WARM_POOL_WAIT_MS) {
    if ((await workerMetrics(b))("podnet_worker_warm_networks_ready") >= WARM_NETWORKS) break;
    // /metrics costs a token of the API's per-address rate limit (10/s), which the publisher's requests share.
    await sleep(150);
  }
  return now() - start;
}

/**
 * The "docker run floor": createContainer + start of `image` with a published 127.0.0.1 port -> first 200 with
 * `page`, `runs` times. What any provider needs at least to serve a pod; the containers are labelled `runLabel`
 * and removed afterwards.
 */
export async function measureFloor(image: string, page: string, runLabel: string, runs = 10): Promise<number[]> {
  const samples: number[] = [];
  const ids: string[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const t0 = now();
      const container = await docker.createContainer({
        Image: image,
        Labels: { "podnet.bench": runLabel },
        ExposedPorts: { "8080/tcp": {} },
        HostConfig: { PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] } },
      });
      ids.push(container.id);
      await container.start();
      const info = await container.inspect();
      const port = Number(info.NetworkSettings.Ports["8080/tcp"]?.[0]?.HostPort);
      await until(
        "the floor container to serve",
        async () => {
          const { status, body } = await httpGet(port);
          return status === 200 && body.includes(page) ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: INGRESS_POLL_MS },
      );
      samples.push(now() - t0);
    }
  } finally {
    await Promise.all(
      ids.map((id) =>
        docker
          .getContainer(id)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
  }
  return samples;
}

/** Polls every pod through the ingress until all serve; resolves with when each first served (ms since `t0`). */
export async function waitAllServing(
  b: BenchProvider,
  leaseIds: bigint[],
  t0: number,
  extra?: () => Promise<boolean>,
): Promise<{ allServing: number; done: number; firstServed: Map<bigint, number> }> {
  const pending = new Set(leaseIds);
  const firstServed = new Map<bigint, number>();
  let allServing: number | undefined;
  const deadline = now() + RESTART_TIMEOUT_MS;
  for (;;) {
    if (pending.size > 0) {
      const ids = [...pending];
      const results = await Promise.all(ids.map((id) => httpGet(b.worker.ingressPort, podHost(id))));
      const at = now() - t0;
      results.forEach((r, i) => {
        const id = ids[i] as bigint;
        if (r.status === 200 && r.body.includes(b.page)) {
          pending.delete(id);
          firstServed.set(id, at);
        }
      });
      if (pending.size === 0) allServing = now() - t0;
    }
    // `extra` runs every round, also before every pod serves, so it sees the whole restart.
    const extraOk = extra === undefined || (await extra());
    if (allServing !== undefined && extraOk) {
      return { allServing, done: now() - t0, firstServed };
    }
    if (cleanupState.stopping) throw new Error("stopped while waiting for the pods to serve");
    if (now() > deadline) throw new Error(`${pending.size} of ${leaseIds.length} pods not serving after the timeout`);
    await sleep(10);
  }
}

/**
 * `count` small pods (10 mCPU / 8 MiB) leased by all of `b.publishers` at once; resolves when every one serves, with
 * the seconds until the last manifest was sent and until all served (both from the first createLease).
 */
export async function deployPods(b: BenchProvider, count: number) {
  const manifest = podManifest(b.image.cid, 10, 8);
  const leaseIds: bigint[] = [];
  const start = now();
  let next = 0;
  await Promise.all(
    b.publishers.map(async (publisher) => {
      for (let i = next++; i < count; i = next++) {
        const { leaseId } = await createLease(b, publisher, manifest);
        await sendManifest(b, publisher, leaseId, manifest);
        leaseIds.push(leaseId);
      }
    }),
  );
  const sentSeconds = (now() - start) / 1000;
  const { allServing } = await waitAllServing(b, leaseIds, start);
  return { leaseIds, sentSeconds, seconds: allServing / 1000 };
}

export async function killWorker(b: BenchProvider) {
  b.worker.process.kill("SIGKILL");
  await b.worker.exited;
}

/** Restarts the worker and times, from the spawn, /health's first 200 and every pod serving (plus `extra`). */
export async function timeRestart(
  b: BenchProvider,
  leaseIds: bigint[],
  logName: string,
  extra?: () => Promise<boolean>,
) {
  const apiUrl = b.worker.apiUrl;
  const t0 = now();
  const starting = b.restart(logName);
  const health = until(
    "the restarted worker's /health",
    async () => {
      const response = await fetch(`${apiUrl}/health`).catch(() => undefined);
      if (!response) return undefined;
      await response.arrayBuffer();
      return response.ok ? now() - t0 : undefined;
    },
    { timeoutMs: RESTART_TIMEOUT_MS, intervalMs: 10 },
  );
  const serving = waitAllServing(b, leaseIds, t0, extra);
  // One Promise.all: a worker that fails to start rejects at once, and the pollers' rejections stay handled.
  const [, healthMs, servingMs] = await Promise.all([starting, health, serving]);
  return {
    healthMs,
    allServingMs: servingMs.allServing,
    doneMs: servingMs.done,
    firstServed: servingMs.firstServed,
  };
}

/** True when exactly one running pod container exists per lease, and no other pod container of the provider. */
export async function onePerLease(b: BenchProvider, leaseIds: bigint[], seen: { max: number }): Promise<boolean> {
  const list = await podContainers(b);
  seen.max = Math.max(seen.max, list.length);
  if (list.length !== leaseIds.length || list.some((c) => c.State !== "running")) return false;
  const leases = new Set(list.map((c) => c.Labels["podnet.lease"]));
  return leaseIds.every((id) => leases.has(id.toString()));
}

/** Removes the floor containers labelled `runLabel` by {@link measureFloor}. */
export async function removeFloorContainers(runLabel: string): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [`podnet.bench=${runLabel}`] } });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true })));
}

/**
 * Warm-up, not timed: the one upload of the image blob, its decryption and `docker load` on the worker, a pod of
 * `manifest` serving, then the lease closed. Resolves with the lease and the time from its manifest to serving.
 */
export async function warmUp(b: BenchProvider, manifest: PodManifestInput) {
  const publisher = b.publishers[0] as Publisher;
  const { leaseId } = await createLease(b, publisher, manifest);
  const upload = await publisher.uploadBlob(b.worker.apiUrl, b.address, leaseId, b.image.cid, b.image.ciphertext);
  if (upload.status !== 201 && upload.status !== 200) throw new Error(`blob upload: ${upload.status}`);
  const start = now();
  await sendManifest(b, publisher, leaseId, manifest);
  await waitServing(b, leaseId);
  const servingMs = now() - start;
  await closeLease(b, publisher, leaseId);
  return { leaseId, servingMs };
}
