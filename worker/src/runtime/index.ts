/** The worker's Docker runtime: deterministic names, the pod sandbox, image loading, logs and stats. */
export {
  type ContainerSpec,
  containerSpec,
  type PodPlan,
  planVolumes,
  tcpPortKey,
  validatePlan,
} from "./container-spec.js";
export {
  DockerRuntime,
  type DockerRuntimeOptions,
  type LogOptions,
  type RuntimeContainer,
  type RuntimeInfo,
} from "./docker-runtime.js";
export { loadImageTarball } from "./image-load.js";
export type { LogRecord } from "./logs.js";
export {
  containerName,
  emptyVolumeName,
  LABELS,
  namePrefix,
  networkName,
  persistentVolumeName,
  type WorkerInstance,
  workerInstance,
} from "./names.js";
export type { ContainerStats } from "./stats.js";
