/** Resource usage of a container, computed from one Docker stats sample the way `docker stats` does. */
import type { ContainerUsage } from "@podnet/sdk/protocol";

/** A container's usage at one moment: the provider API's {@link ContainerUsage} without the pod's names for it. */
export type ContainerStats = Omit<ContainerUsage, "name" | "replica">;

/** The parts of Docker's stats JSON this module reads. Every field may be missing: a stopped container has none. */
export interface RawStats {
  cpu_stats?: CpuSample;
  precpu_stats?: CpuSample;
  memory_stats?: {
    usage?: number;
    limit?: number;
    stats?: Record<string, number | undefined>;
  };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  pids_stats?: { current?: number };
}

interface CpuSample {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] };
  system_cpu_usage?: number;
  online_cpus?: number;
}

/** Turns a stats sample (taken with `stream: false`, so `precpu_stats` is the sample before) into usage figures. */
export function containerUsage(raw: RawStats): ContainerStats {
  const total = raw.cpu_stats?.cpu_usage?.total_usage ?? 0;
  const cpuDelta = total - (raw.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (raw.cpu_stats?.system_cpu_usage ?? 0) - (raw.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = raw.cpu_stats?.online_cpus || raw.cpu_stats?.cpu_usage?.percpu_usage?.length || 1;
  const cpuPercent = cpuDelta > 0 && systemDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;

  const memory = raw.memory_stats ?? {};
  // cgroup v1 reports total_inactive_file, v2 inactive_file; docker stats subtracts it from the usage.
  const inactive = memory.stats?.total_inactive_file ?? memory.stats?.inactive_file ?? 0;
  const usage = memory.usage ?? 0;
  const memoryBytes = inactive < usage ? usage - inactive : usage;

  let rxBytes = 0;
  let txBytes = 0;
  for (const network of Object.values(raw.networks ?? {})) {
    rxBytes += network.rx_bytes ?? 0;
    txBytes += network.tx_bytes ?? 0;
  }
  return {
    cpuNanos: BigInt(Math.trunc(total)),
    cpuPercent,
    memoryBytes,
    memoryLimitBytes: memory.limit ?? 0,
    rxBytes,
    txBytes,
    pids: raw.pids_stats?.current ?? 0,
  };
}
