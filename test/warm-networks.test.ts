/**
 * Warm pod networks (worker/src/pods/warm-networks.ts): a worker keeps `warmNetworks` pod networks made ahead, hands
 * the next lease one (so its pod does not wait for a bridge to be created), makes another, removes the used one with
 * its lease, and after a kill -9 keeps its warm networks and removes a slot network no lease or warm slot holds.
 * Real anvil, contracts, worker and Docker.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Devnet,
  devAccount,
  localDocker,
  mint,
  podNetworks,
  providerLabel,
  type RunningProvider,
  TOKEN,
  testImageTarball,
  waitFor,
  webAppManifest,
} from "@podnet/devnet";
import type Dockerode from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const publisher = devAccount(89);
const docker = localDocker();
let dir: string;
let devnet: Devnet;
let provider: RunningProvider;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-warm-networks-"));
  devnet = await Devnet.start({ dir });
  // The worker's default two, which a devnet's provider shrinks to one (devnet/src/worker.ts).
  provider = await devnet.startProvider({ index: 112, env: { PODNET_WARM_NETWORKS: "2" } });
  await mint(devnet.chain, publisher.account, 1_000_000n * TOKEN);
}, 240_000);

afterAll(async () => {
  await devnet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The provider's pod networks by slot, and which of them a container is attached to. */
async function slotNetworks() {
  const networks = await docker.listNetworks({ filters: { label: [providerLabel(provider.address), "podnet.slot"] } });
  // The pods' containers: a warm network's infra container does not make it used.
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [providerLabel(provider.address), "podnet.lease"] },
  });
  const endpoints = await Promise.all(containers.map((c) => podNetworks(docker, c)));
  const used = new Set(endpoints.flatMap((byName) => Object.values(byName).map((n) => n.NetworkID)));
  return {
    all: networks,
    warm: networks.filter((n) => !used.has(n.Id)),
    used: networks.filter((n) => used.has(n.Id)),
  };
}

const ids = (networks: Dockerode.NetworkInspectInfo[]) => networks.map((n) => n.Id).sort();

describe("warm pod networks", () => {
  it("hands a lease a network made before it, makes the next one, and removes the used one with the lease", async () => {
    const before = await waitFor("two warm networks", async () => {
      const { warm } = await slotNetworks();
      return warm.length === 2 ? warm : undefined;
    });
    const alice = devnet.publisherClient(publisher.account);
    const tarball = await testImageTarball(docker, "podnet-test/warm-networks:1", join(dir, "web.tar"), {
      page: "warm",
    });
    const sealed = await alice.prepareImage({ tarball });
    devnet.untagBlobOnStop(sealed.cid);
    const manifest = webAppManifest(sealed.image);
    const quoted = await alice.getQuote({ provider: provider.address, manifest });
    const { leaseId } = await alice.createLease({ ...quoted, deposit: quoted.quote.pricePerSecond * 3600n });
    await alice.deployPod({ leaseId, manifest });
    await provider.worker.waitForPage(leaseId, "warm");

    const during = await waitFor("the warm networks topped up again", async () => {
      const now = await slotNetworks();
      return now.warm.length === 2 ? now : undefined;
    });
    // The pod runs on one of the networks that were warm before its lease existed.
    expect(during.used).toHaveLength(1);
    expect(ids(before)).toContain(during.used[0]?.Id);
    const usedId = during.used[0]?.Id as string;

    await alice.closeLease({ leaseId });
    await waitFor("the lease's network removed", async () => {
      const now = await slotNetworks();
      return now.all.some((n) => n.Id === usedId) ? undefined : now;
    });
    const after = await slotNetworks();
    expect(after.used).toEqual([]);
    expect(after.warm).toHaveLength(2);
  });

  it("keeps its warm networks across a kill -9 and removes a slot network its state does not hold", async () => {
    const { warm } = await slotNetworks();
    expect(warm).toHaveLength(2);
    // A network made by a worker that died before writing its state: this instance's labels, a slot nobody holds.
    const [sample] = warm;
    if (!sample) throw new Error("no warm network");
    const labels = { ...sample.Labels, "podnet.slot": "999" };
    const name = sample.Name.replace(/-n\d+$/, "-n999");
    const orphan = await docker.createNetwork({ Name: name, Driver: "bridge", Labels: labels });
    await provider.worker.stop("SIGKILL");
    await provider.restart("worker-after-kill.log");
    await waitFor("the orphan slot network removed", async () =>
      (await docker.listNetworks({ filters: { name: [name] } })).some((n) => n.Name === name) ? undefined : true,
    );
    const now = await slotNetworks();
    expect(ids(now.warm)).toEqual(ids(warm));
    await expect(orphan.inspect()).rejects.toThrow();
  });

  it("finishes the warm network it is making before a clean stop, so nothing of it appears after the exit", async () => {
    // The warm slots' networks and infra containers gone while the worker is down: its start makes them again.
    await provider.worker.stop("SIGKILL");
    const infra = { label: [providerLabel(provider.address), "podnet.role=infra"] };
    for (const c of await docker.listContainers({ all: true, filters: infra })) {
      await docker.getContainer(c.Id).remove({ force: true });
    }
    for (const network of (await slotNetworks()).warm) {
      await waitFor("the warm network removed", () =>
        docker
          .getNetwork(network.Id)
          .remove()
          .then(
            () => true,
            () => undefined,
          ),
      );
    }
    await provider.restart("worker-clean-stop.log");
    // A clean stop (SIGTERM) as soon as the first network is back: its infra container, the next network, are under way.
    await waitFor("a warm network made again", async () => ((await slotNetworks()).all.length > 0 ? true : undefined), {
      intervalMs: 5,
    });
    await provider.worker.stop();
    const objects = async () => ({
      networks: ids((await slotNetworks()).all),
      infra: (await docker.listContainers({ all: true, filters: infra })).map((c) => c.Id).sort(),
    });
    const atExit = await objects();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await objects()).toEqual(atExit);
    await provider.restart("worker-after-clean-stop.log");
  });
});
