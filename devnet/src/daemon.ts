/**
 * A daemon as a child process, the way an operator runs one (the provider worker, the autoscaler): its output appended
 * to a log file, ready when its HTTP endpoint answers, stopped by a signal.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import { waitFor } from "./net.js";
import { repoRoot } from "./paths.js";

/** A running {@link startDaemon}. */
export interface DaemonProcess {
  process: ChildProcess;
  /** Resolves when the process exited. */
  exited: Promise<number | null>;
  /** Sends `signal` (default SIGTERM), SIGKILL after 10 s, and waits for the exit; nothing when already gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export type StartDaemonOptions = {
  /** What the errors call it ("worker", "autoscaler"). */
  name: string;
  command: string;
  args: string[];
  /** Added to this process' environment. */
  env: Record<string, string>;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** Ready when a GET of this URL answers 2xx (polled every 100 ms, up to 60 s). */
  readyUrl: string;
};

/**
 * Spawns the daemon in the repository root and waits until `readyUrl` answers. A daemon that refuses to start says
 * why and exits: that fails at once with the tail of its log, not after the timeout; on a timeout it is killed, so no
 * hung daemon outlives the test or benchmark that started it.
 */
export async function startDaemon(o: StartDaemonOptions): Promise<DaemonProcess> {
  const out = openSync(o.logFile, "a");
  const child = spawn(o.command, o.args, {
    cwd: repoRoot,
    env: { ...process.env, ...o.env },
    stdio: ["ignore", out, out],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let started = false;
  const exitedEarly = exited.then((code) => {
    if (!started) throw new Error(`${o.name} exited with ${code}: ${readFileSync(o.logFile, "utf8").slice(-2000)}`);
  });
  exitedEarly.catch(() => undefined);
  try {
    await Promise.race([
      waitFor(
        `the ${o.name}'s ${new URL(o.readyUrl).pathname}`,
        async () => ((await fetch(o.readyUrl).catch(() => undefined))?.ok ? true : undefined),
        { timeoutMs: 60_000, intervalMs: 100 },
      ).then(() => {
        started = true;
      }),
      exitedEarly,
    ]);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    process: child,
    exited,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      // A daemon stuck in its shutdown must not hold up a test's or a benchmark's cleanup.
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
