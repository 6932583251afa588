/**
 * Two workers with one provider key on one Docker Engine, for two deployments of the market (a stray worker of a
 * killed test run against a dead anvil, and the new run's worker): each manages only its own objects. The other
 * instance's objects, and an older worker's objects without an instance label, carry this provider's label and the
 * same lease id; they are planted with dockerode and must survive every listing, update and teardown untouched.
 */
import { randomBytes } from "node:crypto";
import { buildTestImage, removeProviderLeftovers, untagImages } from "@podnet/devnet";
import { parseManifest } from "@podnet/sdk/protocol";
import Dockerode from "dockerode";
import { type Address, getAddress, type Hex, keccak256, stringToHex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PodPlan } from "./container-spec.js";
import { DockerRuntime } from "./docker-runtime.js";
import { networkName, type WorkerInstance } from "./names.js";

const docker = new Dockerode();
/** This file's own provider address (no other test uses it): removeProviderLeftovers clears what it made. */
const provider = getAddress("0x00000000000000000000000000000000105c09e1") as Address;
const p8 = provider.slice(2, 10).toLowerCase();
const instance: WorkerInstance = { provider: provider.toLowerCase() as Address, tag: "105c09e1" };
const runtime = new DockerRuntime({ docker, instance, tcpBindIp: "127.0.0.1" });
const TEST_IMAGE = "podnet-test/busybox:instance-scope";
const run = randomBytes(4).toString("hex");
const spec = (name: string): Hex => keccak256(stringToHex(`${run}/${name}`));
const leaseId = 1n;
let imageId = "";

/** The labels a worker of another deployment (instance `deadbeef`), or of an older version (none), gives lease 1. */
function foreignLabels(instance: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return {
    "podnet.managed": "true",
    "podnet.provider": provider.toLowerCase(),
    ...(instance ? { "podnet.instance": instance } : {}),
    "podnet.lease": "1",
    ...extra,
  };
}

/** A running pod container, its network and an empty volume of lease 1, as the other worker made them. */
async function plantPod(instance: string | undefined) {
  const base = instance ? `podnet-${p8}-${instance}-l1` : `podnet-${p8}-l1`;
  const other = spec(`other-${instance ?? "legacy"}`);
  const network = await docker.createNetwork({ Name: base, Labels: foreignLabels(instance) });
  const volume = `${base}-${other.slice(2, 10)}-tmp-r0`;
  await docker.createVolume({
    Name: volume,
    Labels: foreignLabels(instance, {
      "podnet.spec": other,
      "podnet.volume": "tmp",
      "podnet.volume-type": "empty",
      "podnet.replica": "0",
    }),
  });
  const container = await docker.createContainer({
    name: `${base}-${other.slice(2, 10)}-web-0`,
    Image: imageId,
    Cmd: ["sleep", "3600"],
    Labels: foreignLabels(instance, { "podnet.spec": other, "podnet.container": "web", "podnet.replica": "0" }),
    HostConfig: { NetworkMode: base },
  });
  await container.start();
  return { network: network.id, volume, container: container.id };
}

const planted: { network: string; volume: string; container: string }[] = [];

async function expectUntouched() {
  for (const objects of planted) {
    expect((await docker.getContainer(objects.container).inspect()).State.Status).toBe("running");
    expect((await docker.getNetwork(objects.network).inspect()).Id).toBe(objects.network);
    expect((await docker.getVolume(objects.volume).inspect()).Name).toBe(objects.volume);
  }
}

function plan(): PodPlan {
  const manifest = parseManifest({
    version: 1,
    containers: [
      {
        name: "web",
        image: `registry.example/busybox@sha256:${"0".repeat(64)}`,
        resources: { cpuMillis: 250, memoryMiB: 64, pids: 64 },
        mounts: [{ volume: "tmp", path: "/tmp" }],
      },
    ],
    volumes: [{ type: "empty", name: "tmp", sizeMiB: 16 }],
  });
  return {
    leaseId,
    specHash: spec("mine"),
    manifest,
    images: { web: imageId },
    secretDirs: {},
    tcpHostPorts: {},
  };
}

beforeAll(async () => {
  await runtime.ping();
  await removeProviderLeftovers(docker, provider);
  imageId = await buildTestImage(docker, TEST_IMAGE);
  planted.push(await plantPod("deadbeef"), await plantPod(undefined));
});

afterAll(async () => {
  await removeProviderLeftovers(docker, provider);
  await untagImages(docker, [TEST_IMAGE]);
});

describe("a worker's Docker objects are its instance's only", () => {
  it("lists none of another instance's or an older worker's containers", async () => {
    expect(await runtime.listContainers()).toEqual([]);
    expect(await runtime.listContainers({ leaseId })).toEqual([]);
  });

  it("runs its own pod of the same lease id beside them, on its own network and volume", async () => {
    const containers = await runtime.ensurePod(plan());
    expect(containers.map((c) => `${c.container}:${c.state}`)).toEqual(["web:running"]);
    const own = await runtime.inspect((containers[0] as { id: string }).id);
    expect(Object.keys(own.NetworkSettings.Networks)).toHaveLength(1);
    const network = Object.values(own.NetworkSettings.Networks)[0]?.NetworkID;
    expect(planted.map((p) => p.network)).not.toContain(network);
    expect(own.Mounts.map((m) => m.Name)).not.toContain(planted[0]?.volume);
    expect((await runtime.listContainers()).map((c) => c.id)).toEqual([own.Id]);
    await expectUntouched();
  });

  it("leaves them alone when it drops stale specs and when it tears its pod down", async () => {
    await runtime.removeStaleSpecs(leaseId, spec("mine"));
    await expectUntouched();
    expect(await runtime.listContainers()).toHaveLength(1);
    await runtime.removePod(leaseId);
    expect(await runtime.listContainers()).toEqual([]);
    await expectUntouched();
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`podnet.provider=${provider.toLowerCase()}`] },
    });
    expect(left.map((c) => c.Id).sort()).toEqual(planted.map((p) => p.container).sort());
  });

  it("refuses a network of its own name that another instance made, and leaves it", async () => {
    const name = networkName(instance, 2n);
    const squatter = await docker.createNetwork({
      Name: name,
      Labels: foreignLabels("deadbeef", { "podnet.lease": "2" }),
    });
    await expect(runtime.ensureNetwork(2n)).rejects.toThrow(
      `network ${name} exists but was not created by this worker`,
    );
    await runtime.removePod(2n);
    expect((await docker.getNetwork(squatter.id).inspect()).Name).toBe(name);
  });
});
