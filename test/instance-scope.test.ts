/**
 * The bug this guards against: a stray worker of a killed test run (its anvil gone) and the new run's worker share one
 * provider key and one Docker Engine, and the stray one removed the new run's pod of lease 1 because lease 1 was
 * closed, or unknown, on its own chain. Here a real worker's lease 1 closes while another instance's pod of lease 1
 * (its labels: this provider, another `podnet.instance`) and an older worker's (no instance label) run beside it: the
 * worker removes its own pod, as always, and never touches theirs, on that pass or the ones after.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Devnet,
  fundedPublisher,
  leaseContainers,
  localDocker,
  type Publisher,
  type RunningProvider,
  type SealedBlob,
  sealTestImage,
  waitFor,
} from "@podnet/devnet";
import type { PodManifestInput } from "@podnet/sdk/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const docker = localDocker();
const PAGE = "instance scope";

let devnet: Devnet;
let P: RunningProvider;
let alice: Publisher;
let image: SealedBlob;

const manifest = (): PodManifestInput => ({
  version: 1,
  containers: [
    {
      name: "web",
      image: `blob:${image.cid}`,
      command: ["httpd", "-f", "-p", "8080", "-h", "/www"],
      resources: { cpuMillis: 250, memoryMiB: 64, pids: 64 },
    },
  ],
  expose: { http: [{ container: "web", port: 8080 }] },
});

/** Another worker's running pod container of lease `leaseId`: this provider's labels, `instance` or none. */
async function plantPod(leaseId: bigint, instance: string | undefined): Promise<string> {
  const name = `podnet-planted-${instance ?? "legacy"}-l${leaseId}-${Date.now()}`;
  const container = await docker.createContainer({
    name,
    Image: `podnet-blob/${image.cid}:latest`,
    Cmd: ["sleep", "3600"],
    Labels: {
      "podnet.managed": "true",
      "podnet.provider": P.address.toLowerCase(),
      ...(instance ? { "podnet.instance": instance } : {}),
      "podnet.lease": leaseId.toString(),
      "podnet.spec": `0x${"ab".repeat(32)}`,
      "podnet.container": "web",
      "podnet.replica": "0",
    },
  });
  await container.start();
  return container.id;
}

const isRunning = async (id: string) => (await docker.getContainer(id).inspect()).State.Running;

beforeAll(async () => {
  devnet = await Devnet.start({ dir: mkdtempSync(join(tmpdir(), "podnet-instance-scope-")) });
  image = await sealTestImage(docker, "podnet-test/instance-scope:v1", { page: PAGE });
  devnet.untagBlobOnStop(image.cid);
  P = await devnet.startProvider({ index: 44, capacity: { cpuMillis: 2000, memoryMiB: 2048, storageMiB: 10_000 } });
  alice = await fundedPublisher(devnet.chain, 45);
}, 240_000);

afterAll(async () => {
  await devnet?.stop();
});

describe("a worker beside another instance of its provider key on one Docker Engine", () => {
  it("tears down its own pod of a closed lease and leaves the other instance's and an older worker's pods of that lease", async () => {
    const lease = await alice.lease(P.worker.apiUrl, manifest(), 3600n);
    const upload = await alice.uploadBlob(P.worker.apiUrl, P.address, lease.leaseId, image.cid, image.ciphertext);
    expect([200, 201]).toContain(upload.status);
    const keys = { [image.cid]: image.key };
    const sent = await alice.sendManifest(P.worker.apiUrl, P.address, P.encryptionKey, lease.leaseId, manifest(), keys);
    expect(sent.status, await sent.clone().text()).toBe(202);
    await P.worker.waitForPage(lease.leaseId, PAGE);
    const own = (await leaseContainers(docker, P.address, lease.leaseId)).map((c) => c.Id);
    expect(own).toHaveLength(1);

    // The blob image the worker loaded is on the engine now: the planted pods run it too.
    const theirs = [await plantPod(lease.leaseId, "deadbeef"), await plantPod(lease.leaseId, undefined)];
    await alice.write("closeLease", [lease.leaseId]);
    await waitFor("the worker to remove its own pod", async () =>
      (await leaseContainers(docker, P.address, lease.leaseId)).some((c) => own.includes(c.Id)) ? undefined : true,
    );
    // A few more reconcile passes (one a second on a devnet): still untouched.
    await sleep(4000);
    for (const id of theirs) expect(await isRunning(id)).toBe(true);
    expect((await leaseContainers(docker, P.address, lease.leaseId)).map((c) => c.Id).sort()).toEqual(theirs.sort());
  }, 180_000);
});
