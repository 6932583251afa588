/**
 * File descriptors: every API connection, ingress connection (two: the client's and the pod's), Docker call, RPC
 * request, blob and state file takes one, from one per-process limit (`nofile`). Left alone, 5,000 idle WebSockets
 * through the ingress take every descriptor and the worker can no longer answer /health, call Docker or read its
 * state. So the worker raises its limit at start and splits it: a reserve for Docker, the chain and files, a share
 * for the API, the rest for the ingress; each listener refuses connections beyond its share.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** The soft and hard `nofile` limits of this process (Linux: /proc/self/limits); undefined where unknown. */
export function openFileLimits(): { soft: number; hard: number } | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const [soft, hard] = (line?.match(/(\d+|unlimited)\s+(\d+|unlimited)/)?.slice(1) ?? []).map((v) =>
      v === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(v),
    );
    return soft !== undefined && hard !== undefined ? { soft, hard } : undefined;
  } catch {
    return undefined;
  }
}

/** Descriptors this process has open now (Linux); undefined where unknown. */
export function openFileCount(): number | undefined {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return undefined;
  }
}

/**
 * Raises this process' `nofile` limit to `wanted` (soft and hard) when it is lower. Node has already raised the soft
 * limit to the hard one; going past the hard limit needs root (CAP_SYS_RESOURCE), through util-linux's `prlimit` on
 * our own pid (Node has no setrlimit). Returns the limit in force afterwards and, when it stays below `wanted`, why.
 */
export function raiseOpenFileLimit(wanted: number): { limit: number; shortBy?: string } {
  const before = openFileLimits();
  if (!before) return { limit: wanted, shortBy: "the open-file limit cannot be read on this system" };
  if (before.soft >= wanted) return { limit: before.soft };
  try {
    const hard = Math.max(before.hard, wanted);
    execFileSync("prlimit", ["--pid", String(process.pid), `--nofile=${wanted}:${hard}`], {
      stdio: "ignore",
      timeout: 5_000,
    });
  } catch {
    // Not root, no prlimit, or past fs.nr_open: keep what we have and say so.
  }
  const after = openFileLimits() ?? before;
  return after.soft >= wanted
    ? { limit: after.soft }
    : {
        limit: after.soft,
        shortBy: `open-file limit ${after.soft} < nofile ${wanted} (raise the hard limit: ulimit -Hn, LimitNOFILE=, or run as root)`,
      };
}

/** How the descriptors of a process with `limit` of them are shared out. */
export interface FdBudget {
  limit: number;
  /** Kept for Docker calls (log follows included), the chain's RPC, the state, manifests and blobs. */
  reserve: number;
  /** Most connections the API accepts at once. */
  apiConnections: number;
  /** Most connections the ingress accepts at once (each costs two descriptors: the client's and the pod's). */
  ingressConnections: number;
  /** Most log-follow streams at once over all leases (each holds an API connection and a Docker connection). */
  logFollows: number;
}

/**
 * The budget for `limit` descriptors: an eighth (at least 256) in reserve, the API a fifth of the rest, the ingress
 * what remains (halved: two per connection); each share capped by the configured maximum. Log follows get a quarter of
 * the reserve, since each one holds a Docker connection open.
 */
export function budgetFileDescriptors(
  limit: number,
  max: { apiConnections: number; ingressConnections: number },
): FdBudget {
  const reserve = Math.min(limit, Math.max(256, Math.floor(limit / 8)));
  const available = Math.max(0, limit - reserve);
  const apiConnections = Math.max(1, Math.min(max.apiConnections, Math.floor(available / 5)));
  const ingressConnections = Math.max(
    1,
    Math.min(max.ingressConnections, Math.floor((available - apiConnections) / 2)),
  );
  return { limit, reserve, apiConnections, ingressConnections, logFollows: Math.max(1, Math.floor(reserve / 4)) };
}

/** The budget of this process' limit now (raised at start), with the configured maxima. */
export function currentFdBudget(config: { apiMaxConnections: number; ingressMaxConnections: number }): FdBudget {
  return budgetFileDescriptors(openFileLimits()?.soft ?? 1024, {
    apiConnections: config.apiMaxConnections,
    ingressConnections: config.ingressMaxConnections,
  });
}
