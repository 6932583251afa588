/**
 * The autoscaler daemon as an operator runs it (`podnet-autoscaler run`, configured by environment only), and a
 * provider's sudden death (its worker SIGKILLed, its pods stopped): what the autoscaler tests and benchmarks use.
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type Dockerode from "dockerode";
import type { Address } from "viem";
import { startDaemon } from "./daemon.js";
import { providerLabel } from "./docker.js";
import { freePort } from "./net.js";
import { autoscalerBin, DAEMON_NODE_FLAGS } from "./paths.js";
import type { RunningProvider } from "./provider.js";

export interface AutoscalerProcess {
  statusUrl: string;
  logFile: string;
  process: ChildProcess;
  env: Record<string, string>;
  exited: Promise<number | null>;
  /** Sends `signal` (default SIGTERM; SIGKILL after 10 s) and waits for the exit; nothing when already gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `podnet-autoscaler run` with `env` (PODNET_AUTOSCALER_*; a free status port unless given), logging to
 * `<dataDir>/<logName>`, and waits until its status endpoint answers.
 */
export async function startAutoscalerProcess(
  env: Record<string, string>,
  logName = "autoscaler.log",
): Promise<AutoscalerProcess> {
  const dataDir = env.PODNET_AUTOSCALER_DATA_DIR as string;
  mkdirSync(dataDir, { recursive: true });
  const full = { PODNET_AUTOSCALER_STATUS_PORT: String(await freePort()), ...env };
  const logFile = join(dataDir, logName);
  const statusUrl = `http://127.0.0.1:${full.PODNET_AUTOSCALER_STATUS_PORT}`;
  const daemon = await startDaemon({
    name: "autoscaler",
    command: process.execPath,
    args: [...DAEMON_NODE_FLAGS, autoscalerBin, "run"],
    env: full,
    logFile,
    readyUrl: `${statusUrl}/status`,
  });
  return { statusUrl, logFile, env: full, ...daemon };
}

/**
 * A provider dies at once: its worker gets SIGKILL (no shutdown, no goodbye on chain) and its pods' containers are
 * stopped (with its slots' infra containers), so nothing it ran answers any more. Returns the pod containers stopped.
 */
export async function killProvider(
  docker: Dockerode,
  provider: Pick<RunningProvider, "address" | "worker">,
): Promise<number> {
  await provider.worker.stop("SIGKILL");
  const containers = await docker.listContainers({
    filters: { label: [providerLabel(provider.address as Address)], status: ["running"] },
  });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).stop({ t: 0 })));
  // The pods' containers (a lease label); the slots' infra containers went with them, as on a dead host.
  return containers.filter((c) => c.Labels["podnet.lease"] !== undefined).length;
}

/** A network node daemon (`podnet-autoscaler node run`), started as an operator runs it. */
export interface AutoscalerNodeProcess extends Omit<AutoscalerProcess, "statusUrl"> {
  /** The node's API base URL (`/v1/node`, `/v1/apps/:vault/status`). */
  apiUrl: string;
}

/**
 * Starts `podnet-autoscaler node run` with `env` (PODNET_AUTOSCALER_*; a free API port unless given), logging to
 * `<dataDir>/<logName>`, and waits until `GET /v1/node` answers.
 */
export async function startAutoscalerNodeProcess(
  env: Record<string, string>,
  logName = "node.log",
): Promise<AutoscalerNodeProcess> {
  const dataDir = env.PODNET_AUTOSCALER_DATA_DIR as string;
  mkdirSync(dataDir, { recursive: true });
  const full = { PODNET_AUTOSCALER_API_PORT: String(await freePort()), ...env };
  const logFile = join(dataDir, logName);
  const apiUrl = `http://127.0.0.1:${full.PODNET_AUTOSCALER_API_PORT}`;
  const daemon = await startDaemon({
    name: "autoscaler node",
    command: process.execPath,
    args: [...DAEMON_NODE_FLAGS, autoscalerBin, "node", "run"],
    env: full,
    logFile,
    readyUrl: `${apiUrl}/v1/node`,
  });
  return { apiUrl, logFile, env: full, ...daemon };
}
