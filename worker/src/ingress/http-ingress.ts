import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import { connect } from "node:net";
import type { Metrics } from "../metrics.js";
import type { RouteTable } from "../pods/routes.js";
import { narrowCookies } from "./cookies.js";

/**
 * The pods' HTTP ingress: routes a request by its Host header to a replica of the pod that serves that host
 * (round robin), streaming bodies both ways; WebSocket and other upgrades are piped as raw TCP. Unknown hosts get a
 * 404 naming the host; a pod that does not answer gets a 502.
 */
export function createIngress(routes: RouteTable, metrics: Metrics): Server {
  const server = createServer((req, res) => forward(routes, metrics, req, res));
  server.on("upgrade", (req, socket, head) => {
    const target = routes.resolve(req.headers.host);
    if (!target) {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n");
      return;
    }
    const [host, port] = target.split(":") as [string, string];
    const upstream = connect(Number(port), host, () => {
      const headers = Object.entries(req.headers)
        .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : v}`)
        .join("\r\n");
      upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    const close = () => {
      upstream.destroy();
      socket.destroy();
    };
    upstream.on("error", close);
    socket.on("error", close);
  });
  return server;
}

function forward(routes: RouteTable, metrics: Metrics, req: IncomingMessage, res: ServerResponse) {
  const target = routes.resolve(req.headers.host);
  if (!target) {
    metrics.ingressRequests.inc({ status: "404" });
    res.writeHead(404, { "content-type": "text/plain" }).end(`no pod serves host ${req.headers.host ?? "(none)"}\n`);
    return;
  }
  const [host, port] = target.split(":") as [string, string];
  const forwardedFor = [req.headers["x-forwarded-for"], req.socket.remoteAddress].filter(Boolean).join(", ");
  const upstream = request(
    {
      host,
      port: Number(port),
      method: req.method,
      path: req.url,
      headers: { ...req.headers, "x-forwarded-for": forwardedFor, "x-forwarded-host": req.headers.host ?? "" },
    },
    (answer) => {
      metrics.ingressRequests.inc({ status: String(answer.statusCode ?? 0) });
      const cookies = answer.headers["set-cookie"];
      if (cookies) answer.headers["set-cookie"] = narrowCookies(cookies, req.headers.host ?? "");
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on("error", (error) => {
    metrics.ingressRequests.inc({ status: "502" });
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
    res.end(`pod did not answer: ${error.message}\n`);
  });
  req.pipe(upstream);
}
