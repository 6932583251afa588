/**
 * App DNS end to end on real parts: anvil with the real contracts, the indexer, three provider workers on a real
 * Docker Engine, each with its ingress on its own loopback address (127.0.0.2, .3, .4) on one shared port and that
 * address published in the registry (`podnet-worker register` → `setIngress`), the `podnet-autoscaler` daemon keeping
 * an app at 2 instances, `podnet-dns` answering `web.apps.test` from the autoscaler's status, and `podnet-lb` in front.
 * Queried with Debian's `dig` and fetched with `curl`, as a user would.
 *
 * The pod asks for the custom host `web.apps.test`: each worker routes it only after the TXT proof
 * `_podnet-lease.web.apps.test` (served by podnet-dns from the autoscaler's instance set) names its lease.
 */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  type AutoscalerProcess,
  createAutoscaledApp,
  Devnet,
  devAccount,
  freePort,
  killProvider,
  localDocker,
  type RunningProvider,
  startAutoscalerProcess,
  testImageTarball,
  waitFor,
  waitForIndexedBlock,
  webAppManifest,
} from "@podnet/devnet";
import { proofValue } from "@podnet/sdk/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DnsServer, startDnsServer } from "../autoscaler/src/dns/server.js";
import { type LoadBalancer, startLoadBalancer } from "../autoscaler/src/lb/lb.js";
import type { AppStatus } from "../autoscaler/src/status-wire.js";

const run = promisify(execFile);
const PAGE = "hello from an app behind podnet-dns";
const CHEAP = { perCpuMilli: 3n, perMemoryMiB: 2n, perStorageMiB: 0n, flat: 0n }; // 878/s
const DEAR = { perCpuMilli: 3n, perMemoryMiB: 3n, perStorageMiB: 0n, flat: 50n }; // 992/s
const ZONE = "apps.test";
const NAME = `web.${ZONE}`;
/** The answers' TTL: how long a resolver may keep a dead address after podnet-dns dropped it. */
const TTL = 2;
/** app.yaml's probes: every 1 s, 1 s timeout; one failed probe takes an instance out of the answers. */
const PROBE_SEC = 2;
const ADDRESSES = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];

let devnet: Devnet;
let dir: string;
let providers: RunningProvider[];
let autoscaler: AutoscalerProcess | undefined;
let dns: DnsServer;
let lb: LoadBalancer | undefined;
let ingressPort: number;
let statusUrl: string;
let chainId: number;

async function status(): Promise<AppStatus> {
  return (await (await fetch(statusUrl)).json()) as AppStatus;
}

/** `dig @podnet-dns <name> <type> +short` (UDP, or TCP with `+tcp`): the answer's data, one per line, sorted. */
async function dig(name: string, type: string, ...flags: string[]): Promise<string[]> {
  const { stdout } = await run("dig", [`@${dns.host}`, "-p", String(dns.port), name, type, "+short", ...flags]);
  return stdout
    .split("\n")
    .map((line) => line.trim().replace(/^"|"$/g, ""))
    .filter(Boolean)
    .sort();
}

/** `curl` of http://web.apps.test:<port>/ connecting to `address`, as a client that resolved the name to it. */
async function curl(address: string): Promise<{ status: number; body: string }> {
  const { stdout } = await run("curl", [
    "-s",
    "--max-time",
    "5",
    "--resolve",
    `${NAME}:${ingressPort}:${address}`,
    "-w",
    "\n%{http_code}",
    `http://${NAME}:${ingressPort}/`,
  ]).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? "\n0" }));
  const cut = stdout.lastIndexOf("\n");
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

const addressOf = (provider: string) =>
  ADDRESSES[providers.findIndex((p) => p.address.toLowerCase() === provider.toLowerCase())] as string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-app-dns-"));
  let tarball = "";
  await Promise.all([
    Devnet.start({ dir }).then((started) => {
      devnet = started;
    }),
    testImageTarball(localDocker(), "podnet-test/app-dns:1", join(dir, "app.tar"), { page: PAGE }).then((path) => {
      tarball = path;
    }),
  ]);
  chainId = devnet.chain.deployment.chainId;
  // The autoscaler's status port is chosen first: podnet-dns must know it, and the workers must know podnet-dns.
  const statusPort = await freePort();
  statusUrl = `http://127.0.0.1:${statusPort}/status`;
  // One port for every provider's ingress, each on its own address: a name carries no port.
  ingressPort = await freePort();
  dns = await startDnsServer({
    config: {
      zone: ZONE,
      listen: { host: "127.0.0.1", port: 0 },
      nameservers: [{ name: `ns1.${ZONE}`, addresses: ["127.0.0.1"] }],
      soa: { rname: `hostmaster.${ZONE}` },
      ttl: TTL,
      ingressPort,
      allowPrivateAddresses: true,
      apps: [{ name: "web", statusUrls: [statusUrl] }],
      pollIntervalSec: 0.25,
      logLevel: "warn",
    },
  });
  const provider = (index: number, i: number, pricing: typeof CHEAP) =>
    devnet.startProvider({
      index,
      pricing,
      ingressPort,
      publishedIngressAddress: ADDRESSES[i],
      env: { PODNET_DNS_SERVERS: JSON.stringify([dns.address]) },
    });
  providers = await Promise.all([provider(50, 0, CHEAP), provider(51, 1, CHEAP), provider(52, 2, DEAR)]);
  const indexer = await devnet.startIndexer({ schema: "app_dns" });
  const app = await createAutoscaledApp(devnet, {
    dir,
    owner: devAccount(53).account,
    controller: devAccount(54),
    tarball,
    manifest: (image) => {
      const manifest = webAppManifest(image);
      return { ...manifest, expose: { http: [{ container: "web", port: 8080, host: NAME }] } };
    },
    appYaml: {
      version: 1,
      instances: { min: 2, target: 2, maxPerProvider: 1 },
      price: { maxPerInstance: "1000" },
      placement: { topK: 1 },
      funding: { depositPerLease: "600000", keepFunded: "600s" },
      health: { type: "http", path: "/", interval: 1, timeout: 1, failuresBeforeReplace: 3 },
    },
    funded: 50_000_000n,
    salt: "app dns e2e",
  });
  // The autoscaler's first placement searches the indexer: on a busy machine it can lag the chain by seconds, and a
  // provider it has not indexed yet is not a candidate. Start it on a caught-up index, as an operator would.
  const chain = devnet.publisherClient(devAccount(53).account).publicClient;
  await waitForIndexedBlock(indexer, await chain.getBlockNumber());
  autoscaler = await startAutoscalerProcess({ ...app.env, PODNET_AUTOSCALER_STATUS_PORT: String(statusPort) });
}, 300_000);

afterAll(async () => {
  await lb?.stop();
  await autoscaler?.stop();
  await dns?.close();
  await devnet?.stop();
});

describe("App DNS", () => {
  let serving: AppStatus;

  it("answers the healthy instances' published ingress addresses; each serves the app by its name", async () => {
    // The registry holds each provider's address as `register` published it.
    for (const [i, provider] of providers.entries()) {
      const listed = await devnet.publisherClient(devAccount(53).account).getProvider({ address: provider.address });
      expect(listed.ingress).toEqual({ addresses: [ADDRESSES[i]], port: ingressPort });
    }
    serving = await waitFor(
      "2 healthy instances",
      async () => {
        const s = await status().catch(() => undefined);
        return s?.instances.filter((i) => i.health === "healthy").length === 2 ? s : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 500 },
    );
    const expected = serving.instances.map((i) => addressOf(i.provider)).sort();
    expect(serving.instances.map((i) => i.ingress)).toEqual(
      serving.instances.map((i) => ({ addresses: [addressOf(i.provider)], port: ingressPort })),
    );
    await waitFor("dig to answer both instances", async () => {
      const answer = await dig(NAME, "A");
      return JSON.stringify(answer) === JSON.stringify(expected) ? true : undefined;
    });
    expect(await dig(NAME, "A", "+tcp")).toEqual(expected);
    // The proof every worker checks before it routes web.apps.test: one value per lease of the app.
    expect(await dig(`_podnet-lease.${NAME}`, "TXT")).toEqual(
      serving.instances.map((i) => proofValue(chainId, i.leaseId)).sort(),
    );
    // Each answered address serves the app under its own name (the worker verified the proof against podnet-dns).
    for (const address of expected) {
      const page = await waitFor(`${NAME} served on ${address}`, async () => {
        const got = await curl(address);
        return got.status === 200 && got.body.includes(PAGE) ? got : undefined;
      });
      expect(page.status).toBe(200);
    }
    // The third provider runs no instance: it does not route the name (no lease of it holds the proof).
    const idle = ADDRESSES.find((a) => !expected.includes(a)) as string;
    expect((await curl(idle)).status).toBe(404);
  }, 240_000);

  it("drops a killed provider from the answers within probe time; the answers and the LB serve every GET", async () => {
    lb = await startLoadBalancer({ statusUrls: [statusUrl], port: 0, pollIntervalMs: 250, logLevel: "warn" });
    await waitFor("the LB to know both instances", async () => (lb?.instances().length === 2 ? true : undefined));
    // Idempotent GETs through the LB, back to back, from before the kill until the replacement serves.
    let stopLoad = false;
    const results = { ok: 0, failed: [] as string[] };
    const load = (async () => {
      while (!stopLoad) {
        try {
          const response = await fetch(`${lb?.url}/`, { signal: AbortSignal.timeout(10_000) });
          const body = await response.text();
          if (response.status === 200 && body.includes(PAGE)) results.ok++;
          else results.failed.push(`HTTP ${response.status}: ${body.slice(0, 120)}`);
        } catch (error) {
          results.failed.push((error as Error).message);
        }
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const okBeforeKill = results.ok;

    const dead = serving.instances[0] as AppStatus["instances"][number];
    const kept = serving.instances[1] as AppStatus["instances"][number];
    const deadAddress = addressOf(dead.provider);
    const killedAt = Date.now();
    const okAtKill = results.ok;
    expect(
      await killProvider(devnet.docker, providers.find((p) => p.address === dead.provider) as RunningProvider),
    ).toBe(1);
    await waitFor(
      `dig to stop answering ${deadAddress}`,
      async () => ((await dig(NAME, "A")).includes(deadAddress) ? undefined : true),
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    const droppedAfterMs = Date.now() - killedAt;
    console.log(`podnet-dns dropped the killed provider ${droppedAfterMs} ms after the kill`);
    // Detection is one failed probe (interval + timeout) plus a status poll; a resolver may keep the old answer TTL
    // more seconds. The bound is loose for a loaded CI machine; the figure is printed.
    expect(droppedAfterMs).toBeLessThan((PROBE_SEC + TTL + 6) * 1000);
    // Every address answered now serves the app.
    const answered = await dig(NAME, "A");
    expect(answered).toContain(addressOf(kept.provider));
    for (let i = 0; i < 10; i++) {
      for (const address of answered) expect((await curl(address)).status).toBe(200);
    }

    // The autoscaler replaces the instance on the provider that ran none (one instance per provider, and the killed one
    // is avoided); once it is healthy it is answered too.
    const idle = providers.find((p) => !serving.instances.some((i) => i.provider === p.address)) as RunningProvider;
    await waitFor(
      "dig to answer the replacement on the idle provider",
      async () => {
        const s = await status().catch(() => undefined);
        const replaced = s?.instances.some((i) => i.provider === idle.address && i.health === "healthy");
        return replaced && (await dig(NAME, "A")).includes(addressOf(idle.address)) ? true : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 500 },
    );
    expect((await curl(addressOf(idle.address))).status).toBe(200);
    // The load ran the whole time: GETs were served between the kill and the replacement, and go on after it (counts,
    // not a rate: how many a second depends on how busy the machine is).
    const okAtReplacement = results.ok;
    await waitFor("GETs served after the replacement", async () =>
      results.ok >= okAtReplacement + 20 || results.failed.length > 0 ? true : undefined,
    );
    stopLoad = true;
    await load;
    console.log(`podnet-lb: ${results.ok} GETs served, ${results.failed.length} failed, across the kill`);
    expect(results.failed).toEqual([]);
    expect(okBeforeKill).toBeGreaterThan(0);
    expect(okAtReplacement).toBeGreaterThan(okAtKill);
    expect(results.ok).toBeGreaterThanOrEqual(okAtReplacement + 20);
  }, 240_000);
});
