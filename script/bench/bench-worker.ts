/**
 * `npm run bench:worker -- [--leases N] [--pods N] [--manifest-delay MS] [--back-to-back] [--no-infra] [--no-warm-networks]
 * [--no-push] [--keep-logs] [--json FILE]`: benchmarks the provider
 * worker on real parts: its own anvil with the real contracts (automine), the worker as a child process
 * (`podnet-worker run`, so kill -9 is real), the Docker Engine of script/toolchain/docker.sh, and a publisher that signs its
 * requests with the protocol layer.
 *
 * 1. lease tx -> pod serving over --leases leases (default 30), one at a time: the quote is fetched first (a separate
 *    round trip a publisher can make ahead), then the clock starts, createLease -> receipt -> PUT manifest (the image
 *    blob was uploaded once during setup) -> the ingress answers 200 with the page for `l<lease>.pods.localhost`
 *    (polled every 5 ms). Docker events split the last step into container created and started; the lease network
 *    is timed from the receipt, since the worker makes it as soon as it sees the lease, possibly before the manifest.
 *    Each lease is closed after its measurement and its pod removed before the next one starts, and (unless
 *    --back-to-back) sent once the worker's warm networks are all made again. --manifest-delay
 *    sends each manifest that many ms after the receipt (left out of the totals), so the worker sees the lease first.
 * 2. The "docker run floor": createContainer + start of the same image with a published 127.0.0.1 port -> first 200.
 * 3. --pods pods (default 50, at most 1,000, 10 mCPU / 8 MiB each) deployed by five publishers at once; the
 *    worker's RSS (/proc/<pid>/status VmRSS) sampled over ~10 s, and the containers' own memory (Docker) reported
 *    apart from it.
 * 4. Restart reconcile: (a) kill -9 with the pods running, restart, time to /health and to every pod serving;
 *    (b) kill -9, remove 10 of the containers, restart, time until every pod serves again and exactly one container
 *    per lease exists.
 * 5. Prints a markdown table with the goal next to each figure, the machine and the date.
 *
 * Everything it starts is stopped on exit, error or Ctrl-C: the worker, the pods and their networks
 * (removeProviderLeftovers), the floor containers, the image tag the worker made, anvil, and the temp dir (kept with
 * --keep-logs, for the worker's and anvil's logs).
 *
 * The worker creates every lease network itself, from its own subnet pool (`podNetworkPool`, by default
 * 10.200.0.0/14 in /24s), as in production; the report lists the subnets the --pods pods got. The worker's API and
 * ingress ports are picked below the ephemeral port range (`freePort` of devnet/src/net.ts), where Docker does not
 * assign pods' host ports.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import {
  cleanupOnSignal,
  Devnet,
  fundedPublisher,
  type Publisher,
  podNetworks,
  repoRoot,
  sealTestImage,
  workerBin,
} from "@podnet/devnet";
import { rssBytes } from "@podnet/devnet/bench/load";
import {
  agent,
  type BenchProvider,
  closeLease,
  createLease,
  deployPods,
  docker,
  killWorker,
  measureFloor,
  onePerLease,
  podContainers,
  podManifest,
  providerContainers,
  removeFloorContainers,
  sendManifest,
  startBenchProvider,
  timeRestart,
  WARM_NETWORKS,
  WARM_POOL_WAIT_MS,
  waitServing,
  warmNetworksMade,
  warmUp,
  workerMetrics,
} from "@podnet/devnet/bench/pods";
import { machineWithDocker, reportedCommand, writeJsonResult } from "@podnet/devnet/bench/report";
import { fmt, load1, median, met, mib, now, progressLog, sleep, summarize } from "@podnet/devnet/bench/stats";
import { createPublicClient, http } from "viem";
import { namePrefix, type WorkerInstance, workerInstance } from "../../worker/src/runtime/names.js";

const GOAL_MS = 1_000;
const FLOOR_RUNS = 10;
const PUBLISHERS = 5;
const REMOVED_CONTAINERS = 10;
/** The worker's default pod network pool holds 1,024 /24s; this leaves room for subnets other networks block. */
const MAX_PODS = 1_000;
/**
 * The provider's dev account: one no test suite uses. Docker objects are labelled with the provider's address, so a
 * test worker of the same address on this engine (test/worker.test.ts uses account 1) would take the benchmark's
 * pods for its own, remove them, or collide on network names, and each side's cleanup would remove the other's pods.
 */
const PROVIDER_ACCOUNT = 19;
const RSS_WINDOW_MS = 10_000;
const RSS_SAMPLES = 6;
const IMAGE_TAG = "podnet-bench/web:1";
const PAGE = "hello from the podnet worker benchmark";

const benchStart = Date.now();
const progress = progressLog(benchStart);

// ---------------------------------------------------------------- Docker events (breakdown of lease -> serving)

type DockerEvent = { type: string; action: string; name: string; at: number };

/** Container and network events with their time on the performance.now() clock. */
class DockerEvents {
  readonly events: DockerEvent[] = [];
  private stream: NodeJS.ReadableStream | undefined;

  async start() {
    const stream = await docker.getEvents({ filters: { type: ["container", "network"] } });
    this.stream = stream;
    let buffered = "";
    stream.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf("\n");
        if (line === "") continue;
        try {
          const e = JSON.parse(line) as {
            Type: string;
            Action: string;
            Actor?: { Attributes?: Record<string, string> };
            timeNano: number;
          };
          // Docker's wall clock (ns) on the monotonic clock this process measures with.
          const wallMs = Number(BigInt(e.timeNano) / 1000n) / 1000;
          this.events.push({
            type: e.Type,
            action: e.Action,
            name: e.Actor?.Attributes?.name ?? "",
            at: wallMs - performance.timeOrigin,
          });
        } catch {
          // A malformed line only costs a breakdown figure.
        }
      }
    });
    stream.on("error", () => undefined);
  }

  /** The first event of `type`/`action` whose object name is `name` (or starts with `name` when `prefix`). */
  first(type: string, action: string, name: string, prefix = false): number | undefined {
    return this.events.find(
      (e) => e.type === type && e.action === action && (prefix ? e.name.startsWith(name) : e.name === name),
    )?.at;
  }

  /** The last matching event before `before`: slot networks' names come back when a slot is used again. */
  lastBefore(type: string, action: string, name: string, before: number): number | undefined {
    return this.events.filter((e) => e.type === type && e.action === action && e.name === name && e.at <= before).at(-1)
      ?.at;
  }

  stop() {
    (this.stream as { destroy?: () => void } | undefined)?.destroy?.();
  }
}

// ---------------------------------------------------------------- the bench's world

// ---------------------------------------------------------------- 1. lease tx -> serving

type LeaseSample = {
  total: number;
  tx: number;
  manifest: number;
  serving: number;
  /** The lease network's `create` event, from the createLease receipt, when it was made for the lease. */
  networkAfterReceipt?: number;
  /** The pod got a warm network, made before its lease (warmNetworks). */
  networkWarm?: boolean;
  /** Whether that event came before the manifest's 202. */
  networkBeforeManifest?: boolean;
  /** The pod joined its slot's infra container (worker/src/runtime/infra-containers.ts). */
  infra: boolean;
  /** How long the lease waited for the worker's warm networks to be made (ms; 0 with --back-to-back). */
  poolWait: number;
  toCreated?: number;
  toStarted?: number;
  toRouted: number;
  teardown: number;
};

/** The bench worker's instance (runtime/names.ts): what its Docker objects are named after. */
async function instanceOf(b: BenchProvider): Promise<WorkerInstance> {
  const { deployment, rpcUrl } = b.chain;
  const client = createPublicClient({ transport: http(rpcUrl) });
  const block = await client.getBlock({ blockNumber: BigInt(deployment.deployBlock) });
  return workerInstance({
    chainId: deployment.chainId,
    market: deployment.contracts.podnetMarket.address,
    deployBlockHash: block.hash,
    provider: b.address,
  });
}

/**
 * `manifestDelayMs` > 0 sends each manifest that long after the receipt, like a publisher on a chain with real blocks
 * whose manifest arrives after the worker saw the lease; the wait is left out of the totals.
 */
async function measureLeases(
  b: BenchProvider,
  count: number,
  manifestDelayMs: number,
  backToBack: boolean,
): Promise<LeaseSample[]> {
  const publisher = b.publishers[0] as Publisher;
  const manifest = podManifest(b.image.cid, 250, 64);
  const events = new DockerEvents();
  await events.start();
  const samples: LeaseSample[] = [];
  const instance = await instanceOf(b);
  const prefix = namePrefix(instance);
  try {
    for (let i = 0; i < count; i++) {
      const poolWait = backToBack ? 0 : await warmNetworksMade(b);
      const { leaseId, t0, t1 } = await createLease(b, publisher, manifest);
      let waited = 0;
      if (manifestDelayMs > 0) {
        await sleep(manifestDelayMs);
        waited = now() - t1;
      }
      await sendManifest(b, publisher, leaseId, manifest);
      const t2 = now();
      const { routedAt, servingAt } = await waitServing(b, leaseId);
      const since = (at: number | undefined) => (at === undefined ? undefined : at - t2);
      // The pod's network: a warm one (made before the run's events began, or earlier in it) or one made for the lease.
      const { name: network, infra } = await leaseNetwork(b, leaseId);
      const networkAt =
        network === undefined ? undefined : (events.lastBefore("network", "create", network, servingAt) ?? -Infinity);
      const sample: LeaseSample = {
        total: servingAt - t0 - waited,
        tx: t1 - t0,
        manifest: t2 - t1 - waited,
        serving: servingAt - t2,
        networkAfterReceipt: networkAt === undefined || networkAt < t0 ? undefined : networkAt - t1,
        networkBeforeManifest: networkAt === undefined ? undefined : networkAt < t2,
        networkWarm: networkAt !== undefined && networkAt < t0,
        infra,
        poolWait,
        toCreated: since(events.first("container", "create", `${prefix}-l${leaseId}-`, true)),
        toStarted: since(events.first("container", "start", `${prefix}-l${leaseId}-`, true)),
        toRouted: routedAt - t2,
        teardown: await closeLease(b, publisher, leaseId),
      };
      samples.push(sample);
      progress(
        `lease ${i + 1}/${count} (id ${leaseId}): ${fmt(sample.total)} ms ` +
          `(tx ${fmt(sample.tx)}, manifest ${fmt(sample.manifest)}, serving ${fmt(sample.serving)}; ` +
          `network ${fmt(sample.networkAfterReceipt ?? Number.NaN)} after the receipt` +
          `${sample.networkBeforeManifest ? ", before the manifest" : ""}); ` +
          `removed ${fmt(sample.teardown)} ms after closeLease`,
      );
    }
  } finally {
    events.stop();
  }
  return samples;
}

/** Sum (s) and count of the worker's own provision_seconds histogram (manifest received -> pod running). */
async function workerProvision(b: BenchProvider): Promise<{ sum: number; count: number }> {
  const value = await workerMetrics(b);
  return { sum: value("podnet_worker_provision_seconds_sum"), count: value("podnet_worker_provision_seconds_count") };
}

/** Failed pod reconciles the worker counted since it started (a subnet Docker refused shows up here). */
async function reconcileErrors(b: BenchProvider): Promise<number> {
  return (await workerMetrics(b))("podnet_worker_reconcile_errors_total");
}

// ---------------------------------------------------------------- 2. docker run floor

// ---------------------------------------------------------------- 3. many pods

/** The name of the network the lease's pod container is on, and whether it joined an infra container. */
async function leaseNetwork(b: BenchProvider, leaseId: bigint): Promise<{ name?: string; infra: boolean }> {
  const container = (await podContainers(b)).find((c) => c.Labels["podnet.lease"] === leaseId.toString());
  if (container === undefined) return { infra: false };
  const name = Object.keys(await podNetworks(docker, container))[0];
  return { ...(name ? { name } : {}), infra: (container.HostConfig?.NetworkMode ?? "").startsWith("container:") };
}

/**
 * The subnets of the networks the provider's pods are attached to (all made by the worker), in address order; the
 * warm networks no lease holds yet are not counted.
 */
async function podSubnets(b: BenchProvider): Promise<{ networks: number; subnets: string[] }> {
  const endpoints = await Promise.all((await podContainers(b)).map((c) => podNetworks(docker, c)));
  const used = new Set(endpoints.flatMap((byName) => Object.values(byName).map((n) => n.NetworkID)));
  const networks = (await docker.listNetworks({ filters: { label: [b.label] } })).filter((n) => used.has(n.Id));
  const key = (cidr: string) => cidr.split(/[./]/).map((part) => part.padStart(3, "0"));
  const subnets = networks
    .flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? "?"))
    .sort((x, y) => (key(x).join() < key(y).join() ? -1 : 1));
  return { networks: networks.length, subnets };
}

/** "10.200.0.0/24 .. 10.200.49.0/24, contiguous" or the list of gaps. */
function describeSubnets(subnets: string[]): string {
  if (subnets.length === 0) return "none";
  const index = (cidr: string) => {
    const [a = 0, b = 0, c = 0] = cidr.split(/[./]/).map(Number);
    return (a * 256 + b) * 256 + c;
  };
  const indexes = subnets.map(index);
  const contiguous = indexes.every((v, i) => i === 0 || v === (indexes[i - 1] as number) + 1);
  return `${subnets[0]} .. ${subnets.at(-1)}${contiguous ? ", contiguous" : ", with gaps"}`;
}

async function sampleRss(pid: number) {
  const samples: number[] = [];
  for (let i = 0; i < RSS_SAMPLES; i++) {
    if (i > 0) await sleep(RSS_WINDOW_MS / (RSS_SAMPLES - 1));
    samples.push(rssBytes(pid));
  }
  return { max: Math.max(...samples), last: samples.at(-1) as number, samples };
}

/** The pods' own memory as Docker reports it (usage minus inactive file cache, like `docker stats`). */
async function containersMemory(b: BenchProvider): Promise<number> {
  const list = await providerContainers(b);
  const usage = await Promise.all(
    list.map(async (c) => {
      const stats = (await docker
        .getContainer(c.Id)
        .stats({ stream: false, "one-shot": true } as never)) as unknown as {
        memory_stats?: { usage?: number; stats?: Record<string, number> };
      };
      const m = stats.memory_stats ?? {};
      return (m.usage ?? 0) - (m.stats?.total_inactive_file ?? m.stats?.inactive_file ?? 0);
    }),
  );
  return usage.reduce((a, b) => a + b, 0);
}

// ---------------------------------------------------------------- 4. restart reconcile

/** Wall time of `podnet-worker config`: node, the tsx loader and every module of the worker, no chain or Docker. */
async function workerBootMs(env: Record<string, string>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = now();
    await promisify(execFile)(process.execPath, [workerBin, "config"], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
    });
    samples.push(now() - start);
  }
  return median(samples);
}

// ---------------------------------------------------------------- report

type Results = {
  options: Options;
  leases: LeaseSample[];
  provision: { meanMs: number; count: number };
  floor: number[];
  pods: { count: number; deploySeconds: number; networks: number; subnets: string[]; reconcileErrors: number };
  rssIdle: number;
  rss: { max: number; last: number; samples: number[] };
  containersMemory: number;
  bootMs: number;
  restartA: { healthMs: number; allServingMs: number; firstServedMedian: number; count: number };
  restartB: {
    healthMs: number;
    allServingMs: number;
    doneMs: number;
    untouchedMedian: number;
    recreatedMedian: number;
    maxCount: number;
    later: number;
  };
  rssAfterRestart: number;
};

const loadAtStart = load1();

function report(r: Results, machineText: string, command: string): string {
  const total = summarize(r.leases.map((s) => s.total));
  const med = (pick: (s: LeaseSample) => number | undefined) =>
    fmt(median(r.leases.map(pick).filter((v): v is number => v !== undefined)));
  const floor = summarize(r.floor);
  const n = r.options.pods;
  const networkSeen = r.leases.filter((s) => s.networkBeforeManifest !== undefined).length;
  const networkEarly = r.leases.filter((s) => s.networkBeforeManifest).length;
  return [
    `Run ${new Date().toISOString()} with \`${command}\`.`,
    "",
    `- Machine: ${machineText}`,
    `- Load average (1 min) at the start / the end: ${loadAtStart} / ${load1()} on ${cpus().length} cores`,
    `- Chain: anvil with automine; worker ${r.options.push ? "woken by a new-head subscription (push) and " : ""}polling the chain every 100 ms${r.options.push ? "" : " (no push: --no-push)"}, reconciling every 1 s`,
    `- Lease pods: 250 mCPU / 64 MiB, busybox httpd image (${IMAGE_TAG}) sent as an encrypted blob, uploaded once`,
    ...(r.options.manifestDelayMs > 0
      ? [
          `- Timed leases: each manifest sent ${r.options.manifestDelayMs} ms after the receipt (--manifest-delay);` +
            " that wait is left out of the totals and of the manifest figure",
        ]
      : []),
    "- Many-pods pods: 10 mCPU / 8 MiB each",
    `- Every lease network is created by the worker, from its own subnet pool (\`podNetworkPool\`, default 10.200.0.0/14 in /24s)${r.options.warmNetworks ? `, ${WARM_NETWORKS} kept warm (made ahead of their leases)${r.options.infra ? ", each with an infra container a single-container pod joins" : " (--no-infra: no infra containers)"}` : "; none kept warm (--no-warm-networks)"}`,
    r.options.warmNetworks && !r.options.backToBack
      ? `- Each timed lease is sent once the worker's ${WARM_NETWORKS} warm networks are made (its /metrics), at most ${fmt(WARM_POOL_WAIT_MS)} ms later, as the floor runs on an idle engine; --back-to-back sends it as soon as the last pod is removed`
      : "- Each timed lease is sent as soon as the last one's pod is removed (--back-to-back, or no warm networks)",
    "",
    "| measure | value | goal | |",
    "|---|---|---|---|",
    `| lease tx -> pod serving, p50 / p95 / max (${r.leases.length} leases) | ${fmt(total.p50)} / ${fmt(total.p95)} / ${fmt(total.max)} ms | p50, p95 <= ${fmt(GOAL_MS)} ms | ${met(total.p50 <= GOAL_MS && total.p95 <= GOAL_MS)} |`,
    `| of which createLease tx + receipt (median) | ${med((s) => s.tx)} ms | | |`,
    `| of which manifest PUT until 202 (median) | ${med((s) => s.manifest)} ms | | |`,
    `| of which 202 until the ingress serves the page (median) | ${med((s) => s.serving)} ms | | |`,
    `| lease network: warm (made before the lease) / ready before the manifest's 202; created after the receipt when made for the lease (median) | ${r.leases.filter((s) => s.networkWarm).length} / ${networkEarly} of ${networkSeen}; ${med((s) => s.networkAfterReceipt)} ms | | |`,
    `| pods that joined their slot's infra container; wait for the warm networks before the lease (median / max) | ${r.leases.filter((s) => s.infra).length} of ${r.leases.length}; ${med((s) => s.poolWait)} / ${fmt(Math.max(...r.leases.map((s) => s.poolWait)))} ms | | |`,
    `| after the 202 (medians, Docker events): container created / container started / routed / 200 | ${med((s) => s.toCreated)} / ${med((s) => s.toStarted)} / ${med((s) => s.toRouted)} / ${med((s) => s.serving)} ms | | |`,
    `| worker's own provision time, manifest -> running (mean of /metrics, ${r.provision.count} pods) | ${fmt(r.provision.meanMs)} ms | | |`,
    `| closeLease -> pod container and network removed (median) | ${med((s) => s.teardown)} ms | | |`,
    `| docker run floor: create + start -> first 200, p50 / max (${r.floor.length} runs) | ${fmt(floor.p50)} / ${fmt(floor.max)} ms | | |`,
    `| deploy ${n} pods (${PUBLISHERS} publishers at once) until all serve | ${fmt(r.pods.deploySeconds, 1)} s | | |`,
    `| lease networks of the ${n} pods, all made by the worker (their subnets) | ${r.pods.networks} (${describeSubnets(r.pods.subnets)}) | ${n} | ${met(r.pods.networks === n)} |`,
    `| failed pod reconciles in the worker's first run (warm-up, timed leases, ${n} pods) | ${r.pods.reconcileErrors} | | |`,
    `| worker RSS, started, no pods | ${mib(r.rssIdle)} MiB | | |`,
    `| worker RSS with ${n} pods, max / last of ${r.rss.samples.length} samples over ${RSS_WINDOW_MS / 1000} s | ${mib(r.rss.max)} / ${mib(r.rss.last)} MiB | | |`,
    `| the ${n} containers' own memory (Docker, not the worker's) | ${mib(r.containersMemory)} MiB | | |`,
    `| worker process boot alone (\`podnet-worker config\`: node, tsx, all modules), median of 3 | ${fmt(r.bootMs)} ms | | |`,
    `| restart (a): kill -9 with ${n} pods, spawn -> /health 200 | ${fmt(r.restartA.healthMs)} ms | | |`,
    `| restart (a): spawn -> all ${n} pods serving through the ingress (median pod back at) | ${fmt(r.restartA.allServingMs)} ms (${fmt(r.restartA.firstServedMedian)} ms) | | |`,
    `| restart (b): kill -9, ${REMOVED_CONTAINERS} containers removed, spawn -> /health 200 | ${fmt(r.restartB.healthMs)} ms | | |`,
    `| restart (b): spawn -> all ${n} serving and exactly ${n} containers, one per lease | ${fmt(r.restartB.doneMs)} ms (all serving at ${fmt(r.restartB.allServingMs)} ms) | | |`,
    `| restart (b): median pod back, the ${n - REMOVED_CONTAINERS} untouched / the ${REMOVED_CONTAINERS} recreated | ${fmt(r.restartB.untouchedMedian)} / ${fmt(r.restartB.recreatedMedian)} ms | | |`,
    `| containers of the provider: after (a) / most seen during (b) / 3 s after (b) | ${r.restartA.count} / ${r.restartB.maxCount} / ${r.restartB.later} | ${n} / ${n} / ${n} | ${met(r.restartA.count === n && r.restartB.maxCount === n && r.restartB.later === n)} |`,
    `| worker RSS after the restarts, ${n} pods | ${mib(r.rssAfterRestart)} MiB | | |`,
  ].join("\n");
}

// ---------------------------------------------------------------- main

type Options = {
  leases: number;
  pods: number;
  manifestDelayMs: number;
  keepLogs: boolean;
  json?: string;
  push: boolean;
  warmNetworks: boolean;
  infra: boolean;
  backToBack: boolean;
};

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      leases: { type: "string", default: "30" },
      "manifest-delay": { type: "string", default: "0" },
      pods: { type: "string", default: "50" },
      "keep-logs": { type: "boolean", default: false },
      // The figures as JSON too (what `npm run bench:growth` charts).
      json: { type: "string" },
      // The worker without its new-head subscription (polling only), to measure what push buys.
      "no-push": { type: "boolean", default: false },
      // No warm pod networks (warmNetworks 0): each lease's network made when the lease starts, as before.
      "no-warm-networks": { type: "boolean", default: false },
      // No infra containers (infraContainers false): every pod container gets its own endpoint, as before.
      "no-infra": { type: "boolean", default: false },
      // Each timed lease sent as soon as the last one's pod is removed, without waiting for the warm pool.
      "back-to-back": { type: "boolean", default: false },
    },
  });
  const count = (name: string, raw: string, min: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min}, got "${raw}"`);
    return n;
  };
  const pods = count("pods", values.pods, REMOVED_CONTAINERS);
  if (pods > MAX_PODS) throw new Error(`--pods: at most ${MAX_PODS} (the worker's pool holds 1,024 pod networks)`);
  return {
    leases: count("leases", values.leases, 1),
    pods,
    manifestDelayMs: count("manifest-delay", values["manifest-delay"], 0),
    keepLogs: values["keep-logs"],
    json: values.json,
    push: !values["no-push"],
    warmNetworks: !values["no-warm-networks"],
    infra: !values["no-infra"],
    backToBack: values["back-to-back"],
  };
}

async function main() {
  const options = parseOptions();
  const command = reportedCommand("npx tsx script/bench/bench-worker.ts");
  const dir = mkdtempSync(join(tmpdir(), "podnet-bench-worker-"));
  const runLabel = `floor-${process.pid}-${Date.now()}`;
  let devnet: Devnet | undefined;

  const cleanup = async () => {
    // The devnet stops the worker, removes its pods and networks and the blob image it tagged (the image itself is
    // IMAGE_TAG, reused by the next run), the floor containers, anvil and the temp dir.
    if (devnet) await devnet.stop();
    else if (!options.keepLogs) rmSync(dir, { recursive: true, force: true });
    agent.destroy();
    if (options.keepLogs) console.log(`Logs kept in ${dir} (provider-${PROVIDER_ACCOUNT}/*.log, chain/anvil.log)`);
  };
  cleanupOnSignal(cleanup);

  try {
    console.log("Setup: anvil, contracts, test image, provider, worker");
    devnet = await Devnet.start({ dir, removeDir: !options.keepLogs });
    devnet.onStop("remove the floor containers", () => removeFloorContainers(runLabel));
    const image = await sealTestImage(docker, IMAGE_TAG, { page: PAGE });
    devnet.untagBlobOnStop(image.cid);
    const publishers: Publisher[] = [];
    for (let i = 0; i < PUBLISHERS; i++) publishers.push(await fundedPublisher(devnet.chain, 2 + i));
    const b = await startBenchProvider(devnet, {
      index: PROVIDER_ACCOUNT,
      env: {
        PODNET_WITHDRAW_INTERVAL_SEC: "100000",
        ...(options.push ? {} : { PODNET_RPC_SUBSCRIBE_URL: "" }),
        ...(options.warmNetworks ? {} : { PODNET_WARM_NETWORKS: "0" }),
        ...(options.infra ? {} : { PODNET_INFRA_CONTAINERS: "false" }),
      },
      image,
      publishers,
      page: PAGE,
    });
    const { worker } = b;
    await sleep(1000);
    const rssIdle = rssBytes(worker.process.pid as number);

    const warm = await warmUp(b, podManifest(image.cid, 250, 64));
    progress(
      `warm-up lease ${warm.leaseId}: ${fmt(image.ciphertext.length / 2 ** 20, 1)} MiB image blob uploaded, ` +
        `decrypted, loaded and serving in ${fmt(warm.servingMs)} ms`,
    );

    console.log(`1. lease tx -> serving, ${options.leases} leases one at a time`);
    const provisionBefore = await workerProvision(b);
    const leases = await measureLeases(
      b,
      options.leases,
      options.manifestDelayMs,
      options.backToBack || !options.warmNetworks,
    );
    const provisionAfter = await workerProvision(b);
    const provisionCount = provisionAfter.count - provisionBefore.count;
    const provision = {
      meanMs: ((provisionAfter.sum - provisionBefore.sum) / provisionCount) * 1000,
      count: provisionCount,
    };

    console.log(`2. docker run floor, ${FLOOR_RUNS} runs`);
    const floor = await measureFloor(IMAGE_TAG, PAGE, runLabel, FLOOR_RUNS);
    progress(`floor p50 ${fmt(median(floor))} ms`);

    console.log(`3. ${options.pods} pods`);
    const pods = await deployPods(b, options.pods);
    progress(`${options.pods} leases created and manifests sent in ${fmt(pods.sentSeconds, 1)} s`);
    progress(`all ${options.pods} pods serving ${fmt(pods.seconds, 1)} s after the first createLease`);
    const [podNetworks, errors] = await Promise.all([podSubnets(b), reconcileErrors(b)]);
    progress(
      `${podNetworks.networks} lease networks, subnets ${describeSubnets(podNetworks.subnets)}; ${errors} failed reconciles`,
    );
    const [rss, memory] = await Promise.all([sampleRss(b.worker.process.pid as number), containersMemory(b)]);
    progress(`worker RSS max ${mib(rss.max)} MiB, last ${mib(rss.last)} MiB; containers ${mib(memory)} MiB`);

    console.log("4a. kill -9 and restart");
    const bootMs = await workerBootMs(b.env);
    progress(`worker process boot alone: ${fmt(bootMs)} ms`);
    await killWorker(b);
    const a = await timeRestart(b, pods.leaseIds, "worker-restart-a.log");
    const countA = (await podContainers(b)).length;
    progress(`/health after ${fmt(a.healthMs)} ms, all serving after ${fmt(a.allServingMs)} ms, ${countA} containers`);

    console.log(`4b. kill -9, remove ${REMOVED_CONTAINERS} containers, restart`);
    await killWorker(b);
    const list = await podContainers(b);
    const step = Math.floor(list.length / REMOVED_CONTAINERS);
    const victims = list.filter((_, i) => i % step === 0).slice(0, REMOVED_CONTAINERS);
    await Promise.all(victims.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    const recreated = new Set(victims.map((c) => c.Labels["podnet.lease"]));
    const remaining = (await podContainers(b)).length;
    progress(`removed ${victims.length} containers, ${remaining} left`);
    const seen = { max: 0 };
    const restartB = await timeRestart(b, pods.leaseIds, "worker-restart-b.log", () =>
      onePerLease(b, pods.leaseIds, seen),
    );
    await sleep(3000);
    const later = (await podContainers(b)).length;
    progress(
      `/health after ${fmt(restartB.healthMs)} ms, all serving after ${fmt(restartB.allServingMs)} ms, ` +
        `one container per lease after ${fmt(restartB.doneMs)} ms; ${later} containers 3 s later`,
    );
    const rssAfterRestart = rssBytes(b.worker.process.pid as number);
    const backAt = (pick: (id: bigint) => boolean) =>
      median([...restartB.firstServed].filter(([id]) => pick(id)).map(([, at]) => at));
    const untouchedMedian = backAt((id) => !recreated.has(id.toString()));
    const recreatedMedian = backAt((id) => recreated.has(id.toString()));
    progress(`median pod back: untouched ${fmt(untouchedMedian)} ms, recreated ${fmt(recreatedMedian)} ms`);

    const table = report(
      {
        options,
        leases,
        provision,
        floor,
        pods: { count: options.pods, deploySeconds: pods.seconds, ...podNetworks, reconcileErrors: errors },
        rssIdle,
        rss,
        containersMemory: memory,
        bootMs,
        restartA: { ...a, firstServedMedian: median([...a.firstServed.values()]), count: countA },
        restartB: { ...restartB, untouchedMedian, recreatedMedian, maxCount: seen.max, later },
        rssAfterRestart,
      },
      await machineWithDocker(),
      command,
    );
    console.log(`\n${table}\n`);
    if (options.json) {
      const total = summarize(leases.map((s) => s.total));
      writeJsonResult(options.json, "worker", command, {
        pods: options.pods,
        leaseToServingMs: { p50: total.p50, p95: total.p95, n: total.n },
        floorMs: summarize(floor),
        deploySeconds: pods.seconds,
        rssIdleMiB: rssIdle / 2 ** 20,
        rssMaxMiB: rss.max / 2 ** 20,
        containersMemoryMiB: memory / 2 ** 20,
        restartA: { healthMs: a.healthMs, allServingMs: a.allServingMs },
        restartB: { healthMs: restartB.healthMs, allServingMs: restartB.allServingMs, doneMs: restartB.doneMs },
      });
    }
    console.log(`Total ${fmt((Date.now() - benchStart) / 1000)} s`);
  } finally {
    await cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
