/** Figures and formatting shared by the benchmark scripts (npm run bench, bench:worker, bench:indexer). */
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { cleanupState } from "../cleanup.js";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Monotonic milliseconds: wall-clock jumps must not skew a latency. */
export const now = () => performance.now();

/** Nearest-rank percentile of an ascending list (p95 of 20 samples is the 19th). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

export type Summary = { n: number; p50: number; p95: number; max: number };

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

export const median = (samples: number[]) => summarize(samples).p50;

/** 1,234.5 with thousands separators; "n/a" for a figure that could not be measured. */
export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "n/a";

export const mib = (bytes: number) => fmt(bytes / 2 ** 20, 1);

export const met = (ok: boolean) => (ok ? "met" : "**not met**");

/** Progress lines with the seconds since `start`, at most one every 5 s unless forced: for long seeding loops. */
export class Progress {
  private last = 0;
  constructor(private readonly start: number) {}
  log(message: string, force = false) {
    const now = Date.now();
    if (!force && now - this.last < 5_000) return;
    this.last = now;
    console.log(`  [${fmt((now - this.start) / 1000, 0)} s] ${message}`);
  }
}

/** Progress lines with the seconds since `start`. */
export function progressLog(start = Date.now()) {
  return (message: string) => console.log(`  [${fmt((Date.now() - start) / 1000)} s] ${message}`);
}

/** Polls `check` every `intervalMs` until it returns a value; throws after `timeoutMs` or when the bench stops. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  { timeoutMs = 60_000, intervalMs = 20 } = {},
): Promise<T> {
  const deadline = now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (cleanupState.stopping) throw new Error(`stopped while waiting for ${what}`);
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** The 1-minute load average: the machine is shared, and other work running at the same time slows every figure. */
export const load1 = () => fmt(loadavg()[0] ?? Number.NaN, 1);

/** "2 cores (AMD EPYC ...), 23.4 GiB memory (20.1 GiB free), Node v20..." for a report's machine line. */
export function machineText(): string {
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  return (
    `${cpus().length} cores (${cpu}), ${fmt(totalmem() / 2 ** 30, 1)} GiB memory ` +
    `(${fmt(freemem() / 2 ** 30, 1)} GiB free at the end), Node ${process.version}`
  );
}
