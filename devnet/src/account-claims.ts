/**
 * One process at a time per provider account on this machine. Docker objects, firewall chains and leftovers are
 * keyed by the provider's address, and test files run in parallel: two files running one account would remove each
 * other's pods as "leftovers". A claim is a file naming the claiming process (pid and start time); a claim whose
 * process is gone is stale and taken over (a run killed with -9 leaves one, and so does a vitest worker: it is killed,
 * its exit handlers never run), even when its pid now belongs to another process.
 */
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { claimFile } from "./claim-file.js";
import { procStat } from "./proc-stat.js";

const claimsDir = join(tmpdir(), "podnet-provider-claims");
const held = new Set<number>();

/**
 * When process `pid` started (clock ticks since boot, /proc/<pid>/stat field 22), or undefined when it is gone. pids
 * are reused (pid_max is 32,768 here): a claim names its process by both, so a new process that happens to get the pid
 * of a killed holder is not taken for it.
 */
function startTimeOf(pid: number): string | undefined {
  return procStat(pid, [22])?.[0];
}

interface Holder {
  pid: number;
  startTime: string;
  who: string;
}

function holderOf(file: string): Holder | undefined {
  try {
    const [pid, startTime = "", who = ""] = readFileSync(file, "utf8").split("\n");
    return { pid: Number(pid), startTime, who };
  } catch {
    return undefined;
  }
}

function alive(holder: Holder): boolean {
  return startTimeOf(holder.pid) === holder.startTime;
}

/**
 * Claims anvil dev account `index` as a provider for this process (again: a no-op), or throws naming the process
 * that holds it. Released by {@link releaseProviderAccount} or when this process exits.
 */
export function claimProviderAccount(index: number): void {
  if (held.has(index)) return;
  const file = join(claimsDir, String(index));
  const command = process.argv.slice(1).join(" ");
  // A vitest worker's command line names vitest's own module, not the test file.
  const who = command.includes("vitest/dist/workers") ? `a vitest worker, ${process.env.VITEST_WORKER_ID}` : command;
  const stale = () => {
    const holder = holderOf(file);
    return holder?.pid !== process.pid && !(holder && alive(holder));
  };
  if (!claimFile(file, `${process.pid}\n${startTimeOf(process.pid)}\n${who}`, stale)) {
    // Not created: held by this process already (a no-op), by a live process, or lost to a race.
    const holder = holderOf(file);
    if (holder?.pid !== process.pid) {
      if (holder && alive(holder)) {
        throw new Error(
          `provider account ${index} is in use by process ${holder.pid} (${holder.who}): each test file, the demo ` +
            "and each benchmark must start its providers from accounts of its own",
        );
      }
      throw new Error(`provider account ${index}: could not claim ${file}`);
    }
  }
  held.add(index);
  if (held.size === 1) process.once("exit", releaseAll);
}

/** Gives up this process's claim on account `index` (when its worker is stopped for good). */
export function releaseProviderAccount(index: number): void {
  if (!held.delete(index)) return;
  const file = join(claimsDir, String(index));
  if (holderOf(file)?.pid === process.pid) rmSync(file, { force: true });
}

function releaseAll(): void {
  for (const index of [...held]) releaseProviderAccount(index);
}
