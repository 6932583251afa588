/**
 * The autoscaler's sidecar image pipeline end to end, on real parts: a Node program (autoscaler/image/sample) built
 * by buildNodeImage into a minimal image (no base image, no registry), saved, sealed by the SDK's prepareImage like
 * any encrypted image, and run by a real worker (devnet: anvil, the contracts, a worker process, the Docker Engine)
 * as the second container of a pod, with its key delivered as a secret volume. Checked from inside the container:
 * it serves through the ingress, runs as uid 10001, sees only the files the build put into its root file system,
 * reads its secret, and reaches the app beside it by name.
 */
import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Devnet,
  devAccount,
  ingress,
  leaseContainers,
  localDocker,
  mint,
  podHost,
  publisherClient,
  type RunningProvider,
  TOKEN,
  testImageTarball,
  waitFor,
} from "@podnet/devnet";
import type { PodManifestInput, PodnetClientWithActions } from "@podnet/sdk";
import { keccak256, toHex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltNodeImage, buildNodeImage } from "../autoscaler/image/build-node-image.js";
import { APP_UID } from "../autoscaler/image/rootfs.js";

const docker = localDocker();
const SAMPLE_ENTRY = join(import.meta.dirname, "..", "autoscaler", "image", "sample", "server.ts");
const SAMPLE_TAG = "podnet-test/node-sample:1";
/** Stands in for the controller key: the test checks it arrives, by hash (the sample never prints it). */
const CONTROLLER_KEY = `0x${createHash("sha256").update(`key-${Math.random()}`).digest("hex")}`;
/** Paths Docker itself adds to every container (and the secret mount the manifest asks for). */
const DOCKER_PATHS = [
  "/.dockerenv",
  "/etc/hostname",
  "/etc/hosts",
  "/etc/mtab",
  "/etc/resolv.conf",
  "/run",
  "/run/secrets",
  "/run/secrets/controller-key",
];

let dir: string;
let devnet: Devnet;
let provider: RunningProvider;
let publisher: PodnetClientWithActions;
let built: BuiltNodeImage;
let appTarball: string;

/** What the sample reports about its container. */
interface SampleReport {
  node: string;
  uid: number;
  gid: number;
  secretRead: string;
  secretSha256?: string;
  rootWrite: string;
  tmpWrite: string;
  localhost: string;
  keccak: string;
  probe?: string;
  files: string[];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-autoscaler-image-"));
  await Promise.all([
    Devnet.start({ dir }).then((started) => {
      devnet = started;
    }),
    (async () => {
      built = await buildNodeImage({ entry: SAMPLE_ENTRY, tag: SAMPLE_TAG, out: join(dir, "sample.tar") });
      appTarball = await testImageTarball(docker, "podnet-test/sidecar-app:1", join(dir, "app.tar"), {
        page: "the app",
      });
    })(),
  ]);
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  console.log(
    `sample image: layer ${mib(built.layerBytes)}, tarball ${mib(built.tarball?.bytes ?? 0)}, bundle ${built.bundleBytes} B, built in ${built.elapsedMs} ms`,
  );
  provider = await devnet.startProvider({
    index: 101,
    capacity: { cpuMillis: 4000, memoryMiB: 4096, storageMiB: 100_000 },
    pricing: { perCpuMilli: 1000n, perMemoryMiB: 100n, perStorageMiB: 1n, flat: 7n },
  });
  const account = devAccount(10).account;
  publisher = publisherClient(devnet.chain, account, { blobCacheDir: join(dir, "publisher-blobs") });
  await mint(devnet.chain, account, 1_000_000n * TOKEN);
}, 300_000);

afterAll(async () => {
  await devnet?.stop();
  await docker
    .getImage(SAMPLE_TAG)
    .remove({ force: true })
    .catch(() => {});
});

describe("autoscaler image: build", () => {
  it("gives the same layer for the same inputs, and the engine keeps it byte for byte", async () => {
    const again = await buildNodeImage({ entry: SAMPLE_ENTRY, tag: SAMPLE_TAG });
    expect(again.diffId).toBe(built.diffId);
    const info = await docker.getImage(SAMPLE_TAG).inspect();
    expect(info.RootFS.Layers).toEqual([built.diffId]);
    expect(info.Config.Entrypoint).toEqual(["/usr/bin/node", "/app/main.js"]);
    expect(info.Config.User).toBe(`${APP_UID}:${APP_UID}`);
  });

  it("refuses an entry that does not bundle, naming the file", async () => {
    const missing = join(dir, "no-such-entry.ts");
    await expect(buildNodeImage({ entry: missing, tag: "podnet-test/never:1" })).rejects.toThrow(
      `bundling ${missing} failed`,
    );
  });
});

describe("autoscaler image: as a sidecar in a pod", () => {
  let leaseId: bigint;
  let report: SampleReport;

  it("runs beside the app, deployed as an encrypted blob with its key as a secret volume", async () => {
    const sample = await publisher.prepareImage({ tarball: built.tarball?.path as string });
    const app = await publisher.prepareImage({ tarball: appTarball });
    const key = await publisher.prepareSecret({ value: CONTROLLER_KEY });
    for (const image of [sample, app]) devnet.untagBlobOnStop(image.cid);
    const manifest: PodManifestInput = {
      version: 1,
      containers: [
        { name: "web", image: app.image, resources: { cpuMillis: 100, memoryMiB: 32, pids: 64 } },
        {
          name: "autoscaler",
          image: sample.image,
          args: ["--secret", "/run/secrets/controller-key"],
          resources: { cpuMillis: 250, memoryMiB: 128, pids: 64 },
          readOnlyRootfs: true,
          mounts: [
            { volume: "controller", path: "/run/secrets", readOnly: true },
            { volume: "scratch", path: "/tmp" },
          ],
        },
      ],
      volumes: [
        { type: "secret", name: "controller", files: [{ path: "controller-key", blob: key.blob }] },
        { type: "empty", name: "scratch", sizeMiB: 8 },
      ],
      expose: {
        http: [
          { container: "web", port: 8080 },
          { container: "autoscaler", port: 8080 },
        ],
      },
    };
    const quoted = await publisher.getQuote({ provider: provider.address, manifest });
    const lease = await publisher.createLease({ ...quoted, deposit: quoted.quote.pricePerSecond * 3600n });
    leaseId = lease.leaseId;
    await publisher.deployPod({ leaseId, manifest });
    const status = await publisher.waitForPod({ leaseId, timeoutMs: 120_000, intervalMs: 250 });
    expect(status.pod.phase).toBe("running");
    const sidecarHost = `l${leaseId}-autoscaler-8080.pods.localhost`;
    expect(status.http.map((h) => h.host)).toEqual(expect.arrayContaining([podHost(leaseId), sidecarHost]));

    // "running" means the container started; node takes a moment more to listen.
    const answer = await waitFor(
      `the sidecar of lease ${leaseId} to answer`,
      async () => {
        const got = await ingress(
          provider.worker.ingressPort,
          sidecarHost,
          `/?probe=${encodeURIComponent("http://web:8080/")}`,
        );
        return got.status === 200 ? got : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    report = JSON.parse(answer.body) as SampleReport;
    expect(report.node).toBe(process.version);
    expect(report.keccak).toBe(keccak256(toHex("podnet")));
    expect(report.localhost).toBe("127.0.0.1");
    // The app's page, fetched by the sidecar over the pod's network by the container's name.
    expect(report.probe).toBe("200 the app");
  });

  it("runs as the unprivileged app user, on a read-only root with a writable /tmp volume", () => {
    expect([report.uid, report.gid]).toEqual([APP_UID, APP_UID]);
    expect(report.rootWrite).toBe("EROFS");
    expect(report.tmpWrite).toBe("ok");
  });

  it("reads its secret from the read-only in-memory mount", () => {
    expect(report.secretRead).toBe("ok");
    expect(report.secretSha256).toBe(createHash("sha256").update(CONTROLLER_KEY).digest("hex"));
  });

  it("has only the files the build put into the root file system (plus Docker's own)", async () => {
    const seen = report.files.filter((path) => !path.startsWith("/tmp/")); // its own probe file in the scratch volume
    expect(seen).toEqual([...new Set([...built.files, ...DOCKER_PATHS])].sort());
    const containers = await leaseContainers(docker, provider.address, leaseId);
    const sidecar = containers.find((c) => c.Labels["podnet.container"] === "autoscaler");
    const info = await docker.getContainer(sidecar?.Id as string).inspect();
    const image = await docker.getImage(info.Image).inspect();
    // The worker decrypted and loaded exactly the layer the build wrote.
    expect(image.RootFS.Layers).toEqual([built.diffId]);
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.HostConfig.CapDrop).toEqual(["ALL"]);
  });

  it("cannot reach the host: a devnet's chain RPC, even listening on every address, is out of its reach", async () => {
    // A stand-in for anvil or the indexer bound to 0.0.0.0 on the provider's machine (the devnet's anvil binds
    // 127.0.0.1, which inside the pod is the pod itself).
    const rpc = createServer((_request, response) => response.end("rpc here"));
    await new Promise<void>((resolve) => rpc.listen(0, "0.0.0.0", resolve));
    try {
      const port = (rpc.address() as AddressInfo).port;
      const [sidecar] = (await leaseContainers(docker, provider.address, leaseId)).filter(
        (c) => c.Labels["podnet.container"] === "autoscaler",
      );
      const networks = (await docker.getContainer(sidecar?.Id as string).inspect()).NetworkSettings.Networks;
      const gateway = Object.values(networks)[0]?.Gateway as string;
      const url = `http://${gateway}:${port}/`;
      // The host reaches the server at the pod network's gateway: the listener is there.
      expect(await (await fetch(url)).text()).toBe("rpc here");
      const answer = await ingress(
        provider.worker.ingressPort,
        `l${leaseId}-autoscaler-8080.pods.localhost`,
        `/?probe=${encodeURIComponent(url)}`,
      );
      expect((JSON.parse(answer.body) as SampleReport).probe).toMatch(/^error /);
    } finally {
      rpc.close();
    }
  });
});
