/**
 * Infra containers: a pod's network namespace made ahead of the pod (the Kubernetes "pause" pattern).
 *
 * Starting a container on a bridge network costs Docker about as much as a whole `docker run` (a network namespace,
 * a veth pair, iptables rules), and that was the largest step left between a lease and its serving pod
 * (docs/worker-benchmarks.md, "Infra containers"). A container started into the network namespace of one that already
 * runs skips all of it: 129 ms to the first 200 against 342 ms on the lease network (the docker-run floor: 308 ms),
 * with the pod's hardening, on this machine (`npx tsx script/bench/bench-netns.ts`).
 *
 * So every warm slot network (warm-networks.ts) also gets an infra container: the pause program (pause-image.ts),
 * started on that network, hardened like a pod and smaller than any, named by the slot. A single-container pod that
 * lands on the slot joins its namespace (`NetworkMode: container:<id>`); the ingress routes to the infra's address.
 * It is removed with its slot's network.
 *
 * Its restart policy is `no`, on purpose: an infra container that Docker restarted would come back with a new
 * namespace while the pod's process stayed in the old, dead one. Stopped, it stays stopped, the pod's listing shows
 * the pod `detached`, and the worker's reconcile starts the infra again and recreates the pod's container in it.
 */
import type Dockerode from "dockerode";
import type { ContainerSpec } from "./container-spec.js";
import { dockerMessage, dockerStatus, unless404 } from "./docker-util.js";
import { infraContainerName, infraLabels, instanceLabels, LABELS, labelFilter, type WorkerInstance } from "./names.js";
import { ensurePauseImage, PAUSE_PATH } from "./pause-image.js";

const MIB = 1024 * 1024;

/** An infra container as Docker reports it. */
export interface InfraState {
  id: string;
  running: boolean;
  /** Its address on the slot network, while it runs. */
  address?: string;
}

/** The infra containers of one worker instance. Callers hold the slot's lock around every call naming a slot. */
export class InfraContainers {
  readonly #docker: Dockerode;
  readonly #instance: WorkerInstance;
  /** The pause image's tag once imported (undefined: none for this architecture). Retried after a failure. */
  #image: Promise<string | undefined> | undefined;

  constructor(docker: Dockerode, instance: WorkerInstance) {
    this.#docker = docker;
    this.#instance = instance;
  }

  /** The pause image's tag, imported on first use; undefined on an architecture without a pause program. */
  image(): Promise<string | undefined> {
    this.#image ??= ensurePauseImage(this.#docker).catch((error: unknown) => {
      this.#image = undefined;
      throw error;
    });
    return this.#image;
  }

  /** The slot's infra container, or undefined when there is none. */
  async find(index: number): Promise<InfraState | undefined> {
    const info = await unless404(() => this.#docker.getContainer(infraContainerName(this.#instance, index)).inspect());
    if (info === undefined) return undefined;
    if (!this.#ours(info.Config.Labels ?? {}, index)) {
      throw new Error(
        `container name ${infraContainerName(this.#instance, index)} is taken by a container this worker did not create`,
      );
    }
    const address = Object.values(info.NetworkSettings.Networks ?? {})[0]?.IPAddress;
    return { id: info.Id, running: info.State.Running, ...(address ? { address } : {}) };
  }

  /**
   * Makes the slot's infra container exist and run on `network` (idempotent).
   * @returns it, with `started` true when it was not running before (made now, or started again: whatever ran in its
   *   old namespace is cut off), or undefined when this engine has no pause image.
   */
  async ensure(index: number, network: string): Promise<(InfraState & { started: boolean }) | undefined> {
    const image = await this.image();
    if (image === undefined) return undefined;
    // Twice at most: Docker may be unable to start one again (after a dockerd restart containerd can still hold its
    // old task, "task ... already exists", for good). It is then removed and made anew; the pods in the old one's
    // namespace are made anew by the caller (their configuration names the infra container), as they had to be anyway.
    for (let attempt = 1; ; attempt++) {
      let found = await this.find(index);
      if (found === undefined) {
        try {
          await this.#docker.createContainer(this.#spec(index, network, image));
        } catch (error) {
          // 409: a concurrent worker made it in the same instant; find it below.
          if (dockerStatus(error) !== 409) {
            throw new Error(`creating the infra container of slot ${index}: ${dockerMessage(error)}`);
          }
        }
        found = await this.find(index);
        if (found === undefined) throw new Error(`the infra container of slot ${index} vanished after its creation`);
      }
      if (found.running) return { ...found, started: false };
      try {
        await this.start(found.id);
        break;
      } catch (error) {
        if (attempt >= 2) throw error;
        await this.#docker
          .getContainer(found.id)
          .remove({ force: true })
          .catch(() => undefined);
      }
    }
    const started = await this.find(index);
    if (!started?.running) throw new Error(`the infra container of slot ${index} does not run`);
    return { ...started, started: true };
  }

  /** Removes the slot's infra container (before its network: Docker refuses to remove a network in use). */
  async remove(index: number): Promise<void> {
    try {
      await this.#docker.getContainer(infraContainerName(this.#instance, index)).remove({ force: true });
    } catch (error) {
      const status = dockerStatus(error);
      if (status !== 404 && status !== 409) {
        throw new Error(`removing the infra container of slot ${index}: ${dockerMessage(error)}`);
      }
    }
  }

  /** Every infra container of the instance by id: one list call (the pods' listing needs their addresses). */
  async all(): Promise<Map<string, InfraState>> {
    const infos = await this.#docker.listContainers({
      all: true,
      filters: { label: labelFilter({ ...instanceLabels(this.#instance), [LABELS.role]: "infra" }) },
    });
    return new Map(
      infos.map((info) => {
        const address = Object.values(info.NetworkSettings?.Networks ?? {})
          .map((network) => network.IPAddress)
          .find((ip) => ip !== undefined && ip !== "");
        const running = info.State === "running";
        return [info.Id, { id: info.Id, running, ...(running && address ? { address } : {}) }];
      }),
    );
  }

  /** Starts an infra container by id unless it runs (a pod's container cannot start while its infra is stopped). */
  async start(id: string): Promise<void> {
    try {
      await this.#docker.getContainer(id).start();
    } catch (error) {
      if (dockerStatus(error) !== 304) throw new Error(`starting infra container ${id}: ${dockerMessage(error)}`);
    }
  }

  #ours(labels: Record<string, string>, index: number): boolean {
    return Object.entries(infraLabels(this.#instance, index)).every(([key, value]) => labels[key] === value);
  }

  #spec(index: number, network: string, image: string): ContainerSpec {
    return {
      name: infraContainerName(this.#instance, index),
      Image: image,
      Entrypoint: [PAUSE_PATH],
      Cmd: [],
      // The pod's hostname: made before the pod's manifest names its container.
      Hostname: "pod",
      User: "65534:65534",
      // The pause program dies of SIGKILL only (pause-image.ts). Stopped with SIGTERM, as dockerd stops every running
      // container when it shuts down (an engine restart, a host reboot), it held the shutdown for Docker's 10 s stop
      // timeout; stopped with SIGKILL it ends at once, with nothing lost (it holds a namespace, no state).
      StopSignal: "SIGKILL",
      Labels: infraLabels(this.#instance, index),
      HostConfig: {
        NetworkMode: network,
        // Docker's smallest memory limit; the pause program uses a few pages.
        Memory: 6 * MIB,
        MemorySwap: 6 * MIB,
        // A low weight, not a quota: runc starts the container inside its cgroup, and a 0.01-CPU quota made every
        // infra container take 1.5 s to start here (the pause program itself never uses the CPU).
        CpuShares: 2,
        PidsLimit: 1,
        CapDrop: ["ALL"],
        CapAdd: [],
        Privileged: false,
        SecurityOpt: ["no-new-privileges"],
        ReadonlyRootfs: true,
        // Not restarted by Docker: see the module comment.
        RestartPolicy: { Name: "no" },
        LogConfig: { Type: "none", Config: {} },
        IpcMode: "private",
        CgroupnsMode: "private",
        Devices: [],
        Binds: [],
        PublishAllPorts: false,
        AutoRemove: false,
      },
    };
  }
}
