import { createServer, type IncomingHttpHeaders, type IncomingMessage, request, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { parseManifest } from "@podnet/sdk/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMetrics, type Metrics } from "../metrics.js";
import { TrustedProxies } from "../net/forwarded.js";
import { RouteTable } from "../pods/routes.js";
import { createIngress, defaultIngressOptions, type IngressOptions } from "./http-ingress.js";

const DOMAIN = "pods.localhost";
const HOST = `l1.${DOMAIN}`;

const manifest = parseManifest({
  version: 1,
  containers: [{ name: "web", image: `nginx@sha256:${"a".repeat(64)}`, resources: { cpuMillis: 100, memoryMiB: 64 } }],
  expose: { http: [{ container: "web", port: 80 }] },
});

let routes: RouteTable;
let metrics: Metrics;
let ingressPort: number;
const servers: Server[] = [];
const sockets: Socket[] = [];

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return (server.address() as AddressInfo).port;
}

beforeEach(async () => {
  routes = new RouteTable(DOMAIN);
  metrics = createMetrics();
  ingressPort = await listen(createIngress(routes, metrics));
});

/** Replaces the ingress of this test with one built with `options`. */
async function ingressWith(options: Partial<IngressOptions>): Promise<void> {
  ingressPort = await listen(createIngress(routes, metrics, options));
}

/** A raw TCP client of the ingress: what it received so far, and a promise of its close. */
function rawClient() {
  const client = connect(ingressPort, "127.0.0.1");
  sockets.push(client);
  const state = { received: "", closedAt: 0 };
  client.on("data", (chunk: Buffer) => {
    state.received += chunk.toString();
  });
  client.on("error", () => undefined);
  const closed = new Promise<void>((resolve) =>
    client.on("close", () => {
      state.closedAt = Date.now();
      resolve();
    }),
  );
  return { client, state, closed };
}

/** An upstream that answers upgrades with 101 and echoes; it counts the connections it holds open. */
async function echoUpgradeServer() {
  const held = { open: 0, received: "" };
  const server = createServer((_req, res) => res.writeHead(426).end());
  server.on("upgrade", (_req: IncomingMessage, socket: Socket) => {
    held.open++;
    socket.on("close", () => held.open--);
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => {
      held.received += chunk.toString();
    });
    socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n");
    socket.pipe(socket);
  });
  return { port: await listen(server), held };
}

const UPGRADE = `GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n`;

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise((done) => {
          server.closeAllConnections();
          server.close(done);
        }),
    ),
  );
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

async function readAnswer(res: IncomingMessage): Promise<Answer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() };
}

/** A request to the ingress with the given Host header; `write` may stream the body before it ends. */
function send(
  host: string,
  options: { method?: string; path?: string; headers?: Record<string, string> } = {},
  write: (req: ReturnType<typeof request>) => Promise<void> | void = (req) => {
    req.end();
  },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: ingressPort,
        method: options.method ?? "GET",
        path: options.path ?? "/",
        headers: { host, ...options.headers },
        agent: false,
      },
      (res) => readAnswer(res).then(resolve, reject),
    );
    req.on("error", reject);
    Promise.resolve(write(req)).catch(reject);
  });
}

/** A port nothing listens on: bound once, then closed. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

async function ingressCount(status: string): Promise<number> {
  const { values } = await metrics.ingressRequests.get();
  return values.find((v) => v.labels.status === status)?.value ?? 0;
}

const withTimeout = <T>(promise: Promise<T>, what: string, ms = 5000) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
  ]);

describe("createIngress", () => {
  it("proxies a request to the pod serving the Host header: status, body and headers", async () => {
    let seen: IncomingMessage | undefined;
    const upstream = await listen(
      createServer((req, res) => {
        seen = req;
        res.writeHead(201, { "x-pod": "web", "set-cookie": ["a=1", "b=2"], "content-type": "text/plain" });
        res.end(`hello from ${req.method} ${req.url}`);
      }),
    );
    routes.set("1", manifest, () => [`127.0.0.1:${upstream}`]);

    const answer = await send(`${HOST}:${ingressPort}`, {
      path: "/path?q=1",
      headers: { "x-custom": "yes", "x-forwarded-for": "10.0.0.1" },
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toBe("hello from GET /path?q=1");
    expect(answer.headers["x-pod"]).toBe("web");
    expect(answer.headers["set-cookie"]).toEqual(["a=1", "b=2"]);
    expect(answer.headers["content-type"]).toBe("text/plain");

    expect(seen?.headers.host).toBe(`${HOST}:${ingressPort}`);
    expect(seen?.headers["x-forwarded-host"]).toBe(`${HOST}:${ingressPort}`);
    // The client's own X-Forwarded-For is not believed (it trusts no proxy): the pod sees the client's address.
    expect(seen?.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(seen?.headers["x-custom"]).toBe("yes");
    expect(await ingressCount("201")).toBe(1);
  });

  it("sets x-forwarded-for to the client address when none came in", async () => {
    let forwardedFor: string | string[] | undefined;
    const upstream = await listen(
      createServer((req, res) => {
        forwardedFor = req.headers["x-forwarded-for"];
        res.end();
      }),
    );
    routes.set("1", manifest, () => [`127.0.0.1:${upstream}`]);
    expect((await send(HOST)).status).toBe(200);
    expect(forwardedFor).toBe("127.0.0.1");
  });

  it("streams a POST body through to the pod as it arrives", async () => {
    let firstChunk: () => void = () => {};
    const gotFirstChunk = new Promise<void>((resolve) => {
      firstChunk = resolve;
    });
    const upstream = await listen(
      createServer(async (req, res) => {
        const parts: Buffer[] = [];
        for await (const chunk of req) {
          parts.push(chunk as Buffer);
          firstChunk();
        }
        const body = Buffer.concat(parts);
        res.end(`${req.method} ${body.length} ${body.subarray(0, 5).toString()}..${body.subarray(-5).toString()}`);
      }),
    );
    routes.set("1", manifest, () => [`127.0.0.1:${upstream}`]);

    const first = Buffer.from("start");
    const rest = Buffer.alloc(200_000, "x");
    const answer = await send(
      HOST,
      { method: "POST", headers: { "content-type": "application/octet-stream" } },
      async (req) => {
        req.write(first);
        // The pod sees the first part before the client has sent the rest: the ingress does not buffer bodies.
        await withTimeout(gotFirstChunk, "the pod receiving the first part of the body");
        req.write(rest);
        req.end(Buffer.from("final"));
      },
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toBe(`POST ${first.length + rest.length + 5} start..final`);
  });

  it("spreads requests over the replicas of a pod", async () => {
    const replica = (name: string) => listen(createServer((_req, res) => res.end(name)));
    const a = await replica("a");
    const b = await replica("b");
    routes.set("1", manifest, () => [`127.0.0.1:${a}`, `127.0.0.1:${b}`]);
    const bodies: string[] = [];
    for (let i = 0; i < 4; i++) bodies.push((await send(HOST)).body);
    expect(bodies).toEqual(["a", "b", "a", "b"]);
  });

  it("answers 404 naming the host when no pod serves it", async () => {
    const answer = await send("l99.pods.localhost");
    expect(answer.status).toBe(404);
    expect(answer.body).toBe("no pod serves host l99.pods.localhost\n");
    expect(await ingressCount("404")).toBe(1);
  });

  it("proves a custom host its lease has not proven yet on the first request for it, then serves it", async () => {
    const proven = new Set<string>();
    let lookups = 0;
    routes = new RouteTable(
      DOMAIN,
      (host, leaseId) => proven.has(`${host} ${leaseId}`),
      async (host, leaseId) => {
        lookups++;
        proven.add(`${host} ${leaseId}`); // App DNS has published the lease's record meanwhile
        return true;
      },
    );
    await ingressWith({});
    const withHost = parseManifest({
      ...manifest,
      expose: { http: [{ container: "web", port: 80, host: "app.example.com" }] },
    });
    const a = await listen(createServer((_req, res) => res.end("a")));
    routes.set("1", withHost, () => [`127.0.0.1:${a}`]);
    const answer = await send("app.example.com");
    expect(answer.status).toBe(200);
    expect(answer.body).toBe("a");
    // A host no lease declares is still a 404, and looks nothing up.
    expect((await send("other.example.com")).status).toBe(404);
    expect(lookups).toBe(1);
  });

  it("answers 502 when the pod does not answer", async () => {
    const port = await deadPort();
    routes.set("1", manifest, () => [`127.0.0.1:${port}`]);
    const answer = await send(HOST);
    expect(answer.status).toBe(502);
    expect(answer.body).toMatch(/^pod did not answer: .*ECONNREFUSED/);
    expect(await ingressCount("502")).toBe(1);
  });

  it("pipes an upgraded connection (WebSocket style) both ways", async () => {
    let upgradeRequest: IncomingMessage | undefined;
    const upstreamServer = createServer((_req, res) => res.writeHead(426).end());
    upstreamServer.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
      upgradeRequest = req;
      socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n");
      if (head.length > 0) socket.write(head);
      socket.pipe(socket);
    });
    const upstream = await listen(upstreamServer);
    routes.set("1", manifest, () => [`127.0.0.1:${upstream}`]);

    const client = connect(ingressPort, "127.0.0.1");
    sockets.push(client);
    let received = "";
    const waitFor = (text: string) =>
      withTimeout(
        new Promise<void>((resolve) => {
          const check = () => {
            if (received.includes(text)) {
              client.off("data", onData);
              resolve();
            }
          };
          const onData = (chunk: Buffer) => {
            received += chunk.toString();
            check();
          };
          client.on("data", onData);
          check();
        }),
        `"${text}" through the upgraded connection`,
      );
    const switched = waitFor("\r\n\r\n");
    client.write(
      `GET /socket?x=1 HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly-bytes`,
    );
    await switched;
    expect(received).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    await waitFor("early-bytes");

    client.write("ping-1");
    await waitFor("ping-1");
    client.write("ping-2");
    await waitFor("ping-2");

    expect(upgradeRequest?.url).toBe("/socket?x=1");
    expect(upgradeRequest?.headers.host).toBe(HOST);
    expect(upgradeRequest?.headers.upgrade).toBe("echo");
  });

  it("refuses an upgrade for an unknown host with 404", async () => {
    const client = connect(ingressPort, "127.0.0.1");
    sockets.push(client);
    let received = "";
    client.on("data", (chunk: Buffer) => {
      received += chunk.toString();
    });
    const closed = new Promise<void>((resolve) => client.on("close", () => resolve()));
    client.write("GET / HTTP/1.1\r\nHost: nobody.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    await withTimeout(closed, "the ingress closing the connection");
    expect(received).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
  });

  it("drops a client's forwarding headers and believes them only from a trusted proxy", async () => {
    const seen: IncomingHttpHeaders[] = [];
    const upstream = await listen(
      createServer((req, res) => {
        seen.push(req.headers);
        res.end();
      }),
    );
    routes.set("1", manifest, () => [`127.0.0.1:${upstream}`]);
    const spoofed = {
      "x-forwarded-for": "203.0.113.9",
      "x-real-ip": "203.0.113.9",
      forwarded: "for=203.0.113.9",
      "x-forwarded-proto": "https",
    };
    expect((await send(HOST, { headers: spoofed })).status).toBe(200);
    expect(seen[0]?.["x-forwarded-for"]).toBe("127.0.0.1");
    for (const name of ["x-real-ip", "forwarded", "x-forwarded-proto"]) expect(seen[0]).not.toHaveProperty(name);

    // Behind a proxy the operator trusts (here: loopback), the chain is kept and the proxy appended.
    await ingressWith({ trustedProxies: new TrustedProxies(["127.0.0.0/8"]) });
    expect((await send(HOST, { headers: spoofed })).status).toBe(200);
    expect(seen[1]?.["x-forwarded-for"]).toBe("203.0.113.9, 127.0.0.1");
    expect(seen[1]?.["x-forwarded-proto"]).toBe("https");
  });

  it("rewrites the forwarding headers of an upgrade request too", async () => {
    let upgradeHeaders: IncomingHttpHeaders | undefined;
    const server = createServer();
    server.on("upgrade", (req: IncomingMessage, socket: Socket) => {
      upgradeHeaders = req.headers;
      socket.end("HTTP/1.1 101 Switching Protocols\r\n\r\n");
    });
    const port = await listen(server);
    routes.set("1", manifest, () => [`127.0.0.1:${port}`]);
    const { client, closed } = rawClient();
    client.write(
      `GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade\r\nUpgrade: echo\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n`,
    );
    await withTimeout(closed, "the upgraded connection to end");
    expect(upgradeHeaders?.["x-forwarded-for"]).toBe("127.0.0.1");
  });

  it("cuts a client that trickles its request headers (slowloris) at the header deadline", async () => {
    await ingressWith({ limits: { ...defaultIngressOptions().limits, headersTimeoutMs: 600 } });
    const { client, state, closed } = rawClient();
    const started = Date.now();
    const trickle = setInterval(() => client.write("X-Slow: a\r\n"), 100);
    client.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n`);
    await withTimeout(closed, "the ingress cutting the slow client", 4_000).finally(() => clearInterval(trickle));
    // Steady bytes do not buy time: the deadline counts from the first byte.
    expect(state.closedAt - started).toBeLessThan(2_500);
  });

  it("closes an upgraded connection that stays idle, on both sides", async () => {
    const { port, held } = await echoUpgradeServer();
    routes.set("1", manifest, () => [`127.0.0.1:${port}`]);
    await ingressWith({ upgradeIdleTimeoutMs: 400 });
    const { client, state, closed } = rawClient();
    client.write(UPGRADE);
    await withTimeout(
      new Promise<void>((resolve) => client.once("data", () => resolve())),
      "the 101 through the ingress",
    );
    expect(state.received).toMatch(/^HTTP\/1\.1 101/);
    // Traffic keeps it open past the deadline ...
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      client.write(`ping-${i}`);
    }
    expect(state.closedAt).toBe(0);
    // ... silence closes it.
    await withTimeout(closed, "the ingress closing the idle upgraded connection", 3_000);
    await withTimeout(
      (async () => {
        while (held.open > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      })(),
      "the pod's side to close too",
    );
  });

  it("refuses upgrades past a lease's cap with 503, and takes new ones once one closed", async () => {
    const { port, held } = await echoUpgradeServer();
    routes.set("1", manifest, () => [`127.0.0.1:${port}`]);
    await ingressWith({ maxUpgradesPerLease: 2 });
    const open = [rawClient(), rawClient()];
    for (const c of open) c.client.write(UPGRADE);
    await withTimeout(
      (async () => {
        while (held.open < 2) await new Promise((resolve) => setTimeout(resolve, 20));
      })(),
      "two upgrades through",
    );
    const third = rawClient();
    third.client.write(UPGRADE);
    await withTimeout(third.closed, "the third upgrade refused");
    expect(third.state.received).toMatch(/^HTTP\/1\.1 503 /);
    expect(held.open).toBe(2);

    open[0]?.client.destroy();
    await withTimeout(
      (async () => {
        while (held.open > 1) await new Promise((resolve) => setTimeout(resolve, 20));
      })(),
      "the first upgrade closed",
    );
    const fourth = rawClient();
    fourth.client.write(UPGRADE);
    await withTimeout(
      new Promise<void>((resolve) => fourth.client.once("data", () => resolve())),
      "the fourth upgrade's answer",
    );
    expect(fourth.state.received).toMatch(/^HTTP\/1\.1 101/);
  });

  it("answers 504 when the pod accepts but does not answer in time", async () => {
    const silent = await listen(createServer(() => undefined));
    routes.set("1", manifest, () => [`127.0.0.1:${silent}`]);
    await ingressWith({ upstreamTimeoutMs: 300 });
    const answer = await withTimeout(send(HOST), "the ingress giving up on the pod");
    expect(answer.status).toBe(504);
    expect(answer.body).toMatch(/^pod did not answer: no answer within 0\.3 s/);
  });

  it("closes connections beyond its cap at once", async () => {
    await ingressWith({ limits: { ...defaultIngressOptions().limits, maxConnections: 2 } });
    const held = [rawClient(), rawClient()];
    for (const c of held) c.client.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const extra = rawClient();
    await withTimeout(extra.closed, "the connection over the cap closed");
    expect(extra.state.received).toBe("");
    for (const c of held) expect(c.state.closedAt).toBe(0);
    const { values } = await metrics.connectionsRefused.get();
    expect(values.find((v) => v.labels.reason === "connections")?.value).toBe(1);
  });

  it("releases the pod's connection when the client goes away mid-request", async () => {
    let podSocketClosed: () => void = () => {};
    const podClosed = new Promise<void>((resolve) => {
      podSocketClosed = resolve;
    });
    const upstream = await listen(
      createServer((req) => {
        req.socket.on("close", () => podSocketClosed());
      }),
    );
    routes.set("1", manifest, () => [`127.0.0.1:${upstream}`]);
    const { client } = rawClient();
    client.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    client.destroy();
    await withTimeout(podClosed, "the pod's connection closed after the client left");
  });

  it("survives clients that reset upgrades it refuses (no unhandled socket error)", async () => {
    const { port } = await echoUpgradeServer();
    routes.set("1", manifest, () => [`127.0.0.1:${port}`]);
    await ingressWith({ maxUpgradesPerLease: 1 });
    const first = rawClient();
    first.client.write(UPGRADE);
    await withTimeout(new Promise<void>((resolve) => first.client.once("data", () => resolve())), "the first upgrade");
    const errors: unknown[] = [];
    const onError = (error: unknown) => errors.push(error);
    process.on("uncaughtException", onError);
    try {
      for (let i = 0; i < 50; i++) {
        const { client } = rawClient();
        // Refused (over the cap, or an unknown host), and reset before the refusal is written.
        client.write(i % 2 === 0 ? UPGRADE : UPGRADE.replace(HOST, "nobody.example"), () => client.resetAndDestroy());
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      process.off("uncaughtException", onError);
    }
    expect(errors).toEqual([]);
    const { port: plain } = { port: await listen(createServer((_req, res) => res.end("still here"))) };
    routes.set("2", manifest, () => [`127.0.0.1:${plain}`]);
    expect((await send("l2.pods.localhost")).body).toBe("still here");
  });

  it("closes both sides of an upgraded connection when the client ends its side", async () => {
    const { port, held } = await echoUpgradeServer();
    routes.set("1", manifest, () => [`127.0.0.1:${port}`]);
    const { client, state } = rawClient();
    client.write(UPGRADE);
    await withTimeout(
      (async () => {
        while (!state.received.includes("\r\n\r\n")) await new Promise((resolve) => setTimeout(resolve, 10));
      })(),
      "the 101",
    );
    expect(held.open).toBe(1);
    client.end("last words");
    await withTimeout(
      (async () => {
        while (held.open > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      })(),
      "the pod's side closed after the client's FIN",
    );
    // What the client sent before it left still reached the pod.
    expect(held.received).toContain("last words");
  });
});
