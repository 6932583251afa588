/**
 * Limits on an HTTP listener (the provider API and the pod ingress), so slow or idle peers cannot hold it: a cap on
 * connections (from the descriptor budget, fd-budget.ts), a deadline for the request headers (slowloris: headers
 * trickled a byte at a time are cut when the deadline passes, however steadily they trickle), an idle deadline while a
 * request is in flight, and Node's keep-alive deadline between requests. Whole-request deadlines stay off: a 2 GiB blob
 * upload over a slow link is legitimate, and the idle deadline cuts one that stalls.
 */
import type { Server, ServerOptions } from "node:http";

export interface HttpLimits {
  /** Connections accepted at once; Node closes the ones beyond at once (`drop` event). */
  maxConnections: number;
  /** From a connection's first byte (or the end of the previous request) until its request headers are complete. */
  headersTimeoutMs: number;
  /** A socket with no traffic either way for this long during a request is closed. */
  idleTimeoutMs: number;
  /** An idle keep-alive connection between requests is closed after this long. */
  keepAliveTimeoutMs: number;
}

/** Options for `http.createServer`: the deadlines that Node only takes at construction. */
export function httpServerOptions(limits: HttpLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: 0,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks the header deadline on this period (30 s by default, which would let a slowloris live 30 s past it).
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/** Applies the cap and the idle deadline to a created server (the rest came with {@link httpServerOptions}). */
export function limitServer<S extends Server>(server: S, limits: HttpLimits): S {
  server.maxConnections = limits.maxConnections;
  server.headersTimeout = limits.headersTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // With no 'timeout' listener on the server, Node destroys a socket idle for this long.
  server.timeout = limits.idleTimeoutMs;
  return server;
}
