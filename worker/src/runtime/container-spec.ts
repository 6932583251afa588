/**
 * How a pod plan becomes Docker objects: the volumes it needs and the create options of each container.
 *
 * The sandbox lives here and is not configurable by the publisher: no capabilities, no privilege escalation, no host
 * namespaces, no devices, no host paths except the worker's own read-only secret directories, hard CPU, memory (no
 * swap) and process limits. Everything is a pure function of the plan so the options can be hashed: a container whose
 * hash differs from its plan's is replaced rather than adopted.
 */
import { createHash } from "node:crypto";
import type { PodContainer, PodManifest } from "@podnet/sdk/protocol";
import type Dockerode from "dockerode";
import type { Hex } from "viem";
import {
  containerLabels,
  containerName,
  emptyVolumeName,
  LABELS,
  leaseLabels,
  type PodRef,
  persistentVolumeName,
  type WorkerInstance,
} from "./names.js";

/** Everything the runtime needs to run one spec of a lease; prepared by the caller. */
export interface PodPlan {
  leaseId: bigint;
  specHash: Hex;
  manifest: PodManifest;
  /** Container name → local image id (`sha256:...`) or local tag. Ids are safest: a tag can be moved. */
  images: Record<string, string>;
  /** Secret volume name → host directory (on tmpfs) holding its decrypted files; mounted read-only. */
  secretDirs: Record<string, string>;
  /** `${container}:${port}:${replica}` → host port of each TCP expose, allocated by the caller. */
  tcpHostPorts: Record<string, number>;
  /**
   * The pod network's slot in the caller's own subnet pool (its index names the network, which may already exist
   * warm), and its subnet (CIDR). Docker's default pools hold only ~30 bridge networks, so a provider with one network
   * per lease needs its own addressing. Omitted: a network named by the lease, on Docker's default pools.
   */
  network?: { index: number; subnet: string };
}

/** A Docker volume the plan needs. */
export interface VolumeSpec {
  name: string;
  labels: Record<string, string>;
  /** The manifest's size limit. */
  sizeMiB: number;
}

/** Docker's HostConfig plus the fields @types/dockerode lacks. */
export type HostConfig = Dockerode.HostConfig & { CgroupnsMode?: "private" | "host" };
/** Create options of one container, with the name and the (extended) HostConfig always present. */
export type ContainerSpec = Dockerode.ContainerCreateOptions & { name: string; HostConfig: HostConfig };

const MIB = 1024 * 1024;
/** Seconds Docker waits after SIGTERM before SIGKILL: pods are stopped on lease end and updates, not drained. */
export const STOP_TIMEOUT_SECONDS = 5;
/**
 * Raises pods' OOM score so that, should the host itself run out of memory, the kernel kills a pod process rather
 * than dockerd or the worker (each pod is already capped by its own memory limit).
 */
export const POD_OOM_SCORE_ADJ = 500;
/** Open files per container when the manifest sets no `ulimits.nofile`. */
export const DEFAULT_NOFILE = 4096;

/** The key of a TCP expose in {@link PodPlan.tcpHostPorts}. */
export function tcpPortKey(container: string, port: number, replica: number): string {
  return `${container}:${port}:${replica}`;
}

/**
 * Checks that the plan is complete before anything is created: an image for every container, a directory for every
 * secret volume, a distinct valid host port for every TCP expose of every replica.
 *
 * @throws {Error} naming every missing or bad piece.
 */
export function validatePlan(plan: PodPlan): void {
  const problems: string[] = [];
  const { manifest } = plan;
  for (const container of manifest.containers) {
    const image = plan.images[container.name];
    if (image === undefined || image === "") problems.push(`no local image for container ${container.name}`);
  }
  for (const volume of manifest.volumes) {
    if (volume.type !== "secret") continue;
    const dir = plan.secretDirs[volume.name];
    if (dir === undefined || !dir.startsWith("/")) problems.push(`no host directory for secret volume ${volume.name}`);
  }
  const hostPorts = new Map<number, string>();
  for (let replica = 0; replica < manifest.replicas; replica++) {
    for (const expose of manifest.expose.tcp) {
      const key = tcpPortKey(expose.container, expose.port, replica);
      const hostPort = plan.tcpHostPorts[key];
      if (hostPort === undefined || !Number.isInteger(hostPort) || hostPort < 1 || hostPort > 65535) {
        problems.push(`no valid host port for TCP expose ${key}`);
      } else if (hostPorts.has(hostPort)) {
        problems.push(`host port ${hostPort} given to both ${hostPorts.get(hostPort)} and ${key}`);
      } else {
        hostPorts.set(hostPort, key);
      }
    }
  }
  if (problems.length > 0) throw new Error(`pod plan of lease ${plan.leaseId} is incomplete: ${problems.join("; ")}`);
}

/** The empty and persistent volumes of every replica (secret volumes are host directories, not Docker volumes). */
export function planVolumes(instance: WorkerInstance, plan: PodPlan): VolumeSpec[] {
  const volumes: VolumeSpec[] = [];
  const pod: PodRef = plan;
  for (let replica = 0; replica < plan.manifest.replicas; replica++) {
    for (const volume of plan.manifest.volumes) {
      const labels = {
        ...leaseLabels(instance, plan.leaseId),
        [LABELS.volume]: volume.name,
        [LABELS.volumeType]: volume.type,
        [LABELS.replica]: String(replica),
      };
      if (volume.type === "persistent") {
        volumes.push({
          name: persistentVolumeName(instance, plan.leaseId, volume.name, replica),
          labels,
          sizeMiB: volume.sizeMiB,
        });
      } else if (volume.type === "empty") {
        volumes.push({
          name: emptyVolumeName(instance, pod, volume.name, replica),
          labels: { ...labels, [LABELS.spec]: plan.specHash.toLowerCase() },
          sizeMiB: volume.sizeMiB,
        });
      }
    }
  }
  return volumes;
}

/**
 * Whether the pod may join a slot's infra container (docker-runtime.ts) instead of getting its own endpoint: it has
 * exactly one container instance, so no sibling needs its network aliases (which belong to the endpoint, made before
 * the manifest names anything), and no raw TCP expose, whose fixed host port would have to be published by the infra
 * container when it is made.
 */
export function infraEligible(manifest: PodManifest): boolean {
  return manifest.replicas === 1 && manifest.containers.length === 1 && manifest.expose.tcp.length === 0;
}

/** Options of {@link containerSpec}. */
export interface ContainerSpecOptions {
  /** Whose container it is: scopes its name and labels. */
  instance: WorkerInstance;
  /** Id or name of the lease's network. */
  network: string;
  /** Host address TCP exposes are published on. */
  tcpBindIp: string;
  /** The root file system's size limit (`--storage-opt size=`); undefined where the engine cannot enforce one. */
  rootfsBytes?: number | undefined;
  /**
   * Id of the infra container whose network namespace the container joins (see {@link infraEligible}); `network` is
   * then only the infra's. The container has no endpoint of its own: no hostname, aliases or published ports.
   */
  infra?: string | undefined;
}

/** The Docker create options of one replica of one container of the plan. */
export function containerSpec(
  plan: PodPlan,
  container: PodContainer,
  replica: number,
  { instance, network, tcpBindIp, rootfsBytes, infra }: ContainerSpecOptions,
): ContainerSpec {
  const { manifest } = plan;
  const image = plan.images[container.name];
  if (image === undefined) throw new Error(`no local image for container ${container.name}`);

  const mounts: Dockerode.MountSettings[] = container.mounts.map((mount) => {
    const volume = manifest.volumes.find((v) => v.name === mount.volume);
    if (volume === undefined) throw new Error(`container ${container.name} mounts unknown volume ${mount.volume}`);
    if (volume.type === "secret") {
      const dir = plan.secretDirs[volume.name];
      if (dir === undefined) throw new Error(`no host directory for secret volume ${volume.name}`);
      // Read-only whatever the manifest says: secrets are the worker's files, not the pod's.
      return { Type: "bind", Source: dir, Target: mount.path, ReadOnly: true };
    }
    const name =
      volume.type === "persistent"
        ? persistentVolumeName(instance, plan.leaseId, volume.name, replica)
        : emptyVolumeName(instance, plan, volume.name, replica);
    return { Type: "volume", Source: name, Target: mount.path, ReadOnly: mount.readOnly };
  });

  const exposedPorts: Record<string, Record<string, never>> = {};
  const portBindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  const bind = (port: number, binding: { HostIp: string; HostPort: string }) => {
    const key = `${port}/tcp`;
    exposedPorts[key] = {};
    portBindings[key] = [...(portBindings[key] ?? []), binding];
  };
  const httpPorts: number[] = [];
  for (const expose of manifest.expose.http) {
    if (expose.container !== container.name || httpPorts.includes(expose.port)) continue;
    httpPorts.push(expose.port);
    // Loopback only: HTTP reaches pods through the provider's ingress. Docker picks the host port.
    bind(expose.port, { HostIp: "127.0.0.1", HostPort: "" });
  }
  const tcpPorts: string[] = [];
  for (const expose of manifest.expose.tcp) {
    if (expose.container !== container.name) continue;
    const hostPort = plan.tcpHostPorts[tcpPortKey(container.name, expose.port, replica)];
    if (hostPort === undefined) throw new Error(`no host port for TCP expose ${container.name}:${expose.port}`);
    tcpPorts.push(`${expose.port}:${hostPort}`);
    bind(expose.port, { HostIp: tcpBindIp, HostPort: String(hostPort) });
  }

  const labels: Record<string, string> = {
    ...containerLabels(instance, plan, container.name, replica),
    [LABELS.httpPorts]: httpPorts.join(","),
    [LABELS.tcpPorts]: tcpPorts.join(","),
  };
  const name = containerName(instance, plan, container.name, replica);
  const memory = container.resources.memoryMiB * MIB;

  const spec: ContainerSpec = {
    name,
    Image: image,
    // Docker refuses a hostname of its own in another container's namespaces: it is the infra container's.
    ...(infra === undefined ? { Hostname: container.name } : {}),
    // Plain configuration only; secrets never travel through the environment (docker inspect would show them).
    Env: Object.entries(container.env)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => `${key}=${value}`),
    ...(container.command !== undefined ? { Entrypoint: container.command } : {}),
    ...(container.args !== undefined ? { Cmd: container.args } : {}),
    Labels: labels,
    // In an infra container's namespace, the ingress reaches the port at the infra's address; nothing is published.
    ExposedPorts: infra === undefined ? exposedPorts : {},
    StopTimeout: STOP_TIMEOUT_SECONDS,
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    HostConfig: {
      NanoCpus: container.resources.cpuMillis * 1_000_000,
      Memory: memory,
      // Equal to Memory: no swap on top of the paid-for memory.
      MemorySwap: memory,
      PidsLimit: container.resources.pids,
      // Open files: the manifest's figure, else a default well below the host's, so no pod exhausts the file table.
      Ulimits: [
        {
          Name: "nofile",
          Soft: container.ulimits?.nofile ?? DEFAULT_NOFILE,
          Hard: container.ulimits?.nofile ?? DEFAULT_NOFILE,
        },
      ],
      ...(rootfsBytes !== undefined ? { StorageOpt: { size: String(rootfsBytes) } } : {}),
      CapDrop: ["ALL"],
      CapAdd: [],
      Privileged: false,
      SecurityOpt: ["no-new-privileges"],
      NetworkMode: infra === undefined ? network : `container:${infra}`,
      PortBindings: infra === undefined ? portBindings : {},
      PublishAllPorts: false,
      // Brings pods back after a dockerd or host restart without waiting for the worker.
      RestartPolicy: { Name: "unless-stopped" },
      LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } },
      Init: false,
      ReadonlyRootfs: container.readOnlyRootfs ?? false,
      Devices: [],
      DeviceCgroupRules: [],
      IpcMode: "private",
      PidMode: "",
      UTSMode: "",
      UsernsMode: "",
      // The container sees its own cgroup tree only, not the host's hierarchy.
      CgroupnsMode: "private",
      OomScoreAdj: POD_OOM_SCORE_ADJ,
      Binds: [],
      Mounts: mounts,
      AutoRemove: false,
    },
    ...(infra === undefined
      ? {
          NetworkingConfig: {
            EndpointsConfig: {
              // Pod containers find each other by manifest name (`web`), or one replica as `web-1`.
              [network]: { Aliases: [container.name, `${container.name}-${replica}`] },
            },
          },
        }
      : {}),
  };
  labels[LABELS.config] = specHashOf(spec);
  return spec;
}

/** A short hash of the create options (minus the hash label itself), stored as a label to detect drift. */
export function specHashOf(spec: ContainerSpec): string {
  const { [LABELS.config]: _ignored, ...labels } = spec.Labels ?? {};
  return createHash("sha256")
    .update(JSON.stringify({ ...spec, Labels: labels }))
    .digest("hex")
    .slice(0, 16);
}
