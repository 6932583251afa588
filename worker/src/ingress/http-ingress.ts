import { Agent, createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { isProbeRequest, POD_STATE_HEADER } from "@podnet/sdk/protocol";
import type { Metrics } from "../metrics.js";
import { forwardingHeaders, TrustedProxies } from "../net/forwarded.js";
import { type HttpLimits, httpServerOptions, limitServer } from "../net/http-limits.js";
import type { RouteTable } from "../pods/routes.js";
import type { PodSleep } from "../pods/scale-to-zero.js";
import { narrowCookies } from "./cookies.js";

/** How the ingress bounds what a client or a pod can hold (config: `ingress*`, `http*`, `trustedProxies`). */
export interface IngressOptions {
  /** The listener's connection cap and deadlines (net/http-limits.ts). */
  limits: HttpLimits;
  /** Connecting to the pod, and each wait for the pod's next bytes; past it a request gets 504. */
  upstreamTimeoutMs: number;
  /** Scale-to-zero: how long a request for a sleeping pod is held while the pod wakes; past it 503 + Retry-After. */
  wakeTimeoutMs: number;
  /** An upgraded connection with no traffic either way for this long is closed (both sides). */
  upgradeIdleTimeoutMs: number;
  /** Upgraded connections one lease's pods may hold at once; more get 503 (one tenant cannot take every descriptor). */
  maxUpgradesPerLease: number;
  /** Peers whose X-Forwarded-For is believed (net/forwarded.ts). */
  trustedProxies: TrustedProxies;
}

export const defaultIngressOptions = (): IngressOptions => ({
  limits: { maxConnections: 4096, headersTimeoutMs: 10_000, idleTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000 },
  upstreamTimeoutMs: 60_000,
  wakeTimeoutMs: 30_000,
  upgradeIdleTimeoutMs: 300_000,
  maxUpgradesPerLease: 1000,
  trustedProxies: new TrustedProxies([]),
});

/**
 * The pods' HTTP ingress: routes a request by its Host header to a replica of the pod that serves that host
 * (round robin), streaming bodies both ways; WebSocket and other upgrades are piped as raw TCP. Unknown hosts get a
 * 404 naming the host; a pod that does not answer gets a 502, one that stalls a 504. Connections are capped, slow
 * headers and idle sockets cut, upgraded connections capped per lease and closed when idle (see {@link IngressOptions}).
 */
export function createIngress(
  routes: RouteTable,
  metrics: Metrics,
  options: Partial<IngressOptions> = {},
  /** Scale-to-zero (pods/scale-to-zero.ts); without it every pod is taken as awake. */
  sleep?: PodSleep,
): Server {
  const opts = { ...defaultIngressOptions(), ...options };
  // Connections to the pods are kept open between requests (most recently used first, so idle ones age out), instead
  // of a TCP handshake per request; the agent is the ingress' own and its sockets go when the ingress closes.
  const agent = new Agent({ keepAlive: true, scheduling: "lifo", maxFreeSockets: 256 });
  const counted = countedByStatus(metrics);
  const server = limitServer(
    createServer(httpServerOptions(opts.limits), (req, res) => {
      const leaseId = sleep ? routes.leaseFor(req.headers.host) : undefined;
      if (!sleep || leaseId === undefined) {
        forward(routes, counted, opts, agent, req, res);
        return;
      }
      const probe = isProbeRequest(req.headers);
      // A probe is not activity: it must neither keep a pod awake nor wake it.
      if (!probe) res.once("close", sleep.begin(leaseId));
      if (!sleep.asleep(leaseId)) {
        forward(routes, counted, opts, agent, req, res);
        return;
      }
      if (probe) {
        // The provider is up and the pod wakes on the next request: healthy, and all a stranger learns is "asleep".
        counted(204);
        res.writeHead(204, { [POD_STATE_HEADER]: "asleep" }).end();
        return;
      }
      wakeThen(sleep, leaseId, opts, res, () => forward(routes, counted, opts, agent, req, res), counted);
    }),
    opts.limits,
  );
  server.on("close", () => agent.destroy());
  server.on("drop", () => metrics.connectionsRefused.inc({ listener: "ingress", reason: "connections" }));
  const upgrades = new Map<string, number>();
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const leaseId = sleep ? routes.leaseFor(req.headers.host) : undefined;
    if (!sleep || leaseId === undefined) {
      pipeUpgrade(routes, metrics, opts, upgrades, req, socket, head);
      return;
    }
    // An open WebSocket is activity for as long as it stays open: the pod stays awake under it.
    socket.once("close", sleep.begin(leaseId));
    if (!sleep.asleep(leaseId)) {
      pipeUpgrade(routes, metrics, opts, upgrades, req, socket, head);
      return;
    }
    socket.on("error", () => socket.destroy());
    withinWakeTimeout(sleep.wake(leaseId), opts.wakeTimeoutMs).then(
      () => pipeUpgrade(routes, metrics, opts, upgrades, req, socket, head),
      (error: Error) =>
        socket.end(
          `HTTP/1.1 503 Service Unavailable\r\nretry-after: ${RETRY_AFTER_SEC}\r\nconnection: close\r\n\r\npod did not wake: ${error.message}\n`,
        ),
    );
  });
  return server;
}

/** Seconds a client is told to wait (Retry-After) after a pod did not wake in time. */
const RETRY_AFTER_SEC = 5;

/**
 * Holds a request for a sleeping pod until it woke (one wake for all concurrent requests), then `then()` forwards it;
 * past `wakeTimeoutMs`, or when the pod does not start, the client gets 503 with Retry-After (the next request tries
 * again). The request body waits in the socket meanwhile.
 */
function wakeThen(
  sleep: PodSleep,
  leaseId: string,
  opts: IngressOptions,
  res: ServerResponse,
  then: () => void,
  counted: (status: number) => void,
) {
  withinWakeTimeout(sleep.wake(leaseId), opts.wakeTimeoutMs).then(
    () => {
      if (!res.destroyed) then();
    },
    (error: Error) => {
      if (res.headersSent || res.destroyed) return;
      counted(503);
      res
        .writeHead(503, { "content-type": "text/plain", "retry-after": String(RETRY_AFTER_SEC) })
        .end(`pod did not wake: ${error.message}\n`);
    },
  );
}

function withinWakeTimeout(wake: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not ready within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  return Promise.race([wake, late]).finally(() => clearTimeout(timer));
}

/** The ingress' request counter by answer status, one labelled child per status (the label lookup is per request). */
function countedByStatus(metrics: Metrics): (status: number) => void {
  const children = new Map<number, { inc(): void }>();
  return (status) => {
    let child = children.get(status);
    if (!child) {
      child = metrics.ingressRequests.labels(String(status));
      children.set(status, child);
    }
    child.inc();
  };
}

/** Request headers for the pod: the client's, with the forwarding headers the ingress vouches for. */
function upstreamHeaders(req: IncomingMessage, opts: IngressOptions): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  const forwarding = forwardingHeaders(req.socket.remoteAddress, req.headers, opts.trustedProxies);
  for (const name in forwarding) {
    const value = forwarding[name];
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  headers["x-forwarded-host"] = req.headers.host ?? "";
  return headers;
}

function pipeUpgrade(
  routes: RouteTable,
  metrics: Metrics,
  opts: IngressOptions,
  upgrades: Map<string, number>,
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
) {
  // The HTTP server stops watching an upgraded socket: without a listener of our own, a client resetting it (even one
  // being refused) would be an unhandled 'error' and take the whole worker down.
  socket.on("error", () => socket.destroy());
  const route = routes.route(req.headers.host);
  if (!route) {
    const notFound = () => socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n");
    const retry = () => pipeUpgrade(routes, metrics, opts, upgrades, req, socket, head);
    if (!afterProof(routes, req.headers.host, retry, notFound)) notFound();
    return;
  }
  const held = upgrades.get(route.leaseId) ?? 0;
  if (held >= opts.maxUpgradesPerLease) {
    metrics.connectionsRefused.inc({ listener: "ingress", reason: "upgrades-per-lease" });
    socket.end(
      `HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nthis pod holds ${held} upgraded connections, its most\n`,
    );
    return;
  }
  upgrades.set(route.leaseId, held + 1);
  metrics.ingressUpgraded.inc();
  const [host, port] = route.target.split(":") as [string, string];
  const upstream = connect(Number(port), host);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    const left = (upgrades.get(route.leaseId) ?? 1) - 1;
    if (left > 0) upgrades.set(route.leaseId, left);
    else upgrades.delete(route.leaseId);
    metrics.ingressUpgraded.dec();
    upstream.destroy();
    socket.destroy();
  };
  // Until the pod answers, the upstream deadline applies; afterwards the (longer) idle deadline. Traffic either way
  // touches both sockets (one reads, the other writes), so either one's timer going off means the pipe is idle.
  for (const side of [socket, upstream]) {
    side.setTimeout(opts.upstreamTimeoutMs);
    side.on("timeout", close);
    side.on("error", close);
    side.on("close", close);
  }
  upstream.once("data", () => {
    socket.setTimeout(opts.upgradeIdleTimeoutMs);
    upstream.setTimeout(opts.upgradeIdleTimeoutMs);
  });
  upstream.once("connect", () => {
    const headers = Object.entries(upstreamHeaders(req, opts))
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : v}`)
      .join("\r\n");
    upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers}\r\n\r\n`);
    upstream.write(head);
    // One side ending ends the pipe: what it sent is flushed to the other side, then both are closed. (The HTTP
    // server's sockets allow half-open connections; left half-open, a client gone with a FIN would keep both
    // descriptors for as long as the pod keeps its side open.)
    for (const [from, to] of [
      [upstream, socket],
      [socket, upstream],
    ] as const) {
      from.pipe(to, { end: false });
      from.once("end", () => to.end(close));
    }
  });
}

/**
 * For a custom host its lease declares but has not proven yet (App DNS may answer the address before the reconcile
 * pass looks the proof up): looks it up now, then `retry` once the host awaits no proof any more, else `refuse`.
 * Whether it took the request; false for any other host.
 */
function afterProof(
  routes: RouteTable,
  hostHeader: string | undefined,
  retry: () => void,
  refuse: () => void,
): boolean {
  if (!routes.awaitsProof(hostHeader)) return false;
  void routes.proveOnDemand(hostHeader).then(() => (routes.awaitsProof(hostHeader) ? refuse() : retry()));
  return true;
}

/** 404 naming the host: no pod here serves it. */
function respondNoPod(counted: (status: number) => void, req: IncomingMessage, res: ServerResponse) {
  counted(404);
  res.writeHead(404, { "content-type": "text/plain" }).end(`no pod serves host ${req.headers.host ?? "(none)"}\n`);
}

function forward(
  routes: RouteTable,
  counted: (status: number) => void,
  opts: IngressOptions,
  agent: Agent,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const target = routes.resolve(req.headers.host);
  if (!target) {
    const refuse = () => respondNoPod(counted, req, res);
    if (!afterProof(routes, req.headers.host, () => forward(routes, counted, opts, agent, req, res), refuse)) refuse();
    return;
  }
  const [host, port] = target.split(":") as [string, string];
  const upstream = request(
    {
      host,
      port: Number(port),
      method: req.method,
      path: req.url,
      headers: upstreamHeaders(req, opts),
      timeout: opts.upstreamTimeoutMs,
      agent,
    },
    (answer) => {
      counted(answer.statusCode ?? 0);
      const cookies = answer.headers["set-cookie"];
      if (cookies) answer.headers["set-cookie"] = narrowCookies(cookies, req.headers.host ?? "");
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  let timedOut = false;
  upstream.on("timeout", () => {
    timedOut = true;
    upstream.destroy(new Error(`no answer within ${opts.upstreamTimeoutMs / 1000} s`));
  });
  upstream.on("error", (error) => {
    const status = timedOut ? 504 : 502;
    if (!res.headersSent) {
      counted(status);
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(`pod did not answer: ${error.message}\n`);
    } else {
      // Headers went out already: the client learns of the failure by the connection closing early.
      res.destroy();
    }
  });
  // A client that goes away releases the pod's connection too, instead of leaving it open until the pod answers.
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}
