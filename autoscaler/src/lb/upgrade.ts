import { type IncomingMessage, request, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { upstreamRequestHeaders } from "./headers.js";
import { type ProxyContext, pickBackend, upstreamPath } from "./proxy.js";

/**
 * An `Upgrade` request (WebSocket and the like): sent to one instance on a connection of its own; on its 101 the two
 * sockets are joined byte for byte until either side closes or both stay idle for `idleTimeoutMs`. Not retried: a
 * connection that failed is answered 502 and the instance is ejected like any failed request.
 */
export function proxyUpgrade(ctx: ProxyContext, req: IncomingMessage, client: Duplex, head: Buffer): void {
  // The HTTP server no longer watches an upgraded socket: without a listener, a client reset would crash the process.
  client.on("error", () => client.destroy());
  const refuse = (status: number, extra = ""): void => {
    client.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n${extra}\r\n`);
  };
  const path = upstreamPath(req.url, req.method);
  if (path === undefined) {
    refuse(400);
    return;
  }
  const backend = pickBackend(ctx.backends(), new Set(), Date.now(), ctx.cursor++);
  if (!backend) {
    refuse(503, `retry-after: ${Math.max(1, Math.ceil(ctx.config.pollIntervalMs / 1000))}\r\n`);
    return;
  }
  backend.outstanding++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    backend.outstanding--;
    ctx.released(backend);
  };
  const headers = upstreamRequestHeaders(req.headers, req.socket.remoteAddress, backend.hostHeader, ctx.trusted);
  headers.connection = "upgrade";
  if (req.headers.upgrade) headers.upgrade = req.headers.upgrade;
  const upstream = request({
    host: backend.connectHost,
    port: backend.connectPort,
    method: req.method,
    path,
    headers,
    agent: false,
    maxHeaderSize: ctx.config.maxHeaderBytes,
    timeout: ctx.config.connectTimeoutMs + ctx.config.responseHeadersTimeoutMs,
  });
  const eject = () => {
    if (ctx.config.ejectMs > 0) backend.ejectedUntil = Date.now() + ctx.config.ejectMs;
  };
  upstream.on("timeout", () => upstream.destroy(new Error("no answer in time")));
  upstream.on("error", () => {
    release();
    eject();
    if (client.writable) refuse(502);
  });
  client.once("close", () => upstream.destroy());
  // The instance declined the upgrade: its answer goes to the client as it is, then the connection closes.
  upstream.on("response", (answer) => {
    let text = `HTTP/1.1 ${answer.statusCode} ${answer.statusMessage ?? ""}\r\n`;
    for (let i = 0; i < answer.rawHeaders.length; i += 2) {
      const name = answer.rawHeaders[i] as string;
      if (/^(connection|keep-alive|transfer-encoding|upgrade)$/i.test(name)) continue;
      text += `${name}: ${answer.rawHeaders[i + 1]}\r\n`;
    }
    client.write(`${text}connection: close\r\n\r\n`);
    answer.pipe(client);
    answer.once("close", release);
  });
  upstream.on("upgrade", (answer, socket, upstreamHead) => {
    let text = `HTTP/1.1 101 ${answer.statusMessage ?? "Switching Protocols"}\r\n`;
    for (let i = 0; i < answer.rawHeaders.length; i += 2)
      text += `${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}\r\n`;
    client.write(`${text}\r\n`);
    if (upstreamHead.length > 0) client.write(upstreamHead);
    if (head.length > 0) socket.write(head);
    socket.on("error", () => socket.destroy());
    const idle = () => {
      socket.destroy();
      client.destroy();
    };
    socket.setTimeout(ctx.config.idleTimeoutMs, idle);
    client.on("timeout", idle);
    socket.pipe(client);
    client.pipe(socket);
    socket.once("close", () => {
      release();
      client.destroy();
    });
    client.once("close", () => socket.destroy());
  });
  upstream.end();
}
