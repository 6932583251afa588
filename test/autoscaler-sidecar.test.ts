/**
 * The autoscaler's standalone mode end to end, on real parts: the real `podnet-autoscaler` daemon, built into the
 * sidecar image (autoscaler/image), sealed with prepareImage and deployed by the owner as a pod of its own on
 * provider S (its own lease), with its controller key, app.yaml, pod.yaml, the deployment and its blob cache index in
 * a secret volume. From inside that pod it keeps an app (an AppVault) alive on the other providers: it places the
 * instance on A (the cheaper), the instance serves; A dies and the sidecar replaces it on B.
 *
 * The devnet's services (anvil, the indexer, the workers' APIs and ingresses) listen on docker0's address, outside the
 * pod pool, and every worker's `podEgressAllow` opens exactly those `ip:port` pairs to its pods
 * (docs/autoscaler-sidecar.md, "On a local devnet"). The app's ciphertext is published on a static HTTP server on the
 * same address, the source the sidecar fetches it from (verified by content id) and gives providers.
 *
 * Network rule: traffic goes only to the listeners this file starts, on the host's own docker0 address.
 */
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Devnet,
  devAccount,
  ensureGas,
  freePort,
  ingress,
  killProvider,
  localDocker,
  mint,
  podHost,
  type RunningProvider,
  TOKEN,
  testImageTarball,
  waitFor,
  webAppManifest,
} from "@podnet/devnet";
import {
  BlobCache,
  deriveSelfEncryptionKey,
  type PodManifestInput,
  type PodnetClientWithActions,
  shareBlobKeys,
} from "@podnet/sdk";
import {
  appConfigHash,
  appConfigLimits,
  isContentId,
  manifestHash,
  parseAppConfig,
  parseManifest,
} from "@podnet/sdk/protocol";
import { type Address, keccak256, stringToHex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltNodeImage, buildNodeImage } from "../autoscaler/image/build-node-image.js";

/** docker0's gateway: an address of this host outside every pod pool (the devnet gives each provider a /16 in 10.64.0.0/10). */
const HOST = "172.17.0.1";
const PAGE = "kept alive by a sidecar";
const SIDECAR_ENTRY = join(import.meta.dirname, "..", "autoscaler", "src", "bin.ts");
const SIDECAR_TAG = "podnet-test/autoscaler-sidecar:1";
const CHEAP = { perCpuMilli: 3n, perMemoryMiB: 2n, perStorageMiB: 0n, flat: 0n }; // 250*3 + 64*2 = 878/s
const DEAR = { perCpuMilli: 3n, perMemoryMiB: 3n, perStorageMiB: 0n, flat: 50n }; // 992/s
const FUNDED = 50_000_000n;

const owner = devAccount(53).account;
const controller = devAccount(54);
const docker = localDocker();

let dir: string;
let devnet: Devnet;
let S: RunningProvider;
let A: RunningProvider;
let B: RunningProvider;
let ownerClient: PodnetClientWithActions;
let vault: Address;
let built: BuiltNodeImage;
let mirror: Server;
let sidecarLease: bigint;

type Status = {
  desired: number;
  problems: string[];
  instances: { slot: number; leaseId: string; provider: Address; hostUrl: string | null; health: string }[];
};

/** The vault's occupied slots' leases. */
async function vaultSlots(): Promise<bigint[]> {
  return (await ownerClient.getApp({ vault })).slots.map((s) => s.leaseId).filter((id) => id !== 0n);
}

/** A static HTTP server for the ciphertext in `root` (any host does: ciphertext is safe to publish). */
async function startMirror(root: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    const cid = (request.url ?? "").slice(1);
    if (!isContentId(cid) || !existsSync(join(root, cid))) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "application/octet-stream" });
    if (request.method === "HEAD") response.end();
    else createReadStream(join(root, cid)).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(port, HOST, resolve));
  return server;
}

/** The sidecar's container log (for a failure's story). */
async function sidecarLog(): Promise<string> {
  const [container] = await docker.listContainers({ all: true, filters: { label: [S.label] } });
  if (!container) return "(no sidecar container)";
  const lines = (await docker.getContainer(container.Id).logs({ stdout: true, stderr: true, tail: 400 }))
    .toString("utf8")
    .split("\n");
  return [...lines.slice(0, 25), "...", ...lines.slice(-25)].join("\n");
}

/** The sidecar's `/status`, read through S's ingress on the host address (its status port is the exposed one). */
async function sidecarStatus(): Promise<Status | undefined> {
  const answer = await ingress(S.worker.ingressPort, podHost(sidecarLease), "/status", {
    address: HOST,
    timeoutMs: 3_000,
  });
  return answer.status === 200 ? (JSON.parse(answer.body) as Status) : undefined;
}

async function waitHealthyOn(provider: RunningProvider, timeoutMs: number): Promise<Status> {
  try {
    return await waitFor(
      `the sidecar to report one healthy instance on ${provider.address}`,
      async () => {
        const s = await sidecarStatus();
        const healthy = s?.instances.filter((i) => i.health === "healthy") ?? [];
        return healthy.length === 1 && healthy[0]?.provider === provider.address ? s : undefined;
      },
      { timeoutMs, intervalMs: 1_000 },
    );
  } catch (error) {
    const last = await sidecarStatus().catch((e) => `${e}`);
    throw new Error(
      `${(error as Error).message}\nstatus: ${JSON.stringify(last)}\n--- sidecar ---\n${await sidecarLog()}`,
    );
  }
}

beforeAll(async () => {
  // Bindable even while docker0 is down (no container on it): the address exists on this host.
  await new Promise<void>((resolve, reject) => {
    const probe = createServer().once("error", (error) =>
      reject(new Error(`${HOST} (docker0) is not an address of this host: ${error.message}`)),
    );
    probe.listen(0, HOST, () => probe.close(() => resolve()));
  });
  dir = mkdtempSync(join(tmpdir(), "podnet-autoscaler-sidecar-"));
  let appTarball = "";
  await Promise.all([
    Devnet.start({ dir, host: HOST }).then((started) => {
      devnet = started;
    }),
    buildNodeImage({ entry: SIDECAR_ENTRY, tag: SIDECAR_TAG, out: join(dir, "sidecar.tar") }).then((b) => {
      built = b;
    }),
    testImageTarball(docker, "podnet-test/sidecar-kept-app:1", join(dir, "app.tar"), { page: PAGE }).then((path) => {
      appTarball = path;
    }),
  ]);
  console.log(
    `sidecar image: layer ${(built.layerBytes / 2 ** 20).toFixed(1)} MiB, bundle ${built.bundleBytes} B, built in ${built.elapsedMs} ms`,
  );
  const indexer = await devnet.startIndexer({ schema: "autoscaler_sidecar" });

  // Every address the sidecar calls, opened in every provider's firewall and nothing else.
  const [apiS, inS, apiA, inA, apiB, inB, mirrorPort] = await Promise.all(Array.from({ length: 7 }, () => freePort()));
  const seedDir = join(dir, "seed");
  mkdirSync(seedDir, { recursive: true });
  mirror = await startMirror(seedDir, mirrorPort as number);
  const hostPort = (url: string) => new URL(url).host;
  const podEgressAllow = [
    hostPort(devnet.chain.rpcUrl),
    hostPort(indexer.url),
    ...[apiS, inS, apiA, inA, apiB, inB, mirrorPort].map((port) => `${HOST}:${port}`),
  ];
  const capacity = { cpuMillis: 4000, memoryMiB: 4096, storageMiB: 100_000 };
  [S, A, B] = await Promise.all([
    devnet.startProvider({ index: 108, apiPort: apiS, ingressPort: inS, podEgressAllow, capacity }),
    devnet.startProvider({ index: 109, apiPort: apiA, ingressPort: inA, podEgressAllow, capacity, pricing: CHEAP }),
    devnet.startProvider({ index: 110, apiPort: apiB, ingressPort: inB, podEgressAllow, capacity, pricing: DEAR }),
  ]);

  // The app, as its owner publishes it: image sealed in the owner's blob cache, vault with one controller.
  await mint(devnet.chain, owner, FUNDED + 1_000_000n * TOKEN);
  await ensureGas(devnet.chain, controller.account.address);
  ownerClient = devnet.publisherClient(owner);
  const app = await ownerClient.prepareImage({ tarball: appTarball });
  devnet.untagBlobOnStop(app.cid);
  const appManifest = webAppManifest(app.image);
  const appYaml = {
    version: 1,
    instances: { min: 1, target: 1, maxPerProvider: 1 },
    price: { maxPerInstance: "1000" },
    // Never on S, the sidecar's own provider; A first (cheaper), B when A is gone.
    placement: { topK: 1, allowProviders: [A.address, B.address].sort() },
    funding: { depositPerLease: "600000", keepFunded: "600s" },
    health: { type: "http", path: "/", interval: 1, timeout: 1, failuresBeforeReplace: 3 },
  };
  const config = parseAppConfig(appYaml);
  ({ vault } = await ownerClient.createApp({
    salt: keccak256(stringToHex("autoscaler sidecar e2e")),
    specHash: manifestHash(parseManifest(appManifest)),
    configHash: appConfigHash(config),
    limits: appConfigLimits(config),
    controllers: [controller.account.address],
  }));
  await ownerClient.fundApp({ vault, amount: FUNDED });

  // `podnet app share-keys`: the app's content key sealed to the controller's own cache key (the ciphertext comes
  // along into the seed folder, which the mirror publishes); then the mirror is listed as the blob's source.
  const sign = (account: typeof owner) => (message: string) => account.signMessage({ message });
  const [ownerSelf, controllerSelf] = await Promise.all([
    deriveSelfEncryptionKey(sign(owner)),
    deriveSelfEncryptionKey(sign(controller.account)),
  ]);
  await shareBlobKeys({
    from: ownerClient.blobCache,
    self: ownerSelf,
    to: seedDir,
    recipient: controllerSelf.publicKeyHex,
    cids: [app.cid],
  });
  new BlobCache(seedDir).addSource(app.cid, `http://${HOST}:${mirrorPort}/${app.cid}`);

  // The sidecar: its own deployment on S, paid by the owner; everything it reads is a secret file.
  const sidecar = await ownerClient.prepareImage({ tarball: built.tarball?.path as string });
  devnet.untagBlobOnStop(sidecar.cid);
  const secret = async (value: string) => (await ownerClient.prepareSecret({ value })).blob;
  const files = [
    { path: "controller-key", blob: await secret(`${controller.privateKey}\n`) },
    { path: "app.yaml", blob: await secret(JSON.stringify(appYaml)) },
    { path: "pod.yaml", blob: await secret(JSON.stringify(appManifest)) },
    { path: "deployment.json", blob: await secret(readFileSync(devnet.chain.deploymentsFile, "utf8")) },
    // Only the index (the sealed key and the source), not the ciphertext: a secret file holds at most 1 MiB.
    { path: "blobs/index.json", blob: await secret(readFileSync(join(seedDir, "index.json"), "utf8")) },
  ];
  const sidecarManifest: PodManifestInput = {
    version: 1,
    containers: [
      {
        name: "autoscaler",
        image: sidecar.image,
        args: [
          "run",
          `--vault=${vault}`,
          `--rpc-url=${devnet.chain.rpcUrl}`,
          `--indexer-url=${indexer.url}`,
          "--deployments-file=/run/secrets/deployment.json",
          "--controller-key-file=/run/secrets/controller-key",
          "--app-yaml=/run/secrets/app.yaml",
          "--pod-yaml=/run/secrets/pod.yaml",
          "--blob-seed-dir=/run/secrets/blobs",
          "--data-dir=/tmp/autoscaler",
          `--localhost-address=${HOST}`,
          "--status-host=0.0.0.0",
          "--status-port=8080",
          "--reconcile-interval-sec=1",
          "--startup-grace-sec=120",
        ],
        env: { NODE_OPTIONS: "--max-old-space-size=192" },
        resources: { cpuMillis: 500, memoryMiB: 256, pids: 64 },
        readOnlyRootfs: true,
        mounts: [
          { volume: "secrets", path: "/run/secrets", readOnly: true },
          { volume: "tmp", path: "/tmp" },
        ],
      },
    ],
    volumes: [
      { type: "secret", name: "secrets", files },
      // /tmp is mode 1777 in the image, so the volume mounted there is writable by uid 10001 (a fresh path is not).
      { type: "empty", name: "tmp", sizeMiB: 64 },
    ],
    expose: { http: [{ container: "autoscaler", port: 8080 }] },
  };
  const quoted = await ownerClient.getQuote({ provider: S.address, manifest: sidecarManifest });
  const lease = await ownerClient.createLease({ ...quoted, deposit: quoted.quote.pricePerSecond * 3600n });
  sidecarLease = lease.leaseId;
  await ownerClient.deployPod({ leaseId: sidecarLease, manifest: sidecarManifest });
  await ownerClient.waitForPod({ leaseId: sidecarLease, timeoutMs: 180_000, intervalMs: 500 });
}, 600_000);

afterAll(async () => {
  mirror?.close();
  await devnet?.stop();
  await docker
    .getImage(SIDECAR_TAG)
    .remove({ force: true })
    .catch(() => {});
});

describe("autoscaler sidecar (standalone mode)", () => {
  let first: Status;

  it("runs in its own pod on S and places the app's instance on A, which serves", async () => {
    first = await waitHealthyOn(A, 240_000);
    const [instance] = first.instances;
    const leaseId = BigInt(instance?.leaseId as string);
    expect(await A.worker.waitForPage(leaseId, PAGE)).toContain(PAGE);
    // Leased by the vault (the controller's signature), not by the owner who paid for the sidecar.
    expect((await ownerClient.getLease({ leaseId })).publisher).toBe(vault);
    expect(await vaultSlots()).toEqual([leaseId]);
    expect(first.problems).toEqual([]);
  }, 300_000);

  it("replaces the instance on B when A dies", async () => {
    const dead = BigInt(first.instances[0]?.leaseId as string);
    expect(await killProvider(devnet.docker, A)).toBeGreaterThan(0);
    const after = await waitHealthyOn(B, 240_000);
    const leaseId = BigInt(after.instances[0]?.leaseId as string);
    expect(leaseId).not.toBe(dead);
    expect(await B.worker.waitForPage(leaseId, PAGE)).toContain(PAGE);
    expect(await vaultSlots()).toEqual([leaseId]);
  }, 300_000);
});
