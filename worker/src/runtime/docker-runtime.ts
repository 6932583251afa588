/**
 * The worker's only door to Docker: runs pods from plans, idempotently, and reports what runs.
 *
 * Every method is safe to repeat and safe after a crash at any point. Objects are found by deterministic name and by
 * label, never by remembered ids, so the engine itself is the state: a restarted worker lists its labels and carries
 * on. Within one process, work on a lease is serialised; across processes, Docker's unique names are the lock (a
 * create that answers 409 adopts the existing container).
 */
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import type { AttestationDocument } from "@podnet/sdk/protocol";
import type Dockerode from "dockerode";
import type { Hex } from "viem";
import {
  type ContainerSpec,
  containerSpec,
  infraEligible,
  type PodPlan,
  planVolumes,
  type VolumeSpec,
  validatePlan,
} from "./container-spec.js";
import { dockerMessage, dockerStatus, jsonLines, KeyedLock, mapLimit, unless404 } from "./docker-util.js";
import type { PodFirewall } from "./firewall.js";
import { loadImageTarball } from "./image-load.js";
import { InfraContainers, type InfraState } from "./infra-containers.js";
import { demuxLogs, type LogRecord } from "./logs.js";
import {
  instanceLabels,
  LABELS,
  labelFilter,
  leaseLabels,
  namePrefix,
  networkName,
  parseContainerLabels,
  slotLabels,
  slotNetworkName,
  type WorkerInstance,
} from "./names.js";
import { type ContainerStats, containerUsage, type RawStats } from "./stats.js";
import { limitVolume } from "./volume-quota.js";

/** Construction options of {@link DockerRuntime}. */
export interface DockerRuntimeOptions {
  docker: Dockerode;
  /**
   * The worker instance (provider key on one market deployment) whose pods this runtime manages: it scopes every name
   * and label, and every listing filters on it, so another instance's objects on the same engine are never touched.
   */
  instance: WorkerInstance;
  /** Host address raw TCP exposes are published on. Default `0.0.0.0` (every interface). */
  tcpBindIp?: string;
  /** The pod egress firewall; every pod network's subnet gets its rules. None: pods' traffic is not filtered. */
  firewall?: PodFirewall;
  /**
   * How disk quotas are enforced: `rootfs` names the storage driver whose `--storage-opt size=` caps a container's root
   * file system (btrfs counts the image in it, overlay2 on XFS only the writes), `volumes` whether volumes get btrfs
   * qgroup limits. Left out: no quotas.
   */
  quotas?: { rootfs?: "btrfs" | "overlay2"; volumes?: boolean };
  /**
   * Slot networks made with `{ infra: true }` get an infra container, and a single-container pod on such a slot joins
   * its network namespace (infra-containers.ts). Default false: every pod container gets its own endpoint.
   */
  infra?: boolean;
  /**
   * Told when a slot's infra container could not be made (the network is made all the same, and a pod on the slot
   * gets its own endpoint): an infra container is a speed-up, never a reason for a pod not to run.
   */
  onInfraError?: (slot: number, error: Error) => void;
}

/** One container of a pod as Docker reports it. */
export interface RuntimeContainer {
  id: string;
  /** Docker name, without the leading slash. */
  name: string;
  leaseId: bigint;
  specHash: Hex;
  /** The manifest's container name. */
  container: string;
  replica: number;
  /**
   * Docker state: created, running, exited, restarting, paused, removing or dead; or `detached`: running in the
   * namespace of an infra container that no longer runs (unreachable until the worker rebuilds it).
   */
  state: string;
  /** Restarts Docker made (only known after an inspect; the list call does not report it). */
  restartCount?: number;
  /** HTTP container port → host port on 127.0.0.1. Present while the container runs; may change on restart. */
  httpPorts: Record<number, number>;
  /** The container ports the manifest exposes over HTTP (published on 127.0.0.1 unless in an infra container). */
  httpContainerPorts: number[];
  /**
   * The container's IPv4 address on its lease network, while it runs (may change on restart); in an infra container's
   * namespace, the infra container's address. The ingress connects to it directly: through the published port every
   * request would cross Docker's userland proxy, a second proxy that cost the ingress two thirds of its throughput in
   * `npm run bench:api`.
   */
  address?: string;
  /** TCP container port → host port on the TCP bind address. Present while the container runs. */
  tcpPorts: Record<number, number>;
  /** Image id (`sha256:...`). */
  image: string;
  /** Creation time, unix seconds. */
  createdAt: number;
}

/** The engine: what the attestation document's `runtime` states about it, and what the sandbox status reads. */
export type RuntimeInfo = Omit<AttestationDocument["runtime"], "kind"> & {
  /** The file system under the storage driver (`Backing Filesystem`), when the engine reports one. */
  backingFilesystem: string | null;
  dockerRootDir: string;
  /** The engine's security options (`docker info`): seccomp profile or null, AppArmor profile or null, userns, rootless. */
  security: { seccomp: string | null; apparmor: string | null; userns: boolean; rootless: boolean };
};

/** Options of {@link DockerRuntime.logs}. */
export interface LogOptions {
  /** Only the last `tail` records. Default: all. */
  tail?: number;
  /** Keep streaming new records until `signal` aborts or the container stops or is removed. */
  follow?: boolean;
  /** Only records since this unix time (seconds). */
  since?: number;
  /** Prefix every record with Docker's RFC 3339 timestamp. */
  timestamps?: boolean;
  signal?: AbortSignal;
}

/** Docker calls in flight at once for one pod: overlaps round trips without flooding the daemon. */
const PARALLEL_CALLS = 4;
/**
 * How many times a pod is brought up again after a concurrent worker undid part of it: removed the network this one
 * resolved (its duplicate), or removed a container (to replace it) before this one reported the pod.
 */
const RACE_ATTEMPTS = 3;
/** Thrown by one bring-up of a pod that a concurrent worker changed under it; ensurePod tries again. */
class PodRace extends Error {}
/** How long removing a network waits for the daemon to release endpoints of just-removed containers. */
const NETWORK_REMOVE_ATTEMPTS = 10;

/** The labels that say which pod container a container is: a name taken by one that differs in any is not adopted. */
const POD_CONTAINER_KEYS = [
  LABELS.managed,
  LABELS.provider,
  LABELS.instance,
  LABELS.lease,
  LABELS.spec,
  LABELS.container,
  LABELS.replica,
] as const;

interface Existing {
  id: string;
  state: string;
  config: string | undefined;
}

/** Runs and inspects one worker instance's pods on a Docker Engine. */
export class DockerRuntime {
  readonly #docker: Dockerode;
  readonly #instance: WorkerInstance;
  readonly #tcpBindIp: string;
  readonly #locks = new KeyedLock();
  readonly #firewall: PodFirewall | undefined;
  readonly #quotas: NonNullable<DockerRuntimeOptions["quotas"]>;
  /** Image id → size in bytes: a btrfs root file system quota counts the image. Ids never change their content. */
  readonly #imageSizes = new Map<string, number>();
  /** The slots' infra containers; undefined when pods always get their own endpoint. */
  readonly #infra: InfraContainers | undefined;
  readonly #onInfraError: DockerRuntimeOptions["onInfraError"];

  constructor({
    docker,
    instance,
    tcpBindIp = "0.0.0.0",
    firewall,
    quotas = {},
    infra = false,
    onInfraError,
  }: DockerRuntimeOptions) {
    this.#docker = docker;
    this.#instance = instance;
    this.#tcpBindIp = tcpBindIp;
    this.#firewall = firewall;
    this.#quotas = quotas;
    this.#infra = infra ? new InfraContainers(docker, instance) : undefined;
    this.#onInfraError = onInfraError;
    // Throws now, not on the first reconcile tick, when the address or tag is malformed.
    namePrefix(this.#instance);
  }

  /** Resolves when the engine answers. */
  async ping(): Promise<void> {
    await this.#docker.ping();
  }

  /** Engine version, platform and cgroup setup, for the attestation document. */
  async info(): Promise<RuntimeInfo> {
    const [version, info] = await Promise.all([this.#docker.version(), this.#docker.info()]);
    const cgroupVersion = (info as { CgroupVersion?: string }).CgroupVersion ?? "1";
    const cgroupDriver = (info as { CgroupDriver?: string }).CgroupDriver ?? "unknown";
    const components = (version as { Components?: { Name: string; Version: string }[] }).Components ?? [];
    const options: string[] = (info as { SecurityOptions?: string[] }).SecurityOptions ?? [];
    const option = (name: string) => options.find((o) => o.split(",").includes(`name=${name}`));
    const profile = (name: string) => {
      const found = option(name);
      if (found === undefined) return null;
      return /(?:^|,)profile=([^,]+)/.exec(found)?.[1] ?? "default";
    };
    return {
      version: version.Version,
      os: version.Os,
      arch: version.Arch,
      cgroup: `v${cgroupVersion} ${cgroupDriver}`,
      kernel: version.KernelVersion,
      runc: components.find((c) => c.Name === "runc")?.Version ?? null,
      storageDriver: info.Driver,
      backingFilesystem:
        ((info.DriverStatus ?? []) as [string, string][]).find(([key]) => key === "Backing Filesystem")?.[1] ?? null,
      dockerRootDir: info.DockerRootDir,
      security: {
        seccomp: profile("seccomp"),
        apparmor: profile("apparmor"),
        userns: option("userns") !== undefined,
        rootless: option("rootless") !== undefined,
      },
    };
  }

  /**
   * Every container of this instance, stopped and created ones included, from a single list call (no inspect per
   * container: this runs on every reconcile tick). `filter` narrows to one lease, or one spec of it.
   */
  async listContainers(filter: { leaseId?: bigint; specHash?: Hex } = {}): Promise<RuntimeContainer[]> {
    const infos = await this.#listRaw(filter);
    // A second list call only when some container sits in an infra container's namespace: its address is the infra's.
    const infras =
      this.#infra !== undefined && infos.some((info) => infraIdOf(info) !== undefined)
        ? await this.#infra.all()
        : new Map<string, InfraState>();
    return infos.flatMap((info) => {
      const container = toRuntimeContainer(info, infras);
      return container === undefined ? [] : [container];
    });
  }

  /**
   * Makes the plan's pod exist and run: the lease network, the volumes, and every container of every replica,
   * created when missing (adopted when another worker created it first), replaced when its configuration no longer
   * matches the plan, started when not running. Idempotent; other specs of the lease are left alone (see
   * {@link removeStaleSpecs}).
   *
   * @returns the containers of this spec.
   * @throws {Error} before creating anything when the plan is incomplete (missing image, secret directory, TCP port).
   */
  async ensurePod(plan: PodPlan): Promise<RuntimeContainer[]> {
    validatePlan(plan);
    await Promise.all(
      plan.manifest.volumes.map(async (volume) => {
        if (volume.type !== "secret") return;
        const dir = plan.secretDirs[volume.name] as string;
        const info = await stat(dir).catch(() => undefined);
        if (!info?.isDirectory()) throw new Error(`secret directory ${dir} of volume ${volume.name} does not exist`);
      }),
    );
    return this.#locks.run(leaseKey(plan.leaseId), async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.#ensurePodOnce(plan);
        } catch (error) {
          // A concurrent worker removed the network this one resolved (its duplicate of the lease's network, created
          // in the same instant): containers made on it cannot start. Resolve the network again and build the specs
          // anew; containers on the gone network differ in config and are replaced. Or it removed a container to
          // replace it: made again (or adopted, when the racer's is there by then).
          const raced = error instanceof PodRace || /network \S+ not found/.test((error as Error).message);
          if (attempt >= RACE_ATTEMPTS || !raced) throw error;
        }
      }
    });
  }

  async #ensurePodOnce(plan: PodPlan): Promise<RuntimeContainer[]> {
    const network = plan.network
      ? await this.ensureSlotNetwork(plan.network)
      : await this.#ensureNetwork(plan.leaseId, undefined);
    const leaseInfos = await this.#listRaw({ leaseId: plan.leaseId });
    const spec = plan.specHash.toLowerCase();
    const mine = leaseInfos.filter((info) => info.Labels[LABELS.spec] === spec);
    const infra = await this.#podInfra(plan, network, mine, leaseInfos);
    await this.#ensureVolumes(plan.leaseId, planVolumes(this.#instance, plan));
    const rootfsBytes: Record<string, number> = {};
    for (const container of plan.manifest.containers) {
      const bytes = await this.#rootfsQuota(plan.images[container.name] as string, container.resources.storageMiB);
      if (bytes !== undefined) rootfsBytes[container.name] = bytes;
    }
    const specs: ContainerSpec[] = [];
    for (let replica = 0; replica < plan.manifest.replicas; replica++) {
      for (const container of plan.manifest.containers) {
        specs.push(
          containerSpec(plan, container, replica, {
            instance: this.#instance,
            network,
            tcpBindIp: this.#tcpBindIp,
            rootfsBytes: rootfsBytes[container.name],
            infra: infra?.id,
          }),
        );
      }
    }
    const existing = new Map<string, Existing>();
    for (const info of mine) {
      const name = info.Names[0]?.replace(/^\//, "");
      // A container left running in the namespace of an infra container that was started again is cut off from its
      // network: made anew in the new namespace.
      if (infra?.started && infraIdOf(info) === infra.id && info.State === "running") {
        await this.#removeContainer(info.Id);
        continue;
      }
      if (name !== undefined)
        existing.set(name, { id: info.Id, state: info.State, config: info.Labels[LABELS.config] });
    }
    await mapLimit(specs, PARALLEL_CALLS, (spec) => this.#ensureContainer(spec, existing.get(spec.name)));
    // What is reported is what the engine has now: every container of the pod, or a concurrent worker removed one
    // since it was made (a fresh-clone run saw a racer report one container of two).
    const containers = await this.listContainers({ leaseId: plan.leaseId, specHash: plan.specHash });
    const missing = specs.filter((spec) => !containers.some((container) => container.name === spec.name));
    if (missing.length > 0) {
      throw new PodRace(
        `containers ${missing.map((spec) => spec.name).join(", ")} were removed while the pod was made`,
      );
    }
    return containers;
  }

  /**
   * The infra container the plan's pod joins, or undefined for a pod of its own endpoints. The choice is made once, when
   * the spec's first container is made, and kept while any of its containers exists (its configuration hash includes
   * it, so choosing otherwise later would replace a running pod): an eligible pod on a slot whose infra container
   * exists joins it, unless another spec of the lease already did (the two would share ports during an update). The
   * infra container is started again when it stopped, and made again when it is gone.
   */
  async #podInfra(
    plan: PodPlan,
    network: string,
    mine: Dockerode.ContainerInfo[],
    leaseInfos: Dockerode.ContainerInfo[],
  ): Promise<(InfraState & { started: boolean }) | undefined> {
    const infra = this.#infra;
    const slot = plan.network;
    if (infra === undefined || slot === undefined || !infraEligible(plan.manifest)) return undefined;
    if (mine.length > 0) {
      if (!mine.some((info) => infraIdOf(info) !== undefined)) return undefined;
    } else {
      if (leaseInfos.some((info) => infraIdOf(info) !== undefined)) return undefined;
      // Only a running one of ours: one that could not be made or started (reported by ensureSlotNetwork), or a name
      // someone else's container took, would hold the pod back. A running one needs nothing more.
      const found = await this.#locks.run(slotKey(slot.index), () => infra.find(slot.index)).catch(() => undefined);
      return found?.running ? { ...found, started: false } : undefined;
    }
    return this.#locks.run(slotKey(slot.index), () => infra.ensure(slot.index, network));
  }

  /** Force-removes containers (running or not) with their anonymous volumes; ids already gone are ignored. */
  async removeContainers(ids: string[]): Promise<void> {
    await mapLimit(ids, PARALLEL_CALLS, (id) => this.#removeContainer(id));
  }

  /**
   * Puts the firewall rules of every pod network of this instance back (after a reboot emptied the tables) and drops
   * the rules of subnets whose network is gone (removed while the worker was down).
   */
  async restoreFirewall(): Promise<void> {
    if (!this.#firewall) return;
    const networks = await this.#docker.listNetworks({
      filters: { label: labelFilter(instanceLabels(this.#instance)) },
    });
    await this.#firewall.sync(networks.flatMap((network) => network.IPAM?.Config?.[0]?.Subnet ?? []));
  }

  /**
   * Scale-to-zero: stops the lease's running containers of `specHash`, keeping them (and their network, volumes and
   * firewall rules) for {@link startPod}. Their processes get `stopTimeoutSec` after SIGTERM, then SIGKILL. The restart
   * policy (`unless-stopped`) leaves a stopped container stopped, across a dockerd restart too.
   */
  async stopPod(leaseId: bigint, specHash: Hex, stopTimeoutSec: number): Promise<void> {
    await this.#locks.run(leaseKey(leaseId), async () => {
      const running = (await this.#listRaw({ leaseId, specHash })).filter((info) => info.State !== "exited");
      await mapLimit(running, PARALLEL_CALLS, async (info) => {
        try {
          await this.#docker.getContainer(info.Id).stop({ t: stopTimeoutSec });
        } catch (error) {
          // 304: already stopped.
          if (dockerStatus(error) !== 304) throw new Error(`stopping container ${info.Id}: ${dockerMessage(error)}`);
        }
      });
    });
  }

  /**
   * Scale-to-zero: starts the lease's stopped containers of `specHash` again, all at once (they were made by
   * {@link ensurePod} and kept by {@link stopPod}).
   *
   * @returns the containers of this spec as they run now: Docker may give a container another address on its network,
   *   and a published port another host port, so routes must be built from this answer.
   * @throws when a container is missing or does not start.
   */
  async startPod(leaseId: bigint, specHash: Hex): Promise<RuntimeContainer[]> {
    return this.#locks.run(leaseKey(leaseId), async () => {
      const stopped = (await this.#listRaw({ leaseId, specHash })).filter((info) => info.State !== "running");
      // A pod's container cannot start in the namespace of a stopped infra container (after a dockerd restart).
      const infras = new Set(stopped.flatMap((info) => infraIdOf(info) ?? []));
      if (infras.size > 0 && this.#infra !== undefined) {
        const infra = this.#infra;
        await Promise.all([...infras].map((id) => infra.start(id)));
      }
      await Promise.all(
        stopped.map(async (info) => {
          try {
            await this.#docker.getContainer(info.Id).start();
          } catch (error) {
            if (dockerStatus(error) !== 304) {
              throw new Error(`starting container ${info.Names[0]?.replace(/^\//, "")}: ${dockerMessage(error)}`);
            }
          }
        }),
      );
      return this.listContainers({ leaseId, specHash });
    });
  }

  /**
   * Removes everything of a lease: its containers of every spec, its network (the one named by the lease, and the
   * slot network `slot` when given) and its volumes.
   */
  async removePod(leaseId: bigint, slot?: number): Promise<void> {
    await this.#locks.run(leaseKey(leaseId), async () => {
      const labels = leaseLabels(this.#instance, leaseId);
      await this.removeContainers((await this.#listRaw({ leaseId })).map((info) => info.Id));
      const networks = await this.#docker.listNetworks({ filters: { label: labelFilter(labels) } });
      await mapLimit(networks, PARALLEL_CALLS, (network) => this.#dropNetwork(network));
      if (slot !== undefined) await this.removeSlotNetwork(slot);
      const { Volumes: volumes } = await this.#docker.listVolumes({ filters: { label: labelFilter(labels) } });
      await mapLimit(volumes ?? [], PARALLEL_CALLS, (volume) => this.#removeVolume(volume.Name));
    });
  }

  /**
   * After an update: removes the lease's containers of every spec but `keepSpecHash`, and those specs' empty volumes.
   * Persistent volumes and the network stay.
   */
  async removeStaleSpecs(leaseId: bigint, keepSpecHash: Hex): Promise<void> {
    const keep = keepSpecHash.toLowerCase();
    await this.#locks.run(leaseKey(leaseId), async () => {
      const stale = (await this.#listRaw({ leaseId })).filter((info) => info.Labels[LABELS.spec] !== keep);
      await this.removeContainers(stale.map((info) => info.Id));
      const labels = { ...leaseLabels(this.#instance, leaseId), [LABELS.volumeType]: "empty" };
      const { Volumes: volumes } = await this.#docker.listVolumes({ filters: { label: labelFilter(labels) } });
      const staleVolumes = (volumes ?? []).filter((volume) => volume.Labels?.[LABELS.spec] !== keep);
      await mapLimit(staleVolumes, PARALLEL_CALLS, (volume) => this.#removeVolume(volume.Name));
    });
  }

  /**
   * Loads a `docker save` tarball holding exactly one image and tags it `tag`, so a restarted worker finds it with
   * {@link hasImage} instead of decrypting the blob again. Tags inside the tarball are ignored.
   *
   * @returns the image id (`sha256:...`).
   */
  loadImage(
    tar: NodeJS.ReadableStream | AsyncIterable<Uint8Array>,
    tag: string,
    maxBytes?: number,
    signal?: AbortSignal,
  ): Promise<string> {
    return loadImageTarball(this.#docker, tar, tag, maxBytes, signal);
  }

  /**
   * Removes images tagged `<repository>/*` that no container (of any provider on this engine) uses, except `keep`.
   * Docker refuses to remove an image a container still uses, which is what makes this safe to run any time.
   * @returns the tags removed.
   */
  async removeUnusedImages(
    repository: string,
    keep: ReadonlySet<string> = new Set(),
    /** When given, only these tags may be removed (a worker's own images on a shared engine). */
    only?: ReadonlySet<string>,
  ): Promise<string[]> {
    const images = await this.#docker.listImages({ filters: { reference: [`${repository}/*`] } });
    const used = new Set((await this.#docker.listContainers({ all: true })).map((c) => c.ImageID));
    const removed: string[] = [];
    for (const image of images) {
      if (used.has(image.Id)) continue;
      for (const tag of image.RepoTags ?? []) {
        if (keep.has(tag) || (only !== undefined && !only.has(tag))) continue;
        if (await this.#removeImage(tag)) removed.push(tag);
      }
    }
    return removed;
  }

  /** Removes an image by reference; false when a container still uses it (409) or it is gone (404). */
  async #removeImage(ref: string): Promise<boolean> {
    try {
      await this.#docker.getImage(ref).remove();
      return true;
    } catch (error) {
      if (dockerStatus(error) !== 404 && dockerStatus(error) !== 409) throw error;
      return false;
    }
  }

  /** The id of a local image (by id or tag), or undefined when the engine does not have it. */
  async hasImage(ref: string): Promise<string | undefined> {
    const image = await unless404(() => this.#docker.getImage(ref).inspect());
    return image?.Id;
  }

  /**
   * Removes registry images (by reference) that no container uses; the ones in use stay.
   * @returns the references removed.
   */
  async removeUnusedPulls(refs: readonly string[]): Promise<string[]> {
    if (refs.length === 0) return [];
    const used = new Set((await this.#docker.listContainers({ all: true })).map((c) => c.ImageID));
    const removed: string[] = [];
    for (const ref of refs) {
      const id = await this.hasImage(ref);
      if (id === undefined) {
        removed.push(ref);
        continue;
      }
      if (!used.has(id) && (await this.#removeImage(ref))) removed.push(ref);
    }
    return removed;
  }

  /**
   * Pulls a registry image pinned by digest (`name@sha256:<64 hex>`) unless it is already present. Only digests:
   * a tag can be moved under a running lease, a digest cannot. The pull is cut off once its layers' download sizes
   * add up past `maxBytes`, and an image that unpacks larger is removed again.
   *
   * @returns the image id (`sha256:...`).
   */
  async pullImage(ref: string, maxBytes: number = Number.MAX_SAFE_INTEGER, signal?: AbortSignal): Promise<string> {
    if (!/^[^@\s]+@sha256:[0-9a-f]{64}$/.test(ref)) throw new Error(`refusing to pull ${ref}: not pinned by digest`);
    const present = await this.hasImage(ref);
    if (present !== undefined) return present;
    let output: NodeJS.ReadableStream;
    try {
      // The image job's deadline cancels the request (and with it the pull on the daemon).
      output = await this.#docker.pull(ref, signal ? { abortSignal: signal } : {});
    } catch (error) {
      throw new Error(`pulling ${ref}: ${dockerMessage(error)}`);
    }
    const layers = new Map<string, number>();
    try {
      for await (const message of jsonLines(output)) {
        if (message.error !== undefined || message.errorDetail !== undefined) {
          throw new Error(`pulling ${ref}: ${message.errorDetail?.message ?? message.error}`);
        }
        const total = (message as { progressDetail?: { total?: number }; id?: string }).progressDetail?.total;
        const layer = (message as { id?: string }).id;
        if (layer !== undefined && typeof total === "number") layers.set(layer, total);
        const sum = [...layers.values()].reduce((a, b) => a + b, 0);
        if (sum > maxBytes) throw new Error(`pulling ${ref}: larger than ${maxBytes} bytes, what this lease may use`);
      }
    } finally {
      // Closing the stream cancels a pull still running on the daemon.
      (output as { destroy?: () => void }).destroy?.();
    }
    const id = await this.hasImage(ref);
    if (id === undefined) throw new Error(`pulling ${ref}: the engine reported success but has no such image`);
    const { Size } = await this.#docker.getImage(id).inspect();
    if (Size > maxBytes) {
      await this.#docker
        .getImage(ref)
        .remove()
        .catch(() => undefined);
      throw new Error(`pulling ${ref}: unpacks to ${Size} bytes, more than the ${maxBytes} this lease may use`);
    }
    return id;
  }

  /** Resource usage of a container over about a second (Docker samples twice for the CPU figure). */
  async stats(containerId: string): Promise<ContainerStats> {
    const raw = await this.#docker.getContainer(containerId).stats({ stream: false });
    return containerUsage(raw as unknown as RawStats);
  }

  /**
   * One stats reading of a container without Docker's second sample (`one-shot`; engines that still wait about a
   * second for it, as the one `npm run bench:usage` measured, answer as fast as {@link stats}). Its CPU figure is the cumulative `cpuNanos` (`cpuPercent` means nothing here):
   * a rate comes from two readings (the admin API's usage sampler).
   */
  async sampleStats(containerId: string): Promise<ContainerStats> {
    const raw = await this.#docker.getContainer(containerId).stats({ stream: false, "one-shot": true } as never);
    return containerUsage(raw as unknown as RawStats);
  }

  /**
   * A container's stdout and stderr records. Without `follow` it ends after the records written so far; with it,
   * it keeps yielding until `signal` aborts (then it simply ends) or the container stops or is removed.
   */
  async *logs(containerId: string, options: LogOptions = {}): AsyncGenerator<LogRecord> {
    const { tail, follow = false, since, timestamps = false, signal } = options;
    if (signal?.aborted) return;
    const query = {
      stdout: true,
      stderr: true,
      timestamps,
      ...(tail !== undefined ? { tail } : {}),
      ...(since !== undefined ? { since } : {}),
    };
    const container = this.#docker.getContainer(containerId);
    if (!follow) {
      const body = await container.logs({ ...query, follow: false, ...(signal ? { abortSignal: signal } : {}) });
      yield* demuxLogs(Readable.from([body]));
      return;
    }
    const stream = await container.logs({ ...query, follow: true, ...(signal ? { abortSignal: signal } : {}) });
    try {
      yield* demuxLogs(stream as AsyncIterable<Uint8Array>);
    } catch (error) {
      if (signal?.aborted) return;
      throw error;
    } finally {
      // Also reached when the consumer stops iterating early: close the HTTP stream instead of leaking it.
      (stream as { destroy?: () => void }).destroy?.();
    }
  }

  /** Docker's full inspect of a container. */
  inspect(containerId: string): Promise<Dockerode.ContainerInspectInfo> {
    return this.#docker.getContainer(containerId).inspect();
  }

  async #listRaw(filter: { leaseId?: bigint; specHash?: Hex }): Promise<Dockerode.ContainerInfo[]> {
    const labels =
      filter.leaseId === undefined ? instanceLabels(this.#instance) : leaseLabels(this.#instance, filter.leaseId);
    if (filter.specHash !== undefined) labels[LABELS.spec] = filter.specHash.toLowerCase();
    return this.#docker.listContainers({ all: true, filters: { label: labelFilter(labels) } });
  }

  /**
   * Creates the lease's network ahead of its pod (idempotent): done when a lease starts, it takes network creation
   * off the path from manifest to serving pod. A network named by the lease, on Docker's default pools unless
   * `subnet` is given; the worker's reconciler uses {@link ensureSlotNetwork}.
   */
  async ensureNetwork(leaseId: bigint, subnet?: string): Promise<string> {
    return this.#locks.run(leaseKey(leaseId), () => this.#ensureNetwork(leaseId, subnet));
  }

  /**
   * Creates the pod network of a slot of the worker's subnet pool (idempotent), with its firewall rules: for a lease
   * that holds the slot, or ahead of any lease (a warm network, handed to the next lease so its pod need not wait for
   * a bridge to be made).
   */
  ensureSlotNetwork(slot: { index: number; subnet: string }, { infra = false } = {}): Promise<string> {
    return this.#locks.run(slotKey(slot.index), async () => {
      const network = await this.#createNetwork(
        slotNetworkName(this.#instance, slot.index),
        slotLabels(this.#instance, slot.index),
        slot.subnet,
      );
      // `infra`: also the slot's infra container, started (made ahead like the network, off the pod's path).
      if (infra && this.#infra !== undefined) {
        try {
          await this.#infra.ensure(slot.index, network);
        } catch (error) {
          this.#onInfraError?.(slot.index, error as Error);
        }
      }
      return network;
    });
  }

  /**
   * Removes a slot's pod network, its infra container and its firewall rules (a warm network given up, or one left by
   * a crash).
   */
  async removeSlotNetwork(index: number): Promise<void> {
    await this.#locks.run(slotKey(index), async () => {
      // Whether or not this worker makes infra containers now: one made before a restart with other settings goes too.
      await new InfraContainers(this.#docker, this.#instance).remove(index);
      const networks = await this.#findNetworks(
        slotNetworkName(this.#instance, index),
        slotLabels(this.#instance, index),
      );
      for (const network of networks) await this.#dropNetwork(network);
    });
  }

  /** The slot networks of this instance: index, id and subnet of each (warm ones and those of leases). */
  async slotNetworks(): Promise<{ index: number; id: string; subnet: string | undefined }[]> {
    const networks = await this.#docker.listNetworks({
      filters: { label: labelFilter(instanceLabels(this.#instance)) },
    });
    return networks.flatMap((network) => {
      const index = Number(network.Labels?.[LABELS.slot]);
      if (!Number.isSafeInteger(index) || network.Name !== slotNetworkName(this.#instance, index)) return [];
      return [{ index, id: network.Id, subnet: network.IPAM?.Config?.[0]?.Subnet }];
    });
  }

  /** The lease-named network's id, created when missing. */
  async #ensureNetwork(leaseId: bigint, subnet?: string): Promise<string> {
    return this.#createNetwork(networkName(this.#instance, leaseId), leaseLabels(this.#instance, leaseId), subnet);
  }

  /** Networks of exactly `name` carrying `labels`, oldest first. */
  async #findNetworks(name: string, labels: Record<string, string>): Promise<Dockerode.NetworkInspectInfo[]> {
    return (
      (await this.#docker.listNetworks({ filters: { name: [name], label: labelFilter(labels) } }))
        // The name filter matches substrings: `-l1` would also find `-l12`.
        .filter((network) => network.Name === name)
        .sort((a, b) => (a.Created < b.Created ? -1 : a.Created > b.Created ? 1 : a.Id < b.Id ? -1 : 1))
    );
  }

  /**
   * The network's id, created when missing, with its firewall rules. Docker does not guarantee unique network names
   * (two concurrent creates can both succeed), so when several exist every worker picks the same one, the oldest, and
   * drops the rest.
   */
  async #createNetwork(name: string, labels: Record<string, string>, subnet?: string): Promise<string> {
    let networks = await this.#findNetworks(name, labels);
    if (networks.length === 0) {
      try {
        await this.#docker.createNetwork({
          Name: name,
          CheckDuplicate: true,
          Driver: "bridge",
          Internal: false,
          Attachable: false,
          EnableIPv6: false,
          Labels: labels,
          ...(subnet ? { IPAM: { Driver: "default", Config: [{ Subnet: subnet }] } } : {}),
        });
      } catch (error) {
        if (dockerStatus(error) !== 409) throw new Error(`creating network ${name}: ${dockerMessage(error)}`);
      }
      networks = await this.#findNetworks(name, labels);
    }
    const [network, ...duplicates] = networks;
    if (network === undefined) {
      throw new Error(`network ${name} exists but was not created by this worker (labels differ); remove it by hand`);
    }
    const used = network.IPAM?.Config?.[0]?.Subnet;
    if (this.#firewall) {
      if (!used) throw new Error(`network ${name}: no subnet to firewall`);
      await this.#firewall.addSubnet(used);
    }
    for (const duplicate of duplicates)
      await this.#docker
        .getNetwork(duplicate.Id)
        .remove()
        .catch(() => undefined);
    return network.Id;
  }

  /** Removes a network and then its subnet's firewall rules (never the other way round: pods must stay walled). */
  async #dropNetwork(network: Dockerode.NetworkInspectInfo): Promise<void> {
    await this.#removeNetwork(network.Id);
    const subnet = network.IPAM?.Config?.[0]?.Subnet;
    if (subnet && this.#firewall) await this.#firewall.removeSubnet(subnet);
  }

  /** Creates the volumes (Docker returns an existing volume unchanged) and checks they all carry our labels. */
  async #ensureVolumes(leaseId: bigint, volumes: VolumeSpec[]): Promise<void> {
    if (volumes.length === 0) return;
    await mapLimit(volumes, PARALLEL_CALLS, (volume) =>
      this.#docker.createVolume({ Name: volume.name, Driver: "local", Labels: volume.labels }),
    );
    // A volume of the same name created by someone else would be returned as is: refuse to mount it.
    const { Volumes: ours } = await this.#docker.listVolumes({
      filters: { label: labelFilter(leaseLabels(this.#instance, leaseId)) },
    });
    const names = new Set((ours ?? []).map((volume) => volume.Name));
    const foreign = volumes.filter((volume) => !names.has(volume.name)).map((volume) => volume.name);
    if (foreign.length > 0) throw new Error(`volumes ${foreign.join(", ")} exist but were not created by this worker`);
    if (!this.#quotas.volumes) return;
    await mapLimit(volumes, PARALLEL_CALLS, async (volume) => {
      const { Mountpoint } = await this.#docker.getVolume(volume.name).inspect();
      await limitVolume(Mountpoint, volume.sizeMiB);
    });
  }

  /**
   * The `--storage-opt size=` of a container's root file system, or undefined without root file system quotas. btrfs
   * counts the image's own bytes in the limit, overlay2 only what the container writes; a little room is added either
   * way for the file system's metadata and the files Docker itself puts there.
   */
  async #rootfsQuota(image: string, storageMiB: number): Promise<number | undefined> {
    if (this.#quotas.rootfs === undefined) return undefined;
    const slack = 2 * 1024 * 1024;
    const paid = storageMiB * 1024 * 1024;
    if (this.#quotas.rootfs === "overlay2") return paid + slack;
    let size = this.#imageSizes.get(image);
    if (size === undefined) {
      const info = await this.#docker.getImage(image).inspect();
      size = info.Size;
      this.#imageSizes.set(image, size);
    }
    return size + paid + slack;
  }

  /**
   * Brings one container to running: adopt or create, replace on config drift, start. Races with a concurrent worker
   * on the same pod are retried from the top (a bounded number of times): a start that finds the pod network
   * ambiguous (Docker resolves networks by name at start, and a duplicate created in the same instant is still being
   * removed), or a container another worker is removing.
   */
  async #ensureContainer(spec: ContainerSpec, found: Existing | undefined): Promise<void> {
    let current = found;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#bringUp(spec, current);
        return;
      } catch (error) {
        const message = (error as Error).message;
        if (attempt >= 5 || !/ambiguous|marked for removal|No such container|is not running/.test(message)) throw error;
        if (/ambiguous/.test(message)) await this.#ensureNetwork(BigInt(spec.Labels?.[LABELS.lease] ?? "0"));
        await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
        current = undefined;
      }
    }
  }

  async #bringUp(spec: ContainerSpec, found: Existing | undefined): Promise<void> {
    const wanted = spec.Labels?.[LABELS.config];
    let current = found;
    if (current !== undefined && (current.config !== wanted || current.state === "dead")) {
      await this.#removeContainer(current.id);
      current = undefined;
    }
    current ??= await this.#createOrAdopt(spec);
    if (current.config !== wanted || current.state === "dead") {
      // Adopted a container another process created from a different plan: ours is the current one.
      await this.#removeContainer(current.id);
      current = await this.#createOrAdopt(spec);
    }
    const container = this.#docker.getContainer(current.id);
    try {
      if (current.state === "paused") await container.unpause();
      // A restarting container is Docker's restart policy at work; starting it would only race with it.
      else if (current.state !== "running" && current.state !== "restarting") await container.start();
    } catch (error) {
      // 304: already started, e.g. by a concurrent worker between our list and this call.
      if (dockerStatus(error) !== 304) throw new Error(`starting container ${spec.name}: ${dockerMessage(error)}`);
    }
  }

  async #createOrAdopt(spec: ContainerSpec): Promise<Existing> {
    try {
      const created = await this.#docker.createContainer(spec);
      return { id: created.id, state: "created", config: spec.Labels?.[LABELS.config] };
    } catch (error) {
      if (dockerStatus(error) !== 409) throw new Error(`creating container ${spec.name}: ${dockerMessage(error)}`);
    }
    // 409: the name is taken. Adopt it if it is the same pod container, created by us or a concurrent worker.
    const info = await this.#docker.getContainer(spec.name).inspect();
    const labels = info.Config.Labels ?? {};
    const expected = spec.Labels ?? {};
    for (const key of POD_CONTAINER_KEYS) {
      if (labels[key] !== expected[key]) {
        throw new Error(`container name ${spec.name} is taken by a container this worker did not create`);
      }
    }
    return { id: info.Id, state: info.State.Status, config: labels[LABELS.config] };
  }

  async #removeContainer(id: string): Promise<void> {
    try {
      // v: also the anonymous volumes Docker made for the image's VOLUME paths, which carry no labels of ours.
      await this.#docker.getContainer(id).remove({ force: true, v: true });
    } catch (error) {
      const status = dockerStatus(error);
      // 404: already gone. 409: a removal is already in progress.
      if (status !== 404 && status !== 409) throw new Error(`removing container ${id}: ${dockerMessage(error)}`);
    }
  }

  async #removeNetwork(id: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#docker.getNetwork(id).remove();
        return;
      } catch (error) {
        const status = dockerStatus(error);
        if (status === 404) return;
        // Endpoints of containers removed a moment ago can take a little while to be released.
        if (attempt >= NETWORK_REMOVE_ATTEMPTS) throw new Error(`removing network ${id}: ${dockerMessage(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  async #removeVolume(name: string): Promise<void> {
    try {
      await this.#docker.getVolume(name).remove();
    } catch (error) {
      if (dockerStatus(error) !== 404) throw new Error(`removing volume ${name}: ${dockerMessage(error)}`);
    }
  }
}

/** The lock of a pod-network slot: its warm creation and a lease's use of it never race. */
function slotKey(index: number): string {
  return `slot:${index}`;
}

function leaseKey(leaseId: bigint): string {
  return leaseId.toString();
}

/** A list entry as a {@link RuntimeContainer}, or undefined when its labels are not a complete set of ours. */
function toRuntimeContainer(
  info: Dockerode.ContainerInfo,
  infras: ReadonlyMap<string, InfraState>,
): RuntimeContainer | undefined {
  const pod = parseContainerLabels(info.Labels);
  if (pod === undefined) return undefined;
  const httpWanted = parsePortList(info.Labels[LABELS.httpPorts]);
  const tcpWanted = new Map(
    (info.Labels[LABELS.tcpPorts] ?? "")
      .split(",")
      .filter((pair) => pair !== "")
      .map((pair) => pair.split(":").map(Number) as [number, number]),
  );
  const httpPorts: Record<number, number> = {};
  const tcpPorts: Record<number, number> = {};
  for (const port of info.Ports ?? []) {
    if (port.Type !== "tcp" || !port.PublicPort) continue;
    // A port exposed both ways has two bindings; the TCP one is the host port the plan asked for.
    if (tcpWanted.get(port.PrivatePort) === port.PublicPort) tcpPorts[port.PrivatePort] = port.PublicPort;
    else if (httpWanted.has(port.PrivatePort) && port.IP === "127.0.0.1") httpPorts[port.PrivatePort] = port.PublicPort;
  }
  const infraId = infraIdOf(info);
  const infra = infraId === undefined ? undefined : infras.get(infraId);
  const address =
    info.State !== "running"
      ? undefined
      : infraId !== undefined
        ? infra?.address
        : Object.values(info.NetworkSettings?.Networks ?? {})
            .map((network) => network.IPAddress)
            .find((ip) => ip !== undefined && ip !== "");
  return {
    id: info.Id,
    name: info.Names[0]?.replace(/^\//, "") ?? info.Id,
    ...pod,
    state: infraId !== undefined && info.State === "running" && !infra?.running ? "detached" : info.State,
    httpPorts,
    httpContainerPorts: [...httpWanted],
    ...(address ? { address } : {}),
    tcpPorts,
    image: info.ImageID,
    createdAt: info.Created,
  };
}

/** The id of the infra container whose network namespace the container joined, if it did. */
function infraIdOf(info: Dockerode.ContainerInfo): string | undefined {
  const mode = info.HostConfig?.NetworkMode ?? "";
  return mode.startsWith("container:") ? mode.slice("container:".length) : undefined;
}

function parsePortList(value: string | undefined): Set<number> {
  return new Set(
    (value ?? "")
      .split(",")
      .filter((port) => port !== "")
      .map(Number),
  );
}
