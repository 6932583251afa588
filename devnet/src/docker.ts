/**
 * The local Docker Engine as the harness sees it: a client, the objects a provider's worker made (found by their
 * labels) and their removal, and the sandbox every pod container must carry.
 */
import Dockerode from "dockerode";
import type { Address } from "viem";
import { removeChainsCommands, restoreRules, saveRules } from "../../worker/src/runtime/firewall.js";

/** A client of the local Docker Engine: `DOCKER_HOST` (unix socket) when set, else /var/run/docker.sock. */
export function localDocker(): Dockerode {
  return new Dockerode({ socketPath: process.env.DOCKER_HOST?.replace(/^unix:\/\//, "") ?? "/var/run/docker.sock" });
}

/** `podnet.provider=<address>`: the label a worker puts on every container, network and volume it makes. */
export const providerLabel = (provider: Address) => `podnet.provider=${provider.toLowerCase()}`;

/** The containers (running or not), networks and volumes a provider's worker made. */
export async function providerObjects(docker: Dockerode, provider: Address) {
  const label = [providerLabel(provider)];
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters: { label } }),
    docker.listNetworks({ filters: { label } }),
    docker.listVolumes({ filters: { label } }),
  ]);
  return { containers, networks, volumes: volumes.Volumes ?? [] };
}

/** A pod container's endpoint on a network, as both `docker ps` and `docker inspect` report it. */
export type PodEndpoint = { NetworkID: string; IPAddress: string; Gateway: string };

/**
 * The networks a pod container is on, by name: its own endpoints, or, when it joined the network namespace of its
 * slot's infra container (`NetworkMode: container:<id>`, worker/src/runtime/infra-containers.ts), that container's.
 * Takes a `docker ps` entry or a `docker inspect`.
 */
export async function podNetworks(
  docker: Dockerode,
  container: { HostConfig?: { NetworkMode?: string }; NetworkSettings?: { Networks?: Record<string, PodEndpoint> } },
): Promise<Record<string, PodEndpoint>> {
  const infra = infraContainerOf(container);
  if (infra === undefined) return container.NetworkSettings?.Networks ?? {};
  return (await docker.getContainer(infra).inspect()).NetworkSettings.Networks;
}

/** The id of the container whose network namespace `container` joined (`NetworkMode: container:<id>`), if any. */
export function infraContainerOf(container: { HostConfig?: { NetworkMode?: string } }): string | undefined {
  const mode = container.HostConfig?.NetworkMode ?? "";
  return mode.startsWith("container:") ? mode.slice("container:".length) : undefined;
}

/** How many objects {@link removeProviderLeftovers} removed. */
export type LeftoverCounts = { containers: number; networks: number; volumes: number };

/**
 * Removes every container (running or not, whatever its restart policy), network and volume labelled with
 * `provider`: what a test provider leaves behind at its end (the acceptance asks for none), and what a run that was
 * killed left, which a Docker Engine restart even starts again.
 */
export async function removeProviderLeftovers(docker: Dockerode, provider: Address): Promise<LeftoverCounts> {
  const { containers, networks, volumes } = await providerObjects(docker, provider);
  const removed = (removals: Promise<unknown>[]) =>
    Promise.all(
      removals.map((r) =>
        r.then(
          () => 1,
          () => 0,
        ),
      ),
    ).then((done) => done.reduce((a, b) => a + b, 0));
  // Containers first: a network or volume in use cannot go.
  const containerCount = await removed(
    containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })),
  );
  const networkCount = await removed(networks.map((n) => removeNetwork(docker, n.Id)));
  const volumeCount = await removed(volumes.map((v) => docker.getVolume(v.Name).remove()));
  return { containers: containerCount, networks: networkCount, volumes: volumeCount };
}

/**
 * Removes a network, trying again for a while: Docker can still hold the endpoint of a container removed a moment ago
 * (an infra container, a pod) and refuse with "has active endpoints". A network that is gone (404) is not retried.
 */
async function removeNetwork(docker: Dockerode, id: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await docker.getNetwork(id).remove();
      return;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404 || attempt >= 8) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/** "2 containers, 1 network" (nothing for zero counts); "" when nothing was removed. */
export function describeLeftovers(counts: LeftoverCounts): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} ${n === 1 ? kind.slice(0, -1) : kind}`)
    .join(", ");
}

/**
 * Removes the iptables chains every worker of `provider` installed, on any chain or market
 * (worker/src/runtime/firewall.ts: PODNET-<p6>-<instance tag>-IN, -FWD, -POD, -HOST; an older worker's
 * PODNET-<p8>-...), and their jumps from INPUT and DOCKER-USER: each run's worker has its own instance, so chains
 * left behind would pile up. One read of the table and one transaction (`removeChainsCommands`): a process per rule
 * took about 17 iptables processes a provider, ~90 ms of CPU and ~240 ms. A transaction refused (another process
 * changed a rule in between) is tried once more from a new read. Best effort: nothing to do, or no root, is not an error.
 */
export async function removeProviderFirewall(provider: Address): Promise<void> {
  const hex = provider.slice(2).toUpperCase();
  const ours = new RegExp(`^PODNET-(${hex.slice(0, 6)}-[0-9A-F]{8}|${hex.slice(0, 8)})-(IN|FWD|POD|HOST)$`);
  for (let attempt = 0; attempt < 2; attempt++) {
    const lines = await saveRules().catch(() => undefined);
    const commands = lines ? removeChainsCommands(lines, (chain) => ours.test(chain)) : [];
    if (commands.length === 0) return;
    if (
      await restoreRules(commands).then(
        () => true,
        () => false,
      )
    )
      return;
  }
}

/** The containers (running or not) of lease `leaseId` of `provider`. */
export function leaseContainers(docker: Dockerode, provider: Address, leaseId: bigint | string) {
  return docker.listContainers({ all: true, filters: { label: [providerLabel(provider), `podnet.lease=${leaseId}`] } });
}

/**
 * Untags images (`noprune`: an image that still has another tag, like the test image a blob was made from, stays).
 * For the `podnet-blob/<cid>:latest` tags a worker gives each image blob it loads.
 */
export async function untagImages(docker: Dockerode, tags: Iterable<string>): Promise<void> {
  for (const tag of tags) {
    await docker
      .getImage(tag)
      .remove({ noprune: true })
      .catch(() => undefined);
  }
}

/**
 * The HostConfig fields of a pod container that make its sandbox: the lease's exact limits (CPU, memory with no
 * swap on top, processes), every capability dropped, not privileged. One list, checked by the worker's runtime test
 * and by the end-to-end test of the worker.
 */
export function sandboxHostConfig(limits: { cpuMillis: number; memoryMiB: number; pids: number }) {
  return {
    NanoCpus: limits.cpuMillis * 1_000_000,
    Memory: limits.memoryMiB * 2 ** 20,
    MemorySwap: limits.memoryMiB * 2 ** 20,
    PidsLimit: limits.pids,
    CapDrop: ["ALL"],
    Privileged: false,
  };
}

/**
 * Objects as a worker of `provider` killed mid-run leaves them, for tests of the cleanup at start: a running
 * container with a pod's labels and restart policy (a Docker Engine restart starts it again), a network and a volume.
 * `image` must exist locally (a test image).
 */
export async function plantProviderLeftovers(docker: Dockerode, provider: Address, image: string) {
  const [key, value] = providerLabel(provider).split("=") as [string, string];
  const labels = { [key]: value, "podnet.lease": "1", "podnet.spec": "0xleftover" };
  const name = `podnet-leftover-${provider.slice(2, 10).toLowerCase()}`;
  const container = await docker.createContainer({
    Image: image,
    name,
    Labels: labels,
    HostConfig: { RestartPolicy: { Name: "unless-stopped" } },
  });
  await container.start();
  const network = await docker.createNetwork({ Name: name, Labels: labels });
  const volume = (await docker.createVolume({ Name: name, Labels: labels })) as unknown as { name: string };
  return { container: container.id, network: network.id, volume: volume.name };
}
