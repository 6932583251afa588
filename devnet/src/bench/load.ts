/**
 * Load on a worker's listeners (npm run bench:api): autocannon runs against the API and the ingress, idle upgraded
 * connections held open meanwhile, and the worker's resident memory.
 */
import { readdirSync, readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import autocannon from "autocannon";
import { sleep } from "./stats.js";

/** What one autocannon run measured. */
export type LoadResult = {
  /** Requests answered per second, averaged over the run. */
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /** Answers that were not 2xx. */
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  seconds: number;
};

/** Options of {@link runLoad}: autocannon's, plus requests prepared per request (signed ones). */
export type LoadOptions = {
  url: string;
  connections: number;
  /** Seconds; or stop after `amount` requests. */
  duration?: number;
  amount?: number;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** Headers for each request in turn (a signed request can be sent once): one per request of `amount`. */
  perRequestHeaders?: Record<string, string>[];
};

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const queue = opts.perRequestHeaders ? [...opts.perRequestHeaders] : undefined;
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections,
    ...(opts.duration !== undefined ? { duration: opts.duration } : {}),
    ...(opts.amount !== undefined ? { amount: opts.amount } : {}),
    method: opts.method ?? "GET",
    headers: opts.headers ?? {},
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    timeout: 10,
    ...(queue
      ? {
          requests: [
            {
              setupRequest: (request) => ({ ...request, headers: { ...request.headers, ...(queue.shift() ?? {}) } }),
            },
          ],
        }
      : {}),
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    seconds: result.duration,
  };
}

/**
 * `count` upgraded connections through the ingress on `port`, spread over `hosts`, each to `path` (a CGI that answers
 * 101 and then stays silent: an idle WebSocket). Resolves once all got their 101, with a way to count those still
 * open and to close them.
 */
export async function holdUpgradedConnections(port: number, hosts: string[], path: string, count: number) {
  const sockets: Socket[] = [];
  let switched = 0;
  let closed = 0;
  for (let i = 0; i < count; i++) {
    const host = hosts[i % hosts.length] as string;
    const socket = connect(port, "127.0.0.1", () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: idle\r\n\r\n`),
    );
    socket.once("data", (chunk: Buffer) => {
      if (chunk.toString().startsWith("HTTP/1.1 101")) switched++;
    });
    socket.on("error", () => undefined);
    socket.on("close", () => closed++);
    sockets.push(socket);
    // Paced: the pods fork a CGI per connection.
    if (i % 50 === 49) await sleep(50);
  }
  const deadline = Date.now() + 120_000;
  while (switched + closed < count && Date.now() < deadline) await sleep(100);
  if (switched < count)
    throw new Error(`only ${switched} of ${count} upgraded connections were switched (${closed} closed)`);
  return {
    open: () => count - closed,
    close: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** VmRSS of process `pid`, in bytes. */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match?.[1]) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Open descriptors of process `pid`. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
