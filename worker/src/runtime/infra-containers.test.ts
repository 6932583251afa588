/**
 * Infra containers against the real engine: the pause program itself, a single-container pod joining its slot's
 * infra container, the pod rebuilt when the infra container dies, the pods that must keep their own endpoints, and the
 * slot's removal. Its objects carry this file's own provider address, removed before and after.
 */
import { spawn } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTestImage, DEFAULT_TEST_PAGE, removeProviderLeftovers, sandboxHostConfig, waitFor } from "@podnet/devnet";
import { type PodManifest, type PodManifestInput, parseManifest } from "@podnet/sdk/protocol";
import Dockerode from "dockerode";
import { type Address, getAddress, type Hex, keccak256, stringToHex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PodPlan } from "./container-spec.js";
import { DockerRuntime } from "./docker-runtime.js";
import { infraContainerName, LABELS, slotNetworkName, type WorkerInstance } from "./names.js";
import { pauseBinary, pauseImageTag } from "./pause-image.js";

const docker = new Dockerode();
/** This file's own provider address (no worker, test or demo uses it). */
const provider = getAddress("0x00000000000000000000000000000000000afa00") as Address;
const instance: WorkerInstance = { provider: provider.toLowerCase() as Address, tag: "000afa00" };
/** What the runtime reported as infra containers it could not make. */
const infraErrors: { slot: number; message: string }[] = [];
const runtime = new DockerRuntime({
  docker,
  instance,
  tcpBindIp: "127.0.0.1",
  infra: true,
  onInfraError: (slot, error) => infraErrors.push({ slot, message: error.message }),
});
const TEST_IMAGE = "podnet-test/busybox:infra";
const small = { cpuMillis: 250, memoryMiB: 64, pids: 64 };
/** Slots of this file, on subnets no other test uses. */
const slot = (index: number) => ({ index, subnet: `10.249.${index}.0/24` });
let imageId = "";

function manifest(input: Omit<PodManifestInput, "version">): PodManifest {
  return parseManifest({ version: 1, ...input });
}

const web = (replicas = 1) =>
  manifest({
    containers: [{ name: "web", image: `registry.example/busybox@sha256:${"0".repeat(64)}`, resources: small }],
    expose: { http: [{ container: "web", port: 8080, host: "web.example" }] },
    replicas,
  });

function plan(leaseId: bigint, specName: string, pod: PodManifest, index: number): PodPlan {
  return {
    leaseId,
    specHash: keccak256(stringToHex(`infra/${specName}`)) as Hex,
    manifest: pod,
    images: Object.fromEntries(pod.containers.map((c) => [c.name, imageId])),
    secretDirs: {},
    tcpHostPorts: {},
    network: slot(index),
  };
}

async function page(address: string): Promise<string> {
  const response = await fetch(`http://${address}:8080/`, { signal: AbortSignal.timeout(2_000) });
  return response.text();
}

beforeAll(async () => {
  await removeProviderLeftovers(docker, provider);
  imageId = await buildTestImage(docker, TEST_IMAGE);
});

afterAll(async () => {
  await removeProviderLeftovers(docker, provider);
});

describe("the pause program", () => {
  it("is a static x86-64 executable that pauses until it is killed", async () => {
    const binary = pauseBinary("x86_64");
    expect(binary?.subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    const dir = await mkdtemp(join(tmpdir(), "podnet-pause-"));
    try {
      const path = join(dir, "pause");
      await writeFile(path, binary as Buffer);
      await chmod(path, 0o755);
      const child = spawn(path, { stdio: "ignore" });
      const exit = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once("exit", (_code, signal) => resolve(signal)),
      );
      const early = await Promise.race([exit, new Promise((resolve) => setTimeout(() => resolve("running"), 500))]);
      expect(early).toBe("running");
      child.kill("SIGKILL");
      expect(await exit).toBe("SIGKILL");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("is not made for an architecture it was not written for", () => {
    expect(pauseBinary("aarch64")).toBeUndefined();
    expect(pauseBinary("arm64")).toBeUndefined();
  });
});

describe("a pod in its slot's infra container", () => {
  it("joins the namespace of the slot's infra container and serves at its address", async () => {
    await runtime.ensureSlotNetwork(slot(1), { infra: true });
    const infra = await docker.getContainer(infraContainerName(instance, 1)).inspect();
    expect(infra.State.Running).toBe(true);
    expect(infra.Config.Image).toBe(pauseImageTag(pauseBinary("x86_64") as Buffer));
    expect(infra.Config.User).toBe("65534:65534");
    expect(infra.HostConfig).toMatchObject({
      CapDrop: ["ALL"],
      Privileged: false,
      ReadonlyRootfs: true,
      SecurityOpt: ["no-new-privileges"],
      RestartPolicy: { Name: "no" },
      PortBindings: {},
    });
    const infraAddress = infra.NetworkSettings.Networks[slotNetworkName(instance, 1)]?.IPAddress;
    expect(infraAddress).toMatch(/^10\.249\.1\./);

    const [pod] = await runtime.ensurePod(plan(1n, "a", web(), 1));
    expect(pod?.address).toBe(infraAddress);
    expect(pod?.httpContainerPorts).toEqual([8080]);
    expect(pod?.httpPorts).toEqual({});
    const app = await docker.getContainer(pod?.id as string).inspect();
    expect(app.HostConfig.NetworkMode).toBe(`container:${infra.Id}`);
    // The same hardening as a pod with its own endpoint: only the network namespace is the infra container's.
    expect(app.HostConfig).toMatchObject(sandboxHostConfig(small));
    expect(await waitFor("the pod at the infra address", () => page(infraAddress as string))).toContain(
      DEFAULT_TEST_PAGE,
    );
    // Its traffic is counted (Docker reads the shared namespace's counters for it too).
    const usage = await runtime.sampleStats(pod?.id as string);
    expect(usage.rxBytes).toBeGreaterThan(0);
    expect(usage.txBytes).toBeGreaterThan(0);
  });

  it("shows the pod detached when its infra container stops, and ensurePod brings both back", async () => {
    const [before] = await runtime.listContainers({ leaseId: 1n });
    await docker.getContainer(infraContainerName(instance, 1)).kill();
    const [detached] = await runtime.listContainers({ leaseId: 1n });
    expect(detached?.state).toBe("detached");
    expect(detached?.address).toBeUndefined();

    const [after] = await runtime.ensurePod(plan(1n, "a", web(), 1));
    // Its old namespace is dead: the container is made again in the restarted infra container's.
    expect(after?.id).not.toBe(before?.id);
    expect(after?.state).toBe("running");
    expect(await waitFor("the rebuilt pod", () => page(after?.address as string))).toContain(DEFAULT_TEST_PAGE);
  });

  it("gives an update of the pod its own endpoint: the infra container's ports are the running spec's", async () => {
    const [update] = await runtime.ensurePod(plan(1n, "b", web(), 1));
    const app = await docker.getContainer(update?.id as string).inspect();
    expect(app.HostConfig.NetworkMode).not.toMatch(/^container:/);
    expect(update?.address).toMatch(/^10\.249\.1\./);
    // Still its own endpoint after the old spec is gone: the choice is kept while the spec has a container.
    await runtime.removeStaleSpecs(1n, plan(1n, "b", web(), 1).specHash);
    const [again] = await runtime.ensurePod(plan(1n, "b", web(), 1));
    expect(again?.id).toBe(update?.id);
  });

  it("keeps pods of several container instances on their own endpoints", async () => {
    await runtime.ensureSlotNetwork(slot(2), { infra: true });
    const pods = await runtime.ensurePod(plan(2n, "c", web(2), 2));
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      const info = await docker.getContainer(pod.id).inspect();
      expect(info.HostConfig.NetworkMode).not.toMatch(/^container:/);
    }
  });

  it("stops at once when the engine stops it: a Docker restart or a host shutdown does not wait for it", async () => {
    await runtime.ensureSlotNetwork(slot(5), { infra: true });
    try {
      const infra = docker.getContainer(infraContainerName(instance, 5));
      expect((await infra.inspect()).State.Running).toBe(true);
      // What dockerd does to each running container as it shuts down: the container's stop signal, then SIGKILL once
      // its stop timeout (Docker's default, 10 s) has passed. The pause program dies of nothing but SIGKILL.
      const t0 = performance.now();
      await infra.stop();
      expect(performance.now() - t0).toBeLessThan(3_000);
    } finally {
      await runtime.removePod(5n, 5);
    }
  });

  it("removes the infra container with its slot's network", async () => {
    await runtime.removePod(2n, 2);
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.instance}=${instance.tag}`, `${LABELS.slot}=2`] },
    });
    expect(left).toEqual([]);
    expect((await runtime.slotNetworks()).map((n) => n.index)).not.toContain(2);
  });

  it("leaves an infra container name taken by a container it did not make alone, and runs the pod without it", async () => {
    const squatter = await docker.createContainer({
      name: infraContainerName(instance, 3),
      Image: imageId,
      Labels: { [LABELS.provider]: instance.provider },
    });
    await runtime.ensureSlotNetwork(slot(3), { infra: true });
    expect(infraErrors).toEqual([
      { slot: 3, message: expect.stringMatching(/is taken by a container this worker did not create/) },
    ]);
    const [pod] = await runtime.ensurePod(plan(3n, "d", web(), 3));
    const info = await docker.getContainer(pod?.id as string).inspect();
    expect(info.HostConfig.NetworkMode).not.toMatch(/^container:/);
    expect(await waitFor("the pod on its own endpoint", () => page(pod?.address as string))).toContain(
      DEFAULT_TEST_PAGE,
    );
    // Not ours: neither started nor removed.
    expect((await squatter.inspect()).State.Status).toBe("created");
  });

  it("keeps a new pod off a slot's infra container that does not run", async () => {
    await runtime.ensureSlotNetwork(slot(4), { infra: true });
    await docker.getContainer(infraContainerName(instance, 4)).kill();
    const [pod] = await runtime.ensurePod(plan(4n, "e", web(), 4));
    const info = await docker.getContainer(pod?.id as string).inspect();
    expect(info.HostConfig.NetworkMode).not.toMatch(/^container:/);
  });
});
