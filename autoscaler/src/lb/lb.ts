import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { createLogger, type Logger } from "../log.js";
import { type LbConfig, type LbOptions, parseLbConfig } from "./config.js";
import { TrustedProxies } from "./headers.js";
import { type Backend, InstanceSource } from "./instances.js";
import { createLbMetrics, type LbMetrics } from "./metrics.js";
import { proxyRequest } from "./proxy.js";
import { proxyUpgrade } from "./upgrade.js";

/**
 * podnet-lb: one stable HTTP address in front of an app's instances. It reads the instances from the autoscalers'
 * `GET /status` in the background, sends each request to the healthy instance with the fewest requests in flight,
 * takes an instance that fails a request out of rotation for a while, and tries an idempotent request again on
 * another instance when it failed before any byte of an answer reached the client (docs/lb.md).
 */
export interface LoadBalancer {
  /** `http://host:port`, the address clients use. */
  readonly url: string;
  readonly port: number;
  /** The metrics listener's URL (`…/metrics`), when `metricsPort` was set. */
  readonly metricsUrl: string | undefined;
  readonly config: LbConfig;
  readonly metrics: LbMetrics;
  /** The instances now, with their passive health. */
  instances(): { hostUrl: string; connect: string; outstanding: number; ejectedUntil: number }[];
  /** Reads the status URLs once, a read started after the call (the balancer also reads them every `pollIntervalMs`). */
  refresh(): Promise<void>;
  /** Stops listening, closes every connection (client and instance) and stops polling. */
  stop(): Promise<void>;
}

/**
 * Starts a balancer: validates `options` (an {@link LbConfigError} names a bad field), reads the status URLs once,
 * then listens. A status URL that does not answer at start is not fatal: the balancer answers 503 until one does.
 *
 * @example
 * const lb = await startLoadBalancer({ statusUrls: ["http://127.0.0.1:7090/status"], port: 0 });
 * await fetch(`${lb.url}/`);
 * await lb.stop();
 */
export async function startLoadBalancer(options: LbOptions, deps: { logger?: Logger } = {}): Promise<LoadBalancer> {
  const config = parseLbConfig(options);
  const logger = deps.logger ?? quietLogger(config.logLevel);
  const metrics = createLbMetrics();
  const source = new InstanceSource({
    ...config,
    onPollError: (url, error) => {
      metrics.statusPollFailures.inc();
      logger.warn("status read failed; keeping the last good instances", { url, error: error.message });
    },
    onChange: (backends) => {
      metrics.instances.set(backends.length);
      logger.info("instances", { instances: backends.map((b) => b.hostUrl) });
    },
  });
  await source.start();
  const ctx = {
    config,
    backends: () => source.backends,
    released: (backend: Backend) => source.released(backend),
    trusted: new TrustedProxies(config.trustedProxies),
    metrics,
    logger,
    cursor: 0,
  };
  const server = createServer(
    {
      maxHeaderSize: config.maxHeaderBytes,
      headersTimeout: config.clientHeadersTimeoutMs,
      requestTimeout: 0,
      keepAliveTimeout: config.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(config.clientHeadersTimeoutMs / 4))),
    },
    (req, res) => proxyRequest(ctx, req, res),
  );
  // Upgraded connections leave the HTTP server's books (closeAllConnections does not see them): kept here for stop().
  const upgraded = new Set<Duplex>();
  server.on("upgrade", (req, socket, head) => {
    upgraded.add(socket);
    socket.once("close", () => upgraded.delete(socket));
    proxyUpgrade(ctx, req, socket, head);
  });
  server.maxConnections = config.maxConnections;
  // With no 'timeout' listener, Node destroys a client socket idle this long.
  server.timeout = config.idleTimeoutMs;
  await listen(server, config.port, config.host);
  const port = (server.address() as AddressInfo).port;
  let metricsServer: Server | undefined;
  if (config.metricsPort !== undefined) {
    metricsServer = createServer(async (req, res) => {
      if (req.url !== "/metrics") return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": metrics.registry.contentType }).end(await metrics.registry.metrics());
    });
    await listen(metricsServer, config.metricsPort, config.metricsHost);
  }
  const metricsAddress = metricsServer?.address() as AddressInfo | undefined;
  logger.info("listening", { url: `http://${urlHost(config.host)}:${port}` });
  return {
    url: `http://${urlHost(config.host)}:${port}`,
    port,
    metricsUrl: metricsAddress && `http://${urlHost(config.metricsHost)}:${metricsAddress.port}/metrics`,
    config,
    metrics,
    instances: () =>
      source.backends.map((b) => ({
        hostUrl: b.hostUrl,
        connect: `${b.connectHost}:${b.connectPort}`,
        outstanding: b.outstanding,
        ejectedUntil: b.ejectedUntil,
      })),
    refresh: () => source.refresh(),
    stop: async () => {
      source.stop();
      const closed = Promise.all([close(server), metricsServer ? close(metricsServer) : undefined]);
      server.closeAllConnections();
      for (const socket of upgraded) socket.destroy();
      metricsServer?.closeAllConnections();
      await closed;
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

const urlHost = (host: string) => (host.includes(":") ? `[${host}]` : host);

function quietLogger(level: LbConfig["logLevel"]): Logger {
  if (level !== "silent") return createLogger(level);
  const nothing = () => {};
  return { debug: nothing, info: nothing, warn: nothing, error: nothing };
}
