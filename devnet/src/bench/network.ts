/**
 * The autoscaler network under benchmark (npm run bench, bench:network): three `podnet-autoscaler node run` processes
 * on a devnet whose AutoscalerNetwork runs on a clock of seconds, three apps in network mode (target 1, handed over
 * with the SDK's `handAppToNetwork`) on the network's own providers.
 *
 * - Takeover: the node serving an app is killed (SIGKILL: its heartbeats stop) and the clock runs until another node
 *   runs the app (its `/v1/node` says `runningHere`): from then on the vault accepts that node's replacement, the
 *   figure the issue asks for ("node killed -> its apps' next replacement possible"; goal <= 2 heartbeat periods).
 *   The killed node comes back (same key and data dir) before the next kill.
 * - Failover under network mode: the provider hosting an app's instance is killed and the clock runs until the
 *   replacement, placed by a node, answers 200 through its provider's ingress.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { servingNode } from "@podnet/sdk/protocol";
import { type Address, getAddress } from "viem";
import { devAccount } from "../accounts.js";
import { type AutoscalerNodeProcess, killProvider, startAutoscalerNodeProcess } from "../autoscaler.js";
import type { Devnet } from "../devnet.js";
import { ensureGas, mint, TOKEN } from "../funds.js";
import { testImageTarball, webAppManifest } from "../images.js";
import { createNetworkApp, startNetworkNodes, nodeView as view } from "../network-nodes.js";
import type { RunningProvider } from "../provider.js";
import { podHost } from "../worker.js";
import { docker, httpGet } from "./pods.js";
import { atMost, fmt, goalCells, now, type Summary, summarize, until } from "./stats.js";

const IMAGE_TAG = "podnet-bench/network:1";
const PAGE = "hello from the autoscaler network";
/** Dev accounts: the network's providers, its nodes and the apps' owner (no test file uses them). */
export const NETWORK_ACCOUNTS = { providers: [90, 91, 92], nodes: [93, 94, 95], owner: 96 } as const;
const ATTRIBUTE = "region=network";
const PRICING = { perCpuMilli: 3n, perMemoryMiB: 2n, perStorageMiB: 0n, flat: 0n };
/** Apps in network mode, unless the run asks for fewer or more (`--network-apps`). */
export const NETWORK_APPS = 3;
const FUNDED = 100_000_000n;
const FEE = 1_000n;
const HEALTH = { type: "http", path: "/", interval: 1, timeout: 1, failuresBeforeReplace: 3 } as const;
/**
 * The network clock `npm run bench` deploys with (seconds): the launch ratio (60 / 90), six times faster. Not faster:
 * a node's tick (2 s) and its heartbeat transaction's latency are fixed costs that a shorter period would make look
 * larger than they are at the launch clock.
 */
export const BENCH_NETWORK_CLOCK = { heartbeatPeriod: 10, livenessWindow: 15 } as const;

export type TakeoverSample = { ms: number; from: Address; to: Address; apps: number };
export type NetworkResult = {
  apps: number;
  heartbeatPeriod: number;
  livenessWindow: number;
  takeover: Summary;
  takeovers: TakeoverSample[];
  failover: Summary;
};

type AppStatus = { instances: { slot: number; leaseId: string; provider: Address; health: string }[] };

const statusOn = async (n: AutoscalerNodeProcess, vault: Address): Promise<AppStatus | undefined> => {
  const response = await fetch(`${n.apiUrl}/v1/apps/${vault}/status`).catch(() => undefined);
  return response?.ok ? ((await response.json()) as AppStatus) : undefined;
};

/** Runs the network benchmark on `devnet` (its indexer must run, its chain deployed with a short network clock). */
export async function measureNetwork(
  devnet: Devnet,
  o: { kills: number; apps?: number; progress: (message: string) => void },
): Promise<NetworkResult> {
  const apps = o.apps ?? NETWORK_APPS;
  if (!devnet.indexer) throw new Error("measureNetwork: start the devnet's indexer first");
  const dir = join(devnet.dir, "network");
  mkdirSync(dir, { recursive: true });
  const { params } = await devnet.publisherClient(devAccount(NETWORK_ACCOUNTS.owner).account).getLiveAutoscalerNodes();
  const tarball = await testImageTarball(docker, IMAGE_TAG, join(dir, "app.tar"), { page: PAGE });
  const providers = await Promise.all(
    NETWORK_ACCOUNTS.providers.map((index) =>
      devnet.startProvider({ index, pricing: PRICING, attributes: [ATTRIBUTE] }),
    ),
  );
  const nodes: AutoscalerNodeProcess[] = await startNetworkNodes(devnet, {
    keys: NETWORK_ACCOUNTS.nodes.map((index) => devAccount(index)),
    dir,
    stake: 1_000n * TOKEN,
    env: { PODNET_AUTOSCALER_STARTUP_GRACE_SEC: "30", PODNET_AUTOSCALER_AVOID_FAILED_PROVIDER_SEC: "10" },
  });
  const addresses: Address[] = NETWORK_ACCOUNTS.nodes.map((index) => getAddress(devAccount(index).account.address));
  o.progress(`${providers.length} providers and ${nodes.length} autoscaler nodes running`);

  const owner = devAccount(NETWORK_ACCOUNTS.owner);
  await mint(devnet.chain, owner.account, FUNDED * BigInt(apps));
  await ensureGas(devnet.chain, owner.account.address);
  const ownerClient = devnet.publisherClient(owner.account, { blobCacheDir: join(dir, "owner-blobs") });
  const image = await ownerClient.prepareImage({ tarball });
  devnet.untagBlobOnStop(image.cid);
  const manifest = webAppManifest(image.image);
  const appYaml = {
    version: 1,
    instances: { min: 1, target: 1, maxPerProvider: 1 },
    price: { maxPerInstance: "1000" },
    placement: { topK: providers.length, attributes: [ATTRIBUTE] },
    funding: { depositPerLease: "600000", keepFunded: "600s" },
    health: HEALTH,
  };
  const vaults: Address[] = [];
  for (let a = 0; a < apps; a++) {
    vaults.push(
      await createNetworkApp(ownerClient, {
        dir: join(dir, `app-${a}`),
        manifest,
        appYaml,
        salt: `network bench ${Date.now()} ${a}`,
        funded: FUNDED,
        feePerReplacement: FEE,
        maxFeesPerDay: 1_000n * FEE,
      }),
    );
  }
  const healthyOn = (vault: Address) =>
    until(
      `app ${vault} healthy on a node`,
      async () => {
        for (const n of nodes) {
          const s = await statusOn(n, vault);
          const instance = s?.instances.find((i) => i.health === "healthy");
          if (instance) return { node: n, instance };
        }
        return undefined;
      },
      { timeoutMs: 180_000, intervalMs: 200 },
    );
  for (const vault of vaults) await healthyOn(vault);
  o.progress(`${vaults.length} apps in network mode at target`);

  // Takeover: kill the node serving app (i mod APPS), wait for another node to run it, bring the node back.
  const takeovers: TakeoverSample[] = [];
  for (let i = 0; i < o.kills; i++) {
    const vault = vaults[i % vaults.length] as Address;
    const serving = servingNode(vault, addresses) as Address;
    const index = addresses.indexOf(serving);
    const victim = nodes[index] as AutoscalerNodeProcess;
    const theirs = vaults.filter((v) => servingNode(v, addresses) === serving);
    const t0 = now();
    await victim.stop("SIGKILL");
    const others = nodes.filter((n) => n !== victim);
    const to = await until(
      `another node to run ${theirs.length} app(s) of the killed node`,
      async () => {
        const views = await Promise.all(others.map(view));
        const running = theirs.every((v) => views.some((w) => w?.apps.some((a) => a.vault === v && a.runningHere)));
        return running
          ? (views.find((w) => w?.apps.some((a) => a.vault === vault && a.runningHere))?.node ?? serving)
          : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 50 },
    );
    const ms = now() - t0;
    takeovers.push({ ms, from: serving, to, apps: theirs.length });
    o.progress(
      `takeover ${i + 1}/${o.kills}: node ${serving.slice(0, 8)}… killed, its ${theirs.length} app(s) run on ${to.slice(0, 8)}… ${fmt(ms)} ms later`,
    );
    const restarted = await startAutoscalerNodeProcess(victim.env, `node-restart-${i + 1}.log`);
    devnet.onStop(`stop restarted autoscaler node ${index}`, () => restarted.stop());
    nodes[index] = restarted;
    // Its apps come back to it once it is live again: wait until it runs them before the next kill.
    await until(
      "the restarted node to run its apps again",
      async () => {
        const v = await view(restarted);
        return theirs.every((x) => v?.apps.some((a) => a.vault === x && a.runningHere)) ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 200 },
    );
    for (const v of theirs) await healthyOn(v);
  }

  // Failover under network mode: kill the provider hosting app 0's instance.
  const failovers: number[] = [];
  for (let i = 0; i < Math.max(1, Math.min(3, o.kills)); i++) {
    const vault = vaults[0] as Address;
    const { instance } = await healthyOn(vault);
    const host = providers.find((p) => p.address.toLowerCase() === instance.provider.toLowerCase()) as RunningProvider;
    const t0 = now();
    await killProvider(devnet.docker, host);
    const replacement = await until(
      "a replacement lease on another provider",
      async () => {
        const lease = (await ownerClient.getApp({ vault })).slots[0]?.leaseId ?? 0n;
        return lease !== 0n && lease !== BigInt(instance.leaseId) ? lease : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 25 },
    );
    const { provider: to } = await ownerClient.getLease({ leaseId: replacement });
    const target = providers.find((p) => p.address === to) as RunningProvider;
    await until(
      `lease ${replacement} serving`,
      async () => {
        const { status, body } = await httpGet(target.worker.ingressPort, podHost(replacement));
        return status === 200 && body.includes(PAGE) ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 5 },
    );
    failovers.push(now() - t0);
    o.progress(
      `failover ${i + 1}: provider killed -> lease ${replacement} serving ${fmt(failovers.at(-1) as number)} ms later`,
    );
    await host.restart(`network-worker-restart-${i + 1}.log`);
  }
  return {
    apps,
    heartbeatPeriod: params.heartbeatPeriod,
    livenessWindow: params.livenessWindow,
    takeover: summarize(takeovers.map((t) => t.ms)),
    takeovers,
    failover: summarize(failovers),
  };
}

/** The rows of a benchmark table. */
export function networkRows(r: NetworkResult): string[] {
  const goal = 2 * r.heartbeatPeriod * 1000;
  return [
    `| network takeover: serving node killed -> another node runs its apps (replacement possible), p50 / p95 / max (${r.takeover.n} kills; heartbeat ${r.heartbeatPeriod} s, liveness window ${r.livenessWindow} s) | ${fmt(r.takeover.p50)} / ${fmt(r.takeover.p95)} / ${fmt(r.takeover.max)} ms | ${goalCells(atMost(r.takeover, { max: goal }, " ms (2 heartbeat periods)"))} |`,
    `| failover under network mode: kill -9 of the instance's provider -> the node's replacement serving, p50 / max (${r.failover.n} kills) | ${fmt(r.failover.p50)} / ${fmt(r.failover.max)} ms | | |`,
  ];
}

/** The setup line of a network report. */
export function networkSetup(r: NetworkResult): string {
  return (
    `- Autoscaler network: 3 node processes, ${r.apps} ${r.apps === 1 ? "app" : "apps"} in network mode (target 1, handed over with ` +
    `handAppToNetwork), 3 providers of their own; the AutoscalerNetwork deployed with heartbeat ${r.heartbeatPeriod} s ` +
    `and liveness window ${r.livenessWindow} s (the launch 60 / 90 s ratio); each killed node restarted and given ` +
    "its apps back before the next kill"
  );
}
