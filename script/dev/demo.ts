/**
 * `npm run demo`: a whole local marketplace and a pod deployed through it, with one command.
 *
 * anvil + the contracts → the indexer (PGlite) → two provider workers (registered, staked, bidding) → a demo image
 * built FROM scratch with busybox, encrypted as a blob → an order on the reverse market → both providers bid → the
 * lowest bid is accepted → the pod is deployed with the SDK → its URL, the GraphQL URL and CLI commands are printed.
 * Ctrl-C stops everything and removes every container, network and volume the demo made.
 *
 * It uses the same harness as the end-to-end tests (@podnet/devnet), so what it shows is what CI checks.
 * Flags: --once (check the pod answers, clean up and exit: what the demo test runs), --keep (leave the data dir).
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import {
  buildTestImage,
  cleanupOnSignal,
  Devnet,
  devAccount,
  fund,
  ingress,
  localDocker,
  preferredPort,
  publisherClient,
  repoRoot,
  saveImage,
  TOKEN,
  waitFor,
} from "@podnet/devnet";
import { manifestResources, type PodManifestInput, parseManifest, pricePerSecond } from "@podnet/sdk";

const once = process.argv.includes("--once");
const keep = process.argv.includes("--keep");
const dir = join(repoRoot, ".podnet", "demo");
const DEMO_PAGE = `<!doctype html><html><head><title>Podnet demo</title></head>
<body><h1>Hello from Podnet</h1><p>This page is served by a pod that a publisher leased on the Podnet reverse market:
the image travelled encrypted, the provider was paid per second from escrow.</p></body></html>`;

const say = (line: string) => process.stdout.write(`${line}\n`);
const step = (line: string) => process.stderr.write(`• ${line}\n`);

/** The two demo providers: anvil dev accounts 1 and 2, different prices so the market has a winner. */
const providers = [
  { index: 1, name: "provider A", pricing: { perCpuMilli: 1000n, perMemoryMiB: 100n, perStorageMiB: 1n, flat: 0n } },
  { index: 2, name: "provider B", pricing: { perCpuMilli: 800n, perMemoryMiB: 120n, perStorageMiB: 1n, flat: 0n } },
];

async function main() {
  let devnet: Devnet | undefined;
  let stopping = false;
  const cleanup = async () => {
    if (stopping) return;
    stopping = true;
    step("stopping: workers, indexer, chain; removing the demo's containers, networks and volumes");
    await devnet?.stop();
  };
  // Exit 0: a Ctrl-C is how the demo normally ends.
  cleanupOnSignal(cleanup, { exitCode: 0 });

  try {
    rmSync(dir, { recursive: true, force: true });
    const docker = localDocker();
    await docker.ping().catch(() => {
      throw new Error(
        "no Docker Engine answers; `npm run demo` starts one (script/toolchain/docker.sh), or start yours",
      );
    });

    step("starting anvil and deploying the contracts");
    devnet = await Devnet.start({ dir, removeDir: !keep });
    const { chain } = devnet;
    step("starting the indexer (Ponder on PGlite)");
    const indexer = await devnet.startIndexer({ schema: "demo" });

    for (const p of providers) {
      const started = await devnet.startProvider({
        index: p.index,
        pricing: p.pricing,
        attributes: ["region=local"],
        apiPort: await preferredPort(7070 + devnet.providers.length),
        ingressPort: await preferredPort(8080 + devnet.providers.length),
        env: { PODNET_LOG_LEVEL: "info", PODNET_POLL_INTERVAL_MS: "250" },
      });
      if (started.leftoversRemoved) {
        step(`${p.name}: removed ${started.leftoversRemoved} left by an earlier demo that did not finish its cleanup`);
      }
      step(`${p.name} ${started.address} registered, staked and running (API ${started.worker.apiUrl})`);
    }

    step("building the demo image FROM scratch with busybox");
    await buildTestImage(docker, "podnet-demo/web:1", { page: DEMO_PAGE });
    const publisher = devAccount(3).account;
    await fund(chain, publisher, 1_000_000n * TOKEN);
    const podnet = publisherClient(chain, publisher, {
      blobCacheDir: join(dir, "publisher-blobs"),
      indexerUrl: indexer.url,
      pollingIntervalMs: 100,
    });
    const { image, cid } = await podnet.prepareImage({
      tarball: new Uint8Array(await saveImage(docker, "podnet-demo/web:1")),
    });
    devnet.untagBlobOnStop(cid);
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
    const worker = devnet.providers.find((p) => p.address === provider)?.worker;
    if (!worker) throw new Error(`lease ${leaseId} went to ${provider}, not to a demo provider`);
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
    say(`  provider APIs  ${devnet.providers.map((p) => p.worker.apiUrl).join("  ")}`);
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
    for (const p of devnet?.providers ?? []) process.stderr.write(`  worker log: ${p.worker.logFile}\n`);
    await cleanup();
    process.exit(1);
  }
}

await main();
