import { spawn } from "node:child_process";
import type { LocalChain } from "./chain.js";

/** What a finished command printed, and its exit code. */
export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command <args...>` to its end, as a user would from a shell: its own working directory and environment only,
 * `input` on stdin (closed at once without it).
 */
export function runCommand(
  command: string,
  args: readonly string[],
  opts: { cwd: string; env: Record<string, string>; input?: string },
): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    // A command that exits without reading its input (a usage error) closes the pipe first: the write then fails
    // with EPIPE, which would be an uncaught error. Its exit code and output say what happened.
    child.stdin.on("error", () => {});
    child.stdin.end(opts.input ?? "");
  });
}

/** `node <script> <args...>` through {@link runCommand}: for the CLI tests (`podnetBin`, `workerBin`). */
export function runNodeScript(
  script: string,
  args: readonly string[],
  opts: { cwd: string; env: Record<string, string>; input?: string },
): Promise<ScriptRun> {
  return runCommand(process.execPath, [script, ...args], opts);
}

/**
 * The environment a publisher's shell gives `podnet` against a devnet: PATH, a HOME of its own (keystore, blob cache),
 * the chain's RPC and deployments file, the indexer when given, the Docker host when set; `extra` adds or overrides.
 */
export function cliEnv(
  chain: Pick<LocalChain, "rpcUrl" | "deploymentsFile">,
  opts: { home: string; indexerUrl?: string; extra?: Record<string, string> },
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: opts.home,
    PODNET_RPC_URL: chain.rpcUrl,
    PODNET_DEPLOYMENTS_FILE: chain.deploymentsFile,
    ...(opts.indexerUrl ? { PODNET_INDEXER_URL: opts.indexerUrl } : {}),
    ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
    ...opts.extra,
  };
}
