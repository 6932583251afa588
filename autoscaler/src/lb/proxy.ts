import { type ClientRequest, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { Logger } from "../log.js";
import type { LbConfig } from "./config.js";
import { endToEndHeaders, type TrustedProxies, upstreamRequestHeaders } from "./headers.js";
import type { Backend } from "./instances.js";
import type { LbMetrics } from "./metrics.js";

/**
 * One client request through podnet-lb: pick an instance (fewest requests in flight, ties in turn), forward with the
 * body streamed both ways, and on failure take the instance out of rotation (passive health) and maybe try another.
 *
 * When a request may be tried again, on an instance not tried yet, up to `maxAttempts` tries in all:
 * - the connection was never made (refused, connect timeout): nothing reached the instance, so any method — the
 *   body is not read from the client until a connection stands, so it is still there to send;
 * - it failed after the connection (reset, no response headers in time, a 502-504 answer) and the request is
 *   idempotent with no body: GET, HEAD, OPTIONS, PUT and DELETE; a POST (or a request with a body) may have been
 *   acted on, so it is never sent twice.
 * Nothing is retried once a byte of an answer went to the client: the balancer writes the client's response only
 * when an instance's answer is taken.
 */

export interface ProxyContext {
  config: LbConfig;
  backends(): readonly Backend[];
  released(backend: Backend): void;
  trusted: TrustedProxies;
  metrics: LbMetrics;
  logger: Logger;
  /** Round-robin position among equally loaded instances. */
  cursor: number;
}

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);
/** Answers that mean "this instance cannot serve now" (from the instance or the provider's ingress in front of it). */
const GATEWAY_FAILURES = new Set([502, 503, 504]);

type FailureReason = "connect" | "reset" | "timeout" | "status";

interface Failure {
  instance: string;
  reason: FailureReason;
  error: string;
}

class AttemptError extends Error {
  constructor(
    message: string,
    readonly reason: FailureReason,
  ) {
    super(message);
  }
}

/** The path to send upstream: origin-form as it is; an absolute-form target loses its scheme and authority. */
export function upstreamPath(target: string | undefined, method: string | undefined): string | undefined {
  if (target === undefined) return undefined;
  if (target.startsWith("/")) return target;
  if (target === "*" && method === "OPTIONS") return target;
  // RFC 9112 §3.2.2: a server given an absolute-form target must route by it, not by Host; the provider's ingress
  // would then pick the pod the client named. Only the path and query go on.
  if (/^https?:\/\//i.test(target)) {
    try {
      const url = new URL(target);
      return `${url.pathname}${url.search}`;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The instance to try next: not tried yet, not ejected, fewest requests in flight; ejected ones only if none else. */
export function pickBackend(
  backends: readonly Backend[],
  tried: ReadonlySet<Backend>,
  now: number,
  start: number,
): Backend | undefined {
  let best: Backend | undefined;
  let bestEjected: Backend | undefined;
  const count = backends.length;
  for (let i = 0; i < count; i++) {
    const backend = backends[(start + i) % count] as Backend;
    if (tried.has(backend) || backend.retired) continue;
    if (backend.ejectedUntil > now) {
      // Fail open: when every instance left is ejected, the one ejected longest ago gets the request.
      if (!bestEjected || backend.ejectedUntil < bestEjected.ejectedUntil) bestEjected = backend;
      continue;
    }
    if (!best || backend.outstanding < best.outstanding) best = backend;
  }
  return best ?? bestEjected;
}

function sendJson(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
  });
  res.end(text);
}

export function proxyRequest(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): void {
  const { config, metrics } = ctx;
  res.once("finish", () => metrics.requests.inc({ code: String(res.statusCode) }));
  const path = upstreamPath(req.url, req.method);
  if (path === undefined) {
    sendJson(res, 400, { error: "bad request target", detail: "an origin-form path or an http(s) URL is needed" });
    return;
  }
  if (ctx.backends().length === 0) {
    const seconds = Math.max(1, Math.ceil(config.pollIntervalMs / 1000));
    sendJson(res, 503, { error: "no instance of the app is known" }, { "retry-after": String(seconds) });
    return;
  }
  const method = req.method ?? "GET";
  const contentLength = req.headers["content-length"];
  const hasBody =
    req.headers["transfer-encoding"] !== undefined || (contentLength !== undefined && contentLength !== "0");
  const replayable = IDEMPOTENT.has(method) && !hasBody;
  const headers = (backend: Backend) =>
    upstreamRequestHeaders(req.headers, req.socket.remoteAddress, backend.hostHeader, ctx.trusted);
  const tried = new Set<Backend>();
  const failures: Failure[] = [];
  let bodyRead = false;
  let current: ClientRequest | undefined;
  let clientGone = false;

  // A client that goes away releases the instance's connection too, instead of holding it until the instance answers.
  res.once("close", () => {
    if (res.writableFinished) return;
    clientGone = true;
    current?.destroy();
  });

  const giveUp = () => {
    if (clientGone || res.headersSent) return;
    const instances = failures.map(({ instance, reason, error }) => ({ instance, reason, error }));
    if (failures.every((failure) => failure.reason === "timeout")) {
      sendJson(res, 504, { error: "no instance answered in time", attempts: instances });
      return;
    }
    // Tried as far as allowed (a replayable request, or connections that were never made) or sent once only.
    const retried = replayable || failures.every((failure) => failure.reason === "connect");
    sendJson(res, 502, {
      error: retried ? "every instance failed" : "the instance failed",
      ...(retried ? {} : { detail: `${method} with a body is not sent twice: the instance may have acted on it` }),
      attempts: instances,
    });
  };

  const attempt = () => {
    const backend = pickBackend(ctx.backends(), tried, Date.now(), ctx.cursor++);
    if (!backend) return giveUp();
    tried.add(backend);
    backend.outstanding++;
    let settled = false;
    let connected = false;
    let released = false;
    const timers: NodeJS.Timeout[] = [];
    const clearTimers = () => {
      for (const timer of timers) clearTimeout(timer);
    };
    const release = () => {
      if (released) return;
      released = true;
      clearTimers();
      backend.outstanding--;
      ctx.released(backend);
    };

    /** This try failed before the client got anything: eject the instance, then try another or answer the error. */
    const failed = (error: AttemptError) => {
      if (settled) return;
      settled = true;
      clearTimers();
      if (config.ejectMs > 0) backend.ejectedUntil = Date.now() + config.ejectMs;
      metrics.ejections.inc({ reason: error.reason });
      failures.push({ instance: backend.hostHeader, reason: error.reason, error: error.message });
      ctx.logger.debug("instance failed a request", { instance: backend.hostUrl, reason: error.reason });
      if (clientGone) return;
      const again = error.reason === "connect" ? !bodyRead : replayable;
      if (again && failures.length < config.maxAttempts) {
        metrics.retries.inc({ reason: error.reason });
        attempt();
      } else giveUp();
    };

    let upstream: ClientRequest;
    try {
      upstream = request({
        host: backend.connectHost,
        port: backend.connectPort,
        method,
        path,
        headers: headers(backend),
        agent: backend.agent,
        maxHeaderSize: config.maxHeaderBytes,
      });
    } catch (error) {
      // A header value Node refuses to send (the parser let it in, the client side is stricter).
      release();
      sendJson(res, 400, { error: "bad request header", detail: (error as Error).message });
      return;
    }
    current = upstream;
    upstream.once("close", release);
    // An instance that stalls mid-request or mid-answer (no byte either way) is cut.
    upstream.setTimeout(config.idleTimeoutMs, () =>
      upstream.destroy(new AttemptError(`no traffic for ${config.idleTimeoutMs} ms`, "timeout")),
    );

    const sendRequest = () => {
      connected = true;
      if (!hasBody) return void upstream.end();
      bodyRead = true;
      req.pipe(upstream);
    };
    upstream.once("socket", (socket) => {
      if (!socket.connecting) return sendRequest();
      timers.push(
        setTimeout(
          () => upstream.destroy(new AttemptError(`no connection within ${config.connectTimeoutMs} ms`, "connect")),
          config.connectTimeoutMs,
        ),
      );
      socket.once("connect", () => {
        clearTimers();
        sendRequest();
      });
    });
    // The answer's deadline runs from the end of the request, so a long upload is not cut by it.
    upstream.once("finish", () => {
      timers.push(
        setTimeout(
          () =>
            upstream.destroy(
              new AttemptError(`no response headers within ${config.responseHeadersTimeoutMs} ms`, "timeout"),
            ),
          config.responseHeadersTimeoutMs,
        ),
      );
    });

    upstream.on("error", (error) => {
      if (!settled) {
        const reason = error instanceof AttemptError ? error.reason : connected ? "reset" : "connect";
        failed(error instanceof AttemptError ? error : new AttemptError(error.message, reason));
        return;
      }
      // After the answer started: the client learns of it by the connection closing early.
      if (!res.writableFinished) res.destroy();
    });

    upstream.once("response", (answer) => {
      clearTimers();
      const status = answer.statusCode ?? 502;
      if (GATEWAY_FAILURES.has(status) && !settled) {
        const again =
          replayable && failures.length + 1 < config.maxAttempts && pickBackend(ctx.backends(), tried, 0, 0);
        if (again) {
          // Not this one's answer to give: drop it (and its connection) and ask another instance.
          upstream.destroy();
          failed(new AttemptError(`answered ${status}`, "status"));
          return;
        }
        if (config.ejectMs > 0) backend.ejectedUntil = Date.now() + config.ejectMs;
        metrics.ejections.inc({ reason: "status" });
      }
      if (settled || clientGone) return void upstream.destroy();
      settled = true;
      res.writeHead(status, endToEndHeaders(answer.headers));
      answer.pipe(res);
      answer.once("close", () => {
        // The instance's answer ended short (reset, idle cut): the client must not take a truncated body as whole.
        if (!answer.complete && !res.writableFinished) res.destroy();
      });
    });
  };

  attempt();
}
