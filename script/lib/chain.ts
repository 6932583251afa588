/** Local chain helpers shared by the dev scripts and the end-to-end tests. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import { dirname, join } from "node:path";

export const repoRoot = join(import.meta.dirname, "..", "..");
export const bin = (tool: "anvil" | "forge" | "cast" | "tsx") => join(repoRoot, "node_modules", ".bin", tool);

/**
 * Anvil's first well-known dev account. Public knowledge: usable only on a local chain (chain id 31337), never
 * anywhere with value.
 */
export const ANVIL_DEPLOYER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

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
}: StartAnvilOptions) {
  mkdirSync(dirname(logFile), { recursive: true });
  const log = openSync(logFile, "a");
  const child: ChildProcess = spawn(
    bin("anvil"),
    ["--host", host, "--port", String(port), "--chain-id", "31337", ...args],
    {
      stdio: ["ignore", log, log],
      detached,
    },
  );
  if (detached) child.unref();
  const rpcUrl = `http://${host}:${port}`;
  await waitForChain(rpcUrl);
  return { rpcUrl, process: child };
}
