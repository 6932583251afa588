import { type IncomingMessage, request, type ServerResponse } from "node:http";
import type { LbConfig } from "./config.js";
import { endToEndHeaders, type TrustedProxies, upstreamRequestHeaders } from "./headers.js";
import type { Backend } from "./instances.js";
import type { LbMetrics } from "./metrics.js";

export interface ProxyContext {
  config: LbConfig;
  backends(): readonly Backend[];
  released(backend: Backend): void;
  trusted: TrustedProxies;
  metrics: LbMetrics;
}

let cursor = 0;

export function proxyRequest(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): void {
  const backends = ctx.backends();
  if (backends.length === 0) {
    res.writeHead(503, { "content-type": "application/json" }).end('{"error":"no instance"}');
    return;
  }
  const backend = backends[cursor++ % backends.length] as Backend;
  const upstream = request(
    {
      host: backend.connectHost,
      port: backend.connectPort,
      method: req.method,
      path: req.url,
      headers: upstreamRequestHeaders(req.headers, req.socket.remoteAddress, backend.hostHeader, ctx.trusted),
      agent: backend.agent,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, endToEndHeaders(answer.headers));
      answer.pipe(res);
    },
  );
  upstream.on("error", () => {
    if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" }).end('{"error":"bad gateway"}');
    else res.destroy();
  });
  req.pipe(upstream);
}
