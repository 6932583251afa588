/** anvil, the local chain's node: started on a port of its own, and asked for its chain id. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { bin } from "./paths.js";

/** The chain id of every local chain (anvil's default, and the only chain the anvil dev keys are accepted on). */
export const LOCAL_CHAIN_ID = 31337;

/** The chain id an RPC endpoint answers with, or undefined when nothing answers. */
export async function chainIdAt(rpcUrl: string): Promise<number | undefined> {
  try {
    const response = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(2000),
    });
    const { result } = (await response.json()) as { result?: string };
    return result === undefined ? undefined : Number(BigInt(result));
  } catch {
    return undefined;
  }
}

/** The WebSocket endpoint of the anvil at `rpcUrl`: anvil serves it on its HTTP port. */
export function anvilWsUrl(rpcUrl: string): string {
  return rpcUrl.replace(/^http/, "ws");
}

/** Waits until a chain answers at `rpcUrl`; resolves with its chain id. */
export async function waitForChain(rpcUrl: string, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const chainId = await chainIdAt(rpcUrl);
    if (chainId !== undefined) return chainId;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no chain answered at ${rpcUrl} within ${timeoutMs} ms`);
}

export type StartAnvilOptions = {
  host?: string;
  port: number;
  /** Where anvil's output goes; its folder is created. */
  logFile: string;
  /** Keep anvil running after this process exits (dev chain) instead of tying it to this process (tests). */
  detached?: boolean;
  /** Extra anvil flags, e.g. a larger block gas limit for a benchmark. */
  args?: string[];
};

/** Starts anvil (chain id 31337) and waits until it answers. */
export async function startAnvil({
  host = "127.0.0.1",
  port,
  logFile,
  detached = false,
  args = [],
}: StartAnvilOptions): Promise<{ rpcUrl: string; process: ChildProcess }> {
  mkdirSync(dirname(logFile), { recursive: true });
  const log = openSync(logFile, "a");
  const child: ChildProcess = spawn(
    bin("anvil"),
    ["--host", host, "--port", String(port), "--chain-id", String(LOCAL_CHAIN_ID), ...args],
    { stdio: ["ignore", log, log], detached },
  );
  const rpcUrl = `http://${host}:${port}`;
  if (detached) {
    child.unref();
  } else {
    // Tied to this process: should it exit before stopping the chain (a crash, a signal during setup), anvil goes too.
    const killOnExit = () => child.kill();
    process.once("exit", killOnExit);
    child.once("exit", () => process.off("exit", killOnExit));
  }
  try {
    await waitForChain(rpcUrl);
  } catch (error) {
    child.kill();
    throw error;
  }
  return { rpcUrl, process: child };
}
