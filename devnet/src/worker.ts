/**
 * Provider workers as child processes (`podnet-worker run`, so kill -9 is real), configured the way an operator
 * configures one: PODNET_* environment variables.
 */
import { type ChildProcess, execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Hex } from "viem";
import { anvilWsUrl } from "./anvil.js";
import type { LocalChain } from "./chain.js";
import { startDaemon } from "./daemon.js";
import { TOKEN } from "./funds.js";
import { ingress, waitFor } from "./net.js";
import { DAEMON_NODE_FLAGS, repoRoot, workerBin } from "./paths.js";

/** A running `podnet-worker run`. */
export interface WorkerProcess {
  apiUrl: string;
  ingressUrl: string;
  ingressPort: number;
  /** The address the ingress listens on (PODNET_INGRESS_HOST). */
  ingressHost: string;
  dataDir: string;
  logFile: string;
  process: ChildProcess;
  env: Record<string, string>;
  /** Resolves when the process exited. */
  exited: Promise<number | null>;
  /** Sends `signal` (default SIGTERM), SIGKILL after 10 s, and waits for the exit; nothing when already gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Waits until lease `leaseId` serves a page containing `page` through the ingress; resolves with the body. */
  waitForPage(leaseId: bigint, page: string, timeoutMs?: number): Promise<string>;
}

/**
 * The environment of a worker on `chain`: API and ingress on 127.0.0.1, new blocks pushed over anvil's WebSocket
 * endpoint and the chain polled every 100 ms as well, pods
 * reconciled every second (so tests and benchmarks measure the worker, not its timers), a stake of 1,000 tokens,
 * blob sources on 127.0.0.1 allowed (the other local providers).
 * `extra` wins over all of it.
 */
export function workerEnv(
  chain: LocalChain,
  opts: {
    providerKey: Hex;
    dataDir: string;
    /** The address the API and the ingress listen on and the API is registered at; default 127.0.0.1. */
    host?: string;
    apiPort: number;
    ingressPort: number;
    extra?: Record<string, string>;
  },
): Record<string, string> {
  const host = opts.host ?? "127.0.0.1";
  return {
    PODNET_PROVIDER_KEY: opts.providerKey,
    PODNET_RPC_URL: chain.rpcUrl,
    // The worker hears of each block by push; polling stays the fallback.
    PODNET_RPC_SUBSCRIBE_URL: anvilWsUrl(chain.rpcUrl),
    PODNET_DEPLOYMENTS_FILE: chain.deploymentsFile,
    PODNET_DATA_DIR: opts.dataDir,
    PODNET_API_HOST: host,
    PODNET_API_PORT: String(opts.apiPort),
    PODNET_PUBLIC_URL: `http://${host}:${opts.apiPort}`,
    PODNET_INGRESS_HOST: host,
    PODNET_INGRESS_PORT: String(opts.ingressPort),
    PODNET_TCP_BIND_IP: "127.0.0.1",
    // Many workers on one machine: each admin API on a free loopback port (written to <dataDir>/admin/origin).
    PODNET_ADMIN_PORT: "0",
    // The subscription above tells of each block; polling is the fallback, at the worker's default pace. (At 100 ms,
    // each idle worker kept 1 % of a core and anvil busy answering eth_getBlockByNumber ten times a second.)
    PODNET_POLL_INTERVAL_MS: "1000",
    PODNET_RECONCILE_INTERVAL_MS: "1000",
    // One pod network kept warm, not the worker's default two: a devnet provider (the demo's, a test's) runs one pod at
    // a time or none, and each warm network with its infra container costs ~0.5 CPU seconds to make and remove (a
    // provider started, idle 20 s and stopped: 3.0-3.4 cpu-s with two, 2.5-2.6 with one, 2.0-2.2 with none). A lease
    // still starts its pod on a warm network; the benchmarks that time it keep the default (devnet/src/bench/pods.ts),
    // and test/warm-networks.test.ts tests it.
    PODNET_WARM_NETWORKS: "1",
    // The event-loop lag sampled every 100 ms instead of 10: at 10 the sampler was half of an idle worker's CPU (about
    // 7 of 15 ms a second), paid by every worker of every test file. /metrics' lag figures then read ~100 ms at rest.
    PODNET_METRICS_LOOP_PRECISION_MS: "100",
    // anvil mines only when a transaction comes: a quiet dev chain is not a stalled one.
    PODNET_CHAIN_STALL_SEC: "0",
    PODNET_LOG_LEVEL: "debug",
    PODNET_STAKE: String(1000n * TOKEN),
    // A local marketplace: providers serve each other's blobs on loopback (a real one fetches only public sources).
    PODNET_PRIVATE_SOURCE_HOSTS: JSON.stringify([...new Set(["127.0.0.1", host])]),
    ...opts.extra,
  };
}

/**
 * `podnet-worker register` with the same environment a worker would run with. Asynchronous: a test may serve the
 * worker's RPC through an in-process proxy, which a blocking call would starve.
 */
export async function registerWorker(env: Record<string, string>): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [workerBin, "register"], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  return stdout;
}

/**
 * Starts `podnet-worker run` (output appended to `<data dir>/<logName>`) and waits until its API answers /health.
 * `nofile` starts it with that open-file limit (soft and hard), as a provider's machine might have.
 */
export async function startWorkerProcess(
  env: Record<string, string>,
  logName = "worker.log",
  nofile?: number,
): Promise<WorkerProcess> {
  const dataDir = env.PODNET_DATA_DIR as string;
  mkdirSync(dataDir, { recursive: true });
  const logFile = join(dataDir, logName);
  // PODNET_WORKER_CPU_PROF=<dir>: each worker writes a V8 CPU profile there when it stops (where a bench's time goes).
  const profile = process.env.PODNET_WORKER_CPU_PROF;
  const node = [
    ...DAEMON_NODE_FLAGS,
    ...(profile ? [`--cpu-prof`, `--cpu-prof-dir=${profile}`] : []),
    workerBin,
    "run",
  ];
  // Through sh for the limit: `exec` keeps the pid, so signals and /proc/<pid> are the worker's own.
  const [command, args] =
    nofile === undefined
      ? [process.execPath, node]
      : ["/bin/sh", ["-c", `ulimit -n ${Math.floor(nofile)} && exec "$0" "$@"`, process.execPath, ...node]];
  const host = env.PODNET_API_HOST ?? "127.0.0.1";
  const apiUrl = `http://${host}:${env.PODNET_API_PORT}`;
  const daemon = await startDaemon({ name: "worker", command, args, env, logFile, readyUrl: `${apiUrl}/health` });
  const ingressPort = Number(env.PODNET_INGRESS_PORT);
  const ingressHost = env.PODNET_INGRESS_HOST ?? "127.0.0.1";
  return {
    apiUrl,
    ingressUrl: `http://${ingressHost}:${ingressPort}`,
    ingressHost,
    ingressPort,
    dataDir,
    logFile,
    env,
    ...daemon,
    waitForPage(leaseId, page, timeoutMs = 60_000) {
      return waitFor(
        `lease ${leaseId} to serve "${page}" on port ${ingressPort}`,
        async () => {
          const { status, body } = await ingress(ingressPort, podHost(leaseId), "/", { address: ingressHost });
          return status === 200 && body.includes(page) ? body : undefined;
        },
        { timeoutMs, intervalMs: 100 },
      );
    },
  };
}

/** The host name a worker's ingress serves lease `leaseId`'s pod under. */
export const podHost = (leaseId: bigint) => `l${leaseId}.pods.localhost`;
