/**
 * `npm run demo`: a whole local marketplace and a pod deployed through it, with one command.
 *
 * anvil + the contracts → the indexer (PGlite) → two provider workers (registered, staked, bidding) → a demo image
 * built FROM scratch with busybox, encrypted as a blob → an order on the reverse market → both providers bid → the
 * lowest bid is accepted → the pod is deployed with the SDK → its URL, the GraphQL URL and CLI commands are printed.
 * Ctrl-C stops everything and removes every container, network and volume the demo made.
 *
 * It uses the same harness as the end-to-end tests (test/lib), so what it shows is what CI checks.
 * Flags: --once (check the pod answers, clean up and exit: what the demo test runs), --keep (leave the data dir).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  createPodnetClient,
  manifestResources,
  type PodManifestInput,
  parseManifest,
  pricePerSecond,
} from "@podnet/sdk";
import { createPublicClient, createWalletClient, http } from "viem";
import { foundry } from "viem/chains";
import { buildTestImage, localDocker, saveImage } from "../../test/lib/images.js";
import { type Indexer, startIndexer } from "../../test/lib/indexer.js";
import { canListen, ingress } from "../../test/lib/net.js";
import {
  devAccount,
  freePort,
  fund,
  type LocalChain,
  registerWorker,
  removeProviderLeftovers,
  startLocalChain,
  startWorkerProcess,
  TOKEN,
  type WorkerProcess,
  waitFor,
  workerEnv,
} from "../../test/lib/worker.js";
import { repoRoot } from "../lib/chain.js";

const once = process.argv.includes("--once");
const keep = process.argv.includes("--keep");
const dir = join(repoRoot, ".podnet", "demo");
const docker = localDocker();
const DEMO_PAGE = `<!doctype html><html><head><title>Podnet demo</title></head>
<body><h1>Hello from Podnet</h1><p>This page is served by a pod that a publisher leased on the Podnet reverse market:
the image travelled encrypted, the provider was paid per second from escrow.</p></body></html>`;

const say = (line: string) => process.stdout.write(`${line}\n`);
const step = (line: string) => process.stderr.write(`• ${line}\n`);

/** The two demo providers: anvil dev accounts 1 and 2, different prices so the market has a winner. */
const providers = [
  {
    index: 1,
    name: "provider A",
    pricing: { perCpuMilli: "1000", perMemoryMiB: "100", perStorageMiB: "1", flat: "0" },
  },
  { index: 2, name: "provider B", pricing: { perCpuMilli: "800", perMemoryMiB: "120", perStorageMiB: "1", flat: "0" } },
];

async function main() {
  let chain: LocalChain | undefined;
  let indexer: Indexer | undefined;
  const workers: WorkerProcess[] = [];
  const providerAddresses = providers.map((p) => devAccount(p.index).account.address);
  let stopping = false;
  const cleanup = async () => {
    if (stopping) return;
    stopping = true;
    step("stopping: workers, indexer, chain; removing the demo's containers, networks and volumes");
    await Promise.all(workers.map((w) => w.stop()));
    for (const address of providerAddresses) await removeProviderLeftovers(docker, address).catch(() => undefined);
    await indexer?.stop();
    chain?.stop();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  };
  let signalled = false;
  const onSignal = () => {
    if (signalled) return;
    signalled = true;
    void cleanup().then(() => process.exit(0));
  };
  // `on`, not `once`: a second Ctrl-C (or the one tsx relays) must not kill the demo halfway through its cleanup.
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await docker.ping().catch(() => {
      throw new Error(
        "no Docker Engine answers; `npm run demo` starts one (script/toolchain/docker.sh), or start yours",
      );
    });

    step("starting anvil and deploying the contracts");
    chain = await startLocalChain(join(dir, "chain"));
    step("starting the indexer (Ponder on PGlite)");
    indexer = await startIndexer({ rpcUrl: chain.rpcUrl, deploymentsFile: chain.deploymentsFile, schema: "demo" });

    for (const p of providers) {
      const { account, privateKey } = devAccount(p.index);
      await fund(chain, account, 10_000n * TOKEN);
      const env = workerEnv(chain, {
        providerKey: privateKey,
        dataDir: join(dir, `worker-${p.index}`),
        apiPort: await preferredPort(7070 + workers.length),
        ingressPort: await preferredPort(8080 + workers.length),
        extra: {
          PODNET_PRICING: JSON.stringify(p.pricing),
          PODNET_ATTRIBUTES: JSON.stringify(["region=local"]),
          PODNET_LOG_LEVEL: "info",
          PODNET_POLL_INTERVAL_MS: "250",
        },
      });
      await registerWorker(env);
      workers.push(await startWorkerProcess(env));
      step(`${p.name} ${account.address} registered, staked and running (API ${workers.at(-1)?.apiUrl})`);
    }

    step("building the demo image FROM scratch with busybox");
    await buildTestImage(docker, "podnet-demo/web:1", { files: { "/www/index.html": DEMO_PAGE } });
    const publisher = devAccount(3).account;
    await fund(chain, publisher, 1_000_000n * TOKEN);
    const transport = http(chain.rpcUrl);
    const viemChain = { ...foundry, rpcUrls: { default: { http: [chain.rpcUrl] } } };
    const podnet = createPodnetClient({
      publicClient: createPublicClient({ chain: viemChain, transport, pollingInterval: 100 }),
      walletClient: createWalletClient({ chain: viemChain, transport, account: publisher }),
      deployment: chain.deployment,
      indexerUrl: indexer.url,
      blobCacheDir: join(dir, "publisher-blobs"),
    });
    const { image } = await podnet.prepareImage({
      tarball: new Uint8Array(await saveImage(docker, "podnet-demo/web:1")),
    });
    step(`image encrypted as ${image}`);

    const manifest: PodManifestInput = {
      version: 1,
      containers: [{ name: "web", image, resources: { cpuMillis: 250, memoryMiB: 64 } }],
      expose: { http: [{ container: "web", port: 8080 }] },
    };
    const resources = manifestResources(parseManifest(manifest));
    const maxPrice = pricePerSecond({ perCpuMilli: 1000n, perMemoryMiB: 120n, perStorageMiB: 1n, flat: 0n }, resources);
    const order = await podnet.createOrder({
      manifest,
      maxPricePerSecond: maxPrice,
      deposit: maxPrice * 3600n,
      bidWindowSeconds: 600,
      requirements: { attributes: ["region=local"] },
    });
    step(`order ${order.orderId} on the reverse market (max ${maxPrice} base units/s, 1 hour escrowed)`);
    const bids = await waitFor("both providers to bid", async () => {
      const list = await podnet.getBids({ orderId: order.orderId });
      return list.length === providers.length ? list : undefined;
    });
    for (const bid of bids) step(`bid from ${bid.provider}: ${bid.pricePerSecond} base units/s`);
    const { leaseId, provider, pricePerSecond: price } = await podnet.acceptBid({ orderId: order.orderId });
    step(`accepted the lowest bid: lease ${leaseId} with ${provider} at ${price} base units/s`);
    const { uploads } = await podnet.deployPod({ leaseId, manifest });
    step(`manifest sent (${uploads} encrypted blob uploaded)`);
    const status = await podnet.waitForPod({ leaseId, timeoutMs: 120_000 });
    const worker = workers[providerAddresses.indexOf(provider)] as WorkerProcess;
    const url = status.http[0]?.url ?? "";
    const { body: page } = await ingress(worker.ingressPort, new URL(url).hostname);
    if (!page.includes("Hello from Podnet")) throw new Error(`the pod answered unexpectedly: ${page.slice(0, 200)}`);
    if (once) {
      // What a user would do: curl the printed URL (curl resolves *.localhost to the loopback address itself).
      let curled: string | undefined;
      try {
        curled = execFileSync("curl", ["-sf", url], { encoding: "utf8" });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        step("curl is not installed: checked through the ingress only");
      }
      if (curled !== undefined && !curled.includes("Hello from Podnet")) {
        throw new Error(`curl ${url} answered: ${curled.slice(0, 200)}`);
      }
      if (curled !== undefined) step(`curl ${url}: the demo page`);
    }

    say("");
    say("Podnet is running locally.");
    say(`  pod URL        ${url}`);
    say(`                 (curl ${url}  — *.localhost resolves to 127.0.0.1)`);
    say(`  GraphQL        ${indexer.url}/graphql`);
    say(`  provider APIs  ${workers.map((w) => w.apiUrl).join("  ")}`);
    say(`  chain          ${chain.rpcUrl} (deployment ${chain.deploymentsFile})`);
    say("");
    say("Try the CLI as the same publisher:");
    const cliEnv = `PODNET_RPC_URL=${chain.rpcUrl} PODNET_DEPLOYMENTS_FILE=${chain.deploymentsFile} PODNET_INDEXER_URL=${indexer.url} PODNET_PUBLISHER_KEY=${devAccount(3).privateKey}`;
    say(`  export ${cliEnv}`);
    say("  npm run podnet -- providers --cpu 250 --memory 64");
    say(`  npm run podnet -- status ${leaseId}`);
    say(`  npm run podnet -- logs ${leaseId} -f`);
    say(`  npm run podnet -- close ${leaseId}`);
    say("  npm run podnet -- balance");
    say("(anvil dev keys: local chain only)");
    say("");
    if (once) {
      await cleanup();
      return;
    }
    say("Ctrl-C stops everything and removes the demo's containers, networks and volumes.");
    await new Promise(() => undefined);
  } catch (error) {
    process.stderr.write(`demo failed: ${(error as Error).message}\n`);
    for (const w of workers) process.stderr.write(`  worker log: ${w.logFile}\n`);
    await cleanup();
    process.exit(1);
  }
}

/** `port` when it is free (stable URLs across runs), else any free port. */
async function preferredPort(port: number): Promise<number> {
  return (await canListen(port)) ? port : freePort();
}

await main();
