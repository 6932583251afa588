/** The network side of the harness: free ports, polling, GETs through a worker's ingress, and a TCP proxy that fails. */
import { readFileSync, statSync } from "node:fs";
import { type Agent, request } from "node:http";
import { createConnection, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { claimFile } from "./claim-file.js";

/**
 * A TCP port that was free on 127.0.0.1 a moment ago, from below the kernel's ephemeral range (Docker hands out
 * published host ports from that range, so a port picked there can be taken by a container before a restarted
 * process binds it again), and claimed for {@link PORT_CLAIM_MS}: the daemon it is for binds it seconds later (a
 * provider's ports are picked before it registers), and meanwhile no other caller, in this process or another, gets
 * it. Picked at random without claims, two test files drew the same port and one worker failed with EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
  const ceiling = Math.min((low ?? 32768) - 1, 29_999);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * (ceiling - 20_000));
    if (claimPort(port) && (await canListen(port))) return port;
  }
  throw new Error("no free TCP port found in 20000-29999");
}

/**
 * How long a picked port stays claimed: longer than any start of a daemon, and long enough that a daemon restarted on
 * its ports within the same test (a worker killed and started again) finds them untaken.
 */
const PORT_CLAIM_MS = 10 * 60_000;
/** One file per claimed port, shared by every process of the machine; a claim older than PORT_CLAIM_MS is void. */
const PORT_CLAIMS_DIR = join(tmpdir(), "podnet-port-claims");

/** Claims `port` unless a claim younger than {@link PORT_CLAIM_MS} holds it. */
function claimPort(port: number): boolean {
  const file = join(PORT_CLAIMS_DIR, String(port));
  return claimFile(file, String(process.pid), () => {
    try {
      return Date.now() - statSync(file).mtimeMs >= PORT_CLAIM_MS;
    } catch {
      return true; // gone meanwhile: free to claim
    }
  });
}

/** Whether 127.0.0.1:`port` can be listened on right now. */
export function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** `port` when it is free (stable URLs across runs, like the demo's 7070 and 8080), else any free port. */
export async function preferredPort(port: number): Promise<number> {
  return (await canListen(port)) ? port : freePort();
}

/** Polls `check` until it returns a value other than undefined, or throws with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  { timeoutMs = 60_000, intervalMs = 200 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
}

/**
 * A TCP proxy in front of a local port whose link the test can cut and restore: a real network fault (connections
 * refused and dropped) between a process and the service it depends on.
 */
export async function startTcpProxy(targetPort: number) {
  const sockets = new Set<Socket>();
  let open = true;
  const server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = createConnection(targetPort, "127.0.0.1");
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    /** Drops every open connection and refuses new ones. */
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    restore() {
      open = true;
    },
    close() {
      this.cut();
      server.close();
    },
  };
}

/** Options of {@link ingress}. */
export type IngressGetOptions = {
  /** A keep-alive agent, so a tight polling loop does not open a connection per request. */
  agent?: Agent;
  /** Gives up on a request that takes longer (it then fails like a refused connection). */
  timeoutMs?: number;
  /** The address the ingress listens on; default 127.0.0.1. */
  address?: string;
};

/**
 * GET 127.0.0.1:`port``path` (or `address`:`port`) with a Host header (a worker's ingress routes by it; none for a plain published port).
 * Rejects when nothing answers.
 */
export function ingress(
  port: number,
  host: string | undefined,
  path = "/",
  { agent, timeoutMs, address = "127.0.0.1" }: IngressGetOptions = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: address, port, path, headers: host ? { host } : {}, agent, timeout: timeoutMs },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`GET ${path} on port ${port}: no answer within ${timeoutMs} ms`)));
    req.end();
  });
}

/** A running {@link startTcpProxy}. */
export type TcpProxy = Awaited<ReturnType<typeof startTcpProxy>>;
