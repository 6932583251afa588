import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer as createTcpServer, isIP, type Server as TcpServer, type Socket as TcpSocket } from "node:net";
import { createLogger, type Logger } from "../log.js";
import type { AppStatus } from "../status-wire.js";
import { AnswerCache, answerQuery } from "./answer.js";
import {
  type DnsConfig,
  type DnsConfigInput,
  type DnsDirectoryInput,
  parseDnsConfig,
  parseDnsDirectory,
} from "./config.js";
import { StatusSources } from "./status-sources.js";
import { type AppRecords, appRecordsOf, buildZone, type Zone } from "./zone.js";

/**
 * podnet-dns: the app zone's authoritative nameserver on one UDP and one TCP socket (same address and port). The
 * status URLs are polled in the background; each poll rebuilds the zone and, when a record changed, swaps in the new
 * snapshot with a new serial. A query is answered from whatever snapshot is current.
 */

export interface DnsServerOptions {
  /** A configuration object (validated here) or one already validated by `parseDnsConfig` / `loadDnsConfig`. */
  config: DnsConfigInput | DnsConfig;
  log?: Logger;
  /** How a status is fetched (default `fetchAppStatus`); tests use real HTTP servers instead. */
  fetchStatus?: (url: string, timeoutMs: number) => Promise<AppStatus>;
}

/** A running {@link startDnsServer}. */
export interface DnsServer {
  readonly host: string;
  /** The port both UDP and TCP listen on (the configured one, or the one picked for port 0). */
  readonly port: number;
  /** `host:port` (`[::1]:port` for IPv6), e.g. for a worker's `dnsServers` setting. */
  readonly address: string;
  /** The configuration as started; {@link DnsServer.setDirectory} changes its apps and nameservers. */
  readonly config: DnsConfig;
  /**
   * Replaces the apps and the nameservers (validated as the file's: an error names the field and changes nothing),
   * polls new status URLs and swaps in the new zone. A network node calls it when nodes or apps come and go.
   */
  setDirectory(directory: DnsDirectoryInput): Promise<void>;
  /** The snapshot answered from now. */
  zone(): Zone;
  /** Polls every status URL now and waits until the snapshot reflects the answers. */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/** Tries this many ports for `port: 0`: UDP picks a free one, TCP may find it taken. */
const PORT_ATTEMPTS = 20;

/**
 * Starts the nameserver: binds UDP and TCP, polls every status URL once (a URL that does not answer within
 * `statusTimeoutMs` just has no records yet), then serves.
 *
 * @example
 * const dns = await startDnsServer({ config: { zone: "apps.test", listen: { host: "127.0.0.1", port: 0 }, ... } });
 * // dig @127.0.0.1 -p ${dns.port} web.apps.test A
 * await dns.close();
 */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const config = parseDnsConfig(options.config);
  /** The current apps and nameservers (setDirectory), over the rest of the configuration. */
  let current: DnsConfig = config;
  const log = options.log ?? createLogger(config.logLevel);
  const answerOptions = { maxUdpPayload: config.maxUdpPayload };
  let serial = Math.floor(Date.now() / 1000);
  let signature = "";
  let cache = new AnswerCache(buildZone(config, new Map(), serial), answerOptions);

  const rebuild = () => {
    const apps = new Map<string, AppRecords>();
    for (const [app, statuses] of sources.fresh()) apps.set(app, appRecordsOf(statuses, current));
    const next = JSON.stringify([
      [...apps].sort(([a], [b]) => a.localeCompare(b)),
      current.apps.map((app) => app.name),
      current.nameservers,
    ]);
    if (next === signature) return;
    signature = next;
    // A serial that only moves forward, in seconds: the time of the change.
    serial = Math.max(serial + 1, Math.floor(Date.now() / 1000)) >>> 0;
    cache = new AnswerCache(buildZone(current, apps, serial), answerOptions);
    log.debug("zone rebuilt", { serial, apps: apps.size });
  };
  const sources = new StatusSources({
    apps: config.apps,
    pollIntervalMs: config.pollIntervalSec * 1000,
    timeoutMs: config.statusTimeoutMs,
    staleAfterMs: config.staleAfterSec * 1000,
    onPoll: rebuild,
    log,
    fetchStatus: options.fetchStatus,
  });

  const { udp, tcp, port } = await bind(config, () => cache, log);
  await sources.start();
  const { host } = config.listen;
  log.info("podnet-dns serving", { zone: config.zone, host, port, apps: config.apps.length });
  return {
    host,
    port,
    address: isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`,
    config,
    async setDirectory(directory) {
      const { apps, nameservers } = parseDnsDirectory(directory);
      current = { ...current, apps, nameservers };
      await sources.setApps(apps);
      rebuild();
    },
    zone: () => cache.zone,
    refresh: () => sources.pollAll(),
    async close() {
      sources.stop();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => {
          tcp.close(() => resolve());
          tcp.emit("podnet:close-all");
        }),
      ]);
    },
  };
}

async function bind(config: DnsConfig, current: () => AnswerCache, log: Logger) {
  const { host, port } = config.listen;
  for (let attempt = 0; ; attempt++) {
    const udp = await bindUdp(host, port, current, log);
    const udpPort = udp.address().port;
    try {
      const tcp = await bindTcp(host, udpPort, config, current);
      return { udp, tcp, port: udpPort };
    } catch (error) {
      udp.close();
      if (port !== 0 || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

function bindUdp(host: string, port: number, current: () => AnswerCache, log: Logger): Promise<UdpSocket> {
  const socket = createSocket({ type: isIP(host) === 6 ? "udp6" : "udp4" });
  socket.on("message", (message, peer) => {
    // Port 0 is no real sender (and a send to it fails).
    if (peer.port === 0) return;
    const answer = answerQuery(current(), message, "udp");
    if (answer) socket.send(answer, peer.port, peer.address);
  });
  socket.on("error", (error) => log.warn("UDP socket error", { error: error.message }));
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, host, () => {
      socket.off("error", reject);
      resolve(socket);
    });
  });
}

function bindTcp(host: string, port: number, config: DnsConfig, current: () => AnswerCache): Promise<TcpServer> {
  const connections = new Set<TcpSocket>();
  const server = createTcpServer({ noDelay: true }, (socket) => {
    connections.add(socket);
    socket.on("close", () => connections.delete(socket));
    serveTcp(socket, config, current);
  });
  // Past the limit Node closes a new connection at once (a flood of connections costs file descriptors, not memory).
  server.maxConnections = config.tcp.maxConnections;
  server.on("podnet:close-all", () => {
    for (const socket of connections) socket.destroy();
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host, exclusive: true }, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

/** Answers queued for a client that does not read, past which its connection is closed (it is not reading anyway). */
const MAX_TCP_BACKLOG = 1 << 20;

/**
 * Serves one TCP connection: 2-byte length, message; several queries may follow each other on it (RFC 7766). A
 * client gets `idleTimeoutMs` for each whole message, counted from its first byte or from the previous answer: an
 * idle client, a slow one sending byte by byte, and one whose length prefix promises more than it sends are closed.
 */
function serveTcp(socket: TcpSocket, config: DnsConfig, current: () => AnswerCache): void {
  const { idleTimeoutMs } = config.tcp;
  let pending = Buffer.alloc(0);
  let deadline = setTimeout(() => socket.destroy(), idleTimeoutMs);
  socket.on("close", () => clearTimeout(deadline));
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 2) {
      const length = pending.readUInt16BE(0);
      // A zero-length message has no header to answer: the client is not speaking DNS.
      if (length === 0) return socket.destroy();
      if (pending.length < 2 + length) break;
      const message = pending.subarray(2, 2 + length);
      pending = pending.subarray(2 + length);
      const answer = answerQuery(current(), message, "tcp");
      if (answer) {
        const frame = Buffer.allocUnsafe(2 + answer.length);
        frame.writeUInt16BE(answer.length, 0);
        answer.copy(frame, 2);
        socket.write(frame);
      }
      // A whole message arrived: the next one gets its own time.
      clearTimeout(deadline);
      deadline = setTimeout(() => socket.destroy(), idleTimeoutMs);
    }
    if (socket.writableLength > MAX_TCP_BACKLOG) socket.destroy();
  });
}
