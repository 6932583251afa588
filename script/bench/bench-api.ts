/**
 * `npm run bench:api`: the provider API and the ingress under load on loopback, with idle connections held open.
 *
 * 1. A worker with 50 busybox pods (10 mCPU / 64 MiB each, a small page and a CGI that answers an upgrade with 101 and
 *    then stays silent). The first, the ingress run's target, serves the page with a small keep-alive server
 *    (bench/static-http.c) instead of busybox httpd, which forks per connection and closes it after each answer: behind
 *    busybox the figure would be its fork rate (1,363 req/s straight from its port on this machine), not the ingress'.
 * 2. 1,000 upgraded connections through the ingress (spread over the other pods), held open idle during every run below.
 * 3. autocannon (programmatic), one run each: POST /v1/quote (anonymous), GET /v1/leases/:id (signed: every request
 *    pre-signed with its own nonce, as the SDK sends them), GET through the ingress to one pod's page, and the same
 *    page straight from the pod's address on its network, where the ingress connects (the floor: what the pod's server
 *    itself serves on this machine, without the ingress).
 * 4. The worker's resident memory (VmRSS) and open descriptors with the 50 pods and the 1,000 connections.
 * Prints a markdown table and writes it into its own section of docs/benchmarks.md (unless --no-doc).
 *
 * The pod the ingress run targets gets a whole CPU (1,000 mCPU), so the figure is the ingress' and not a 10 mCPU
 * pod's CPU quota; the others get 10 mCPU.
 *
 * Flags: --pods 50 (at least 2), --idle 1000, --duration 10 (seconds per run), --connections 50 (ingress runs), --api-connections 10
 * (API runs: a handful of clients, as publishers poll), --signed 3000 (pre-signed status requests), --no-doc,
 * --keep-logs.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  cleanupOnSignal,
  Devnet,
  fundedPublisher,
  type Publisher,
  podHost,
  podNetworks,
  sealTestImage,
} from "@podnet/devnet";
import {
  KEEP_ALIVE_SERVER_PATH,
  keepAliveServerBinary,
  keepAliveServerCommand,
} from "@podnet/devnet/bench/keep-alive-server";
import { holdUpgradedConnections, type LoadResult, openFds, rssBytes, runLoad } from "@podnet/devnet/bench/load";
import {
  agent,
  createLease,
  docker,
  sendManifest,
  startBenchProvider,
  waitAllServing,
  warmUp,
} from "@podnet/devnet/bench/pods";
import { machineWithDocker, writeDocSection } from "@podnet/devnet/bench/report";
import { fmt, load1, met, mib, now, sleep } from "@podnet/devnet/bench/stats";
import {
  manifestHash,
  manifestResources,
  type PodManifestInput,
  parseManifest,
  providerApiPaths,
  signRequest,
} from "@podnet/sdk/protocol";

const PROVIDER_ACCOUNT = 45;
const PUBLISHERS = 4;
const IMAGE_TAG = "podnet-bench/api:1";
const PAGE = "<!doctype html><title>podnet</title><p>hello from a podnet pod</p>\n";
const UPGRADE_CGI = `#!/bin/sh
printf 'HTTP/1.1 101 Switching Protocols\\r\\nConnection: Upgrade\\r\\nUpgrade: idle\\r\\n\\r\\n'
exec sleep 3600
`;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      pods: { type: "string", default: "50" },
      idle: { type: "string", default: "1000" },
      duration: { type: "string", default: "10" },
      connections: { type: "string", default: "50" },
      "api-connections": { type: "string", default: "10" },
      signed: { type: "string", default: "3000" },
      "no-doc": { type: "boolean", default: false },
      "keep-logs": { type: "boolean", default: false },
    },
  });
  const count = (name: string, value: string | undefined, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: must be an integer >= ${min}`);
    return n;
  };
  return {
    pods: count("pods", values.pods, 2),
    idle: count("idle", values.idle, 0),
    duration: count("duration", values.duration, 1),
    connections: count("connections", values.connections, 1),
    apiConnections: count("api-connections", values["api-connections"], 1),
    signed: count("signed", values.signed, 1),
    doc: !values["no-doc"],
    keepLogs: values["keep-logs"] ?? false,
  };
}

function podManifest(cid: string, cpuMillis = 10, command?: string[]): PodManifestInput {
  return {
    version: 1,
    // 64 MiB: each idle upgraded connection holds two small busybox processes in the pod (httpd's child, the CGI).
    containers: [
      { name: "web", image: `blob:${cid}`, resources: { cpuMillis, memoryMiB: 64 }, ...(command ? { command } : {}) },
    ],
    expose: { http: [{ container: "web", port: 8080 }] },
  };
}

const row = (measure: string, value: string, goal = "", verdict = "") =>
  `| ${measure} | ${value} | ${goal} | ${verdict} |`;
const figures = (r: LoadResult) =>
  `${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms (${fmt(r.requests)} requests` +
  `${r.non2xx > 0 ? `, ${fmt(r.non2xx)} not 2xx` : ""}${r.errors > 0 ? `, ${fmt(r.errors)} errors` : ""})`;

async function main() {
  const options = parseOptions();
  const command = `npm run bench:api${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const dir = mkdtempSync(join(tmpdir(), "podnet-bench-api-"));
  let devnet: Devnet | undefined;
  let idle: Awaited<ReturnType<typeof holdUpgradedConnections>> | undefined;
  const cleanup = async () => {
    idle?.close();
    if (devnet) await devnet.stop();
    else if (!options.keepLogs) rmSync(dir, { recursive: true, force: true });
    agent.destroy();
    if (options.keepLogs) console.log(`Logs kept in ${dir}`);
  };
  cleanupOnSignal(cleanup);

  try {
    const startedAt = new Date().toISOString();
    const loadBefore = load1();
    console.log("Setup: anvil, contracts, test image, provider, worker");
    devnet = await Devnet.start({ dir, removeDir: !options.keepLogs });
    const image = await sealTestImage(docker, IMAGE_TAG, {
      files: {
        "/www/index.html": PAGE,
        "/www/cgi-bin/idle": UPGRADE_CGI,
        [KEEP_ALIVE_SERVER_PATH]: await keepAliveServerBinary(),
      },
      executables: ["/www/cgi-bin/idle", KEEP_ALIVE_SERVER_PATH],
    });
    devnet.untagBlobOnStop(image.cid);
    const publishers: Publisher[] = [];
    for (let i = 0; i < PUBLISHERS; i++) publishers.push(await fundedPublisher(devnet.chain, 2 + i));
    const b = await startBenchProvider(devnet, {
      index: PROVIDER_ACCOUNT,
      env: {
        PODNET_WITHDRAW_INTERVAL_SEC: "100000",
        PODNET_LOG_LEVEL: "info",
        // The per-source limits would answer most of one client's load with 429 (the figures would be the limiter's).
        PODNET_API_RATE_LIMIT: JSON.stringify({ perSecond: 0, burst: 1, quotesPerSecond: 0 }),
      },
      image,
      publishers,
      page: "hello from a podnet pod",
    });
    const pid = b.worker.process.pid as number;
    const manifest = podManifest(image.cid);
    await warmUp(b, manifest);

    console.log(`1. ${options.pods} pods`);
    const leaseIds: bigint[] = [];
    let next = 0; // leases created so far (the target is the first)
    const owner = publishers[0] as Publisher;
    // The ingress run's pod: a whole CPU and the keep-alive server, leased first.
    const targetManifest = podManifest(image.cid, 1000, keepAliveServerCommand(8080, "/www/index.html"));
    const { leaseId: target } = await createLease(b, owner, targetManifest);
    await sendManifest(b, owner, target, targetManifest);
    leaseIds.push(target);
    await Promise.all(
      publishers.map(async (publisher) => {
        for (let i = ++next; i < options.pods; i = ++next) {
          const { leaseId } = await createLease(b, publisher, manifest);
          await sendManifest(b, publisher, leaseId, manifest);
          leaseIds.push(leaseId);
        }
      }),
    );
    await waitAllServing(b, leaseIds, now());

    console.log(`2. ${options.idle} idle upgraded connections through the ingress`);
    // Not to the target: its keep-alive server has no upgrade CGI (hence at least 2 pods).
    const idleLeases = leaseIds.filter((id) => id !== target);
    idle = await holdUpgradedConnections(
      b.worker.ingressPort,
      idleLeases.map((id) => podHost(id)),
      "/cgi-bin/idle",
      options.idle,
    );
    await sleep(1000);

    const base = { connections: options.connections, duration: options.duration };
    console.log("3a. POST /v1/quote (anonymous)");
    const parsed = parseManifest(manifest);
    const apiBase = { connections: options.apiConnections, duration: options.duration };
    const quote = await runLoad({
      ...apiBase,
      url: `${b.worker.apiUrl}${providerApiPaths.quote}`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        specHash: manifestHash(parsed),
        resources: manifestResources(parsed),
        publisher: owner.address,
      }),
    });
    console.log(`   ${figures(quote)}`);

    console.log(`3b. GET /v1/leases/${target} (signed), ${options.signed} pre-signed requests`);
    const statusPath = providerApiPaths.status(target);
    const signed: Record<string, string>[] = [];
    for (let i = 0; i < options.signed; i++) {
      signed.push(
        (await signRequest(owner.account, 31337, { provider: b.address, method: "GET", path: statusPath })) as Record<
          string,
          string
        >,
      );
    }
    const status = await runLoad({
      connections: options.apiConnections,
      amount: options.signed,
      url: `${b.worker.apiUrl}${statusPath}`,
      perRequestHeaders: signed,
    });
    console.log(`   ${figures(status)}`);

    console.log(`3c. GET through the ingress to lease ${target}'s pod`);
    const ingressRun = await runLoad({
      ...base,
      url: `${b.worker.ingressUrl}/`,
      headers: { host: podHost(target) },
    });
    console.log(`   ${figures(ingressRun)}`);

    console.log("3d. GET straight from the pod's address on its network (the floor)");
    const [container] = await docker.listContainers({
      filters: { label: [`podnet.provider=${b.address.toLowerCase()}`, `podnet.lease=${target}`] },
    });
    // Where the ingress itself connects: the pod's address (its infra container's, when it joined one).
    const address = container ? Object.values(await podNetworks(docker, container))[0]?.IPAddress : undefined;
    if (!address) throw new Error(`lease ${target}: no address on a pod network`);
    const floor = await runLoad({ ...base, url: `http://${address}:8080/` });
    console.log(`   ${figures(floor)}`);

    const stillOpen = idle.open();
    const rss = rssBytes(pid);
    const fds = openFds(pid);
    const loadAfter = load1();

    const ingressOk = ingressRun.rps >= 5000 && ingressRun.p99 <= 20;
    const table = [
      `Run ${startedAt} with \`${command}\`.`,
      "",
      `- Machine: ${await machineWithDocker()}; shared with other work during the run (load average 1 min at the start / the end: ${loadBefore} / ${loadAfter})`,
      `- Worker: ${options.pods} pods (busybox httpd, 10 mCPU / 64 MiB), ${fmt(options.idle)} idle upgraded connections through the ingress held open during every run (${fmt(stillOpen)} still open at the end); the ingress run's pod has 1,000 mCPU and serves the page with a keep-alive server (devnet/src/bench/static-http.c); autocannon in the benchmark's own process, ${options.apiConnections} connections per API run and ${options.connections} per ingress run, ${options.duration} s runs (the signed run: ${fmt(options.signed)} requests)`,
      "",
      "| measure | value | goal | |",
      "|---|---|---|---|",
      row("POST /v1/quote (anonymous)", figures(quote)),
      row(`GET /v1/leases/:id (signed, one nonce per request)`, figures(status), "p99 <= 50 ms", met(status.p99 <= 50)),
      row(
        "GET through the ingress to a pod (small page, keep-alive pod server)",
        figures(ingressRun),
        ">= 5,000 req/s, p99 <= 20 ms",
        met(ingressOk),
      ),
      row("the same page straight from the pod's port (floor, no ingress)", figures(floor)),
      row(
        `worker resident memory (VmRSS), ${options.pods} pods + ${fmt(options.idle)} connections`,
        `${mib(rss)} MiB; ${fmt(fds)} open descriptors`,
        "<= 250 MiB",
        met(rss <= 250 * 2 ** 20),
      ),
    ].join("\n");
    console.log(`\n${table}\n`);
    if (options.doc) {
      writeDocSection(
        "benchmarks.md",
        "bench:api",
        `## Provider API and ingress under load (\`npm run bench:api\`)\n\nWritten by script/bench/bench-api.ts.\n\n${table}`,
      );
    }
    await cleanup();
  } catch (error) {
    console.error(`bench:api failed: ${(error as Error).stack ?? error}`);
    await cleanup();
    process.exit(1);
  }
}

await main();
