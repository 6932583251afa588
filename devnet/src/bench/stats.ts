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

/** The statistics a latency or cost goal can name. */
export type Statistic = "p50" | "p95" | "p99" | "max";

/**
 * An upper-bound goal on named statistics, written and judged from the same limits, so the goal cell and its verdict
 * cannot name different statistics: `atMost(s, { p50: 1000, p95: 1000 }, " ms")` writes "p50, p95 <= 1,000 ms" and
 * is met only when both are. A statistic the figures lack (or that is NaN: nothing measured) is not met.
 */
export function atMost(
  figures: Partial<Record<Statistic, number>>,
  limits: Partial<Record<Statistic, number>>,
  unit = "",
): { goal: string; verdict: string } {
  const named = (Object.entries(limits) as [Statistic, number][]).filter(([, limit]) => limit !== undefined);
  if (named.length === 0) throw new Error("atMost: a goal names at least one statistic");
  // Statistics sharing one limit are written together ("p50, p95 <= 1,000 ms").
  const byLimit = new Map<number, Statistic[]>();
  for (const [statistic, limit] of named) byLimit.set(limit, [...(byLimit.get(limit) ?? []), statistic]);
  // Ratios are limits too (1.5x the floor): up to two decimals, none for whole numbers.
  const limitText = (limit: number) => limit.toLocaleString("en-US", { maximumFractionDigits: 2 });
  const goal = [...byLimit].map(([limit, statistics]) => `${statistics.join(", ")} <= ${limitText(limit)}`).join(", ");
  const ok = named.every(([statistic, limit]) => {
    const figure = figures[statistic];
    return figure !== undefined && Number.isFinite(figure) && figure <= limit;
  });
  return { goal: `${goal}${unit}`, verdict: met(ok) };
}

/** The goal and verdict cells of a report row: `| ... | ${goalCells(atMost(...))} |`. */
export const goalCells = ({ goal, verdict }: { goal: string; verdict: string }) => `${goal} | ${verdict}`;

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
