import { Agent, createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { AppStatus, InstanceStatus } from "../status-wire.js";
import { LbConfigError, loadLbConfig, parseLbConfig } from "./config.js";
import { type LoadBalancer, startLoadBalancer } from "./lb.js";

// Real HTTP servers stand in for the instances (behind a provider's ingress) and for the autoscaler's /status; the
// balancer is the real one, reached over real sockets.

interface Instance {
  name: string;
  port: number;
  hostUrl: string;
  /** Requests seen, by method. */
  seen: Record<string, number>;
  /** Headers of the last request seen. */
  last: IncomingMessage["headers"] | undefined;
  lastUrl: string | undefined;
  /** What the instance does with a request now. */
  mode: "ok" | "silent" | "reset";
  /** Closes the listener and destroys every open connection (a killed provider). */
  kill(): Promise<void>;
  server: Server;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** An instance: answers `<name> <path>`; special paths give a huge body, a stalled body, or echo the upload size. */
async function startInstance(
  name: string,
  handler?: (req: IncomingMessage, res: ServerResponse, instance: Instance) => boolean,
): Promise<Instance> {
  const sockets = new Set<Socket>();
  const server = createServer();
  const instance: Instance = {
    name,
    port: 0,
    hostUrl: "",
    seen: {},
    last: undefined,
    lastUrl: undefined,
    mode: "ok",
    server,
    kill: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("request", (req, res) => {
    const method = req.method ?? "";
    instance.seen[method] = (instance.seen[method] ?? 0) + 1;
    instance.last = req.headers;
    instance.lastUrl = req.url;
    if (instance.mode === "silent") return;
    if (instance.mode === "reset") return void req.socket.destroy();
    if (handler?.(req, res, instance)) return;
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
    });
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/plain", "x-upload-bytes": String(size) });
      res.end(`${name} ${req.url}`);
    });
  });
  instance.port = await listen(server);
  instance.hostUrl = `http://127.0.0.1:${instance.port}/`;
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return instance;
}

const row = (hostUrl: string, extra: Partial<InstanceStatus> = {}): InstanceStatus => ({
  slot: 0,
  leaseId: "1",
  provider: "0x00000000000000000000000000000000000000bb",
  hostUrl,
  tcp: null,
  ingress: null,
  health: "healthy",
  lastProbe: null,
  ...extra,
});

const appStatus = (instances: InstanceStatus[]): AppStatus => ({
  vault: "0x00000000000000000000000000000000000000aa",
  chainId: 31337,
  desired: instances.length,
  instances,
  problems: [],
  lastPass: null,
});

/** A stand-in autoscaler `/status`: serves `body` (an object as JSON, a string as it is). */
interface StatusStub {
  url: string;
  set(body: unknown, code?: number): void;
  /** Holds the answers of requests from now on: each answers what was set when it arrived, once released. */
  hold(): void;
  /** Resolves once `count` requests are held. */
  held(count: number): Promise<void>;
  /** Sends the held answers and stops holding. */
  release(): void;
}

async function startStatus(initial: unknown): Promise<StatusStub> {
  let body = initial;
  let code = 200;
  let holding = false;
  const held: (() => void)[] = [];
  const server = createServer((_req, res) => {
    const [answerCode, answer] = [code, typeof body === "string" ? body : JSON.stringify(body)];
    const send = () => {
      res.writeHead(answerCode, { "content-type": "application/json" });
      res.end(answer);
    };
    if (holding) held.push(send);
    else send();
  });
  const port = await listen(server);
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    url: `http://127.0.0.1:${port}/status`,
    set: (next, nextCode = 200) => {
      body = next;
      code = nextCode;
    },
    hold: () => {
      holding = true;
    },
    held: async (count) => {
      while (held.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
    },
    release: () => {
      holding = false;
      for (const send of held.splice(0)) send();
    },
  };
}

async function startLb(statusUrl: string, options: Record<string, unknown> = {}): Promise<LoadBalancer> {
  const lb = await startLoadBalancer({ statusUrls: [statusUrl], port: 0, logLevel: "silent", ...options });
  cleanups.push(() => lb.stop());
  return lb;
}

const clientAgent = new Agent({ keepAlive: true, maxSockets: 64 });

interface Answer {
  status: number;
  headers: IncomingMessage["headers"];
  body: string;
}

/** One request through the balancer (node:http: fetch would not let a test set Host). */
function send(
  lb: LoadBalancer,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${lb.url}${path}`,
      { method: init.method ?? "GET", headers: init.headers, agent: clientAgent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

/** Raw bytes to the balancer; resolves with everything it answered until it closed (or `waitMs` passed). */
function sendRaw(lb: LoadBalancer, bytes: string, waitMs = 1_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(lb.port, "127.0.0.1");
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1");
    });
    const done = () => {
      socket.destroy();
      resolve(text);
    };
    socket.on("close", done);
    socket.on("error", done);
    setTimeout(done, waitMs);
    socket.write(bytes, "latin1");
  });
}

/**
 * GETs through the balancer from `workers` loops until `stop()` resolves; every answer that is not a 200 from an
 * instance, or a request that throws, is a failure.
 */
function steadyGets(lb: LoadBalancer, workers = 8) {
  let running = true;
  const failures: string[] = [];
  const servedBy: Record<string, number> = {};
  let total = 0;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      total++;
      try {
        const answer = await send(lb, "/steady");
        if (answer.status !== 200) failures.push(`${answer.status} ${answer.body}`);
        const by = answer.body.split(" ")[0] as string;
        servedBy[by] = (servedBy[by] ?? 0) + 1;
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return { failures, servedBy, total };
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("podnet-lb", () => {
  it("spreads requests over the instances and streams an upload through", async () => {
    const [a, b] = [await startInstance("a"), await startInstance("b")];
    const status = await startStatus(appStatus([row(a.hostUrl), row(b.hostUrl)]));
    const lb = await startLb(status.url);
    const bodies = await Promise.all(Array.from({ length: 10 }, () => send(lb, "/x")));
    expect(new Set(bodies.map((answer) => answer.body))).toEqual(new Set(["a /x", "b /x"]));
    const upload = await send(lb, "/up", { method: "POST", body: Buffer.alloc(5_000_000, 1) });
    expect(upload.headers["x-upload-bytes"]).toBe("5000000");
  });

  it("serves every GET while an instance is killed mid-stream (listener closed, sockets destroyed)", async () => {
    const [a, b] = [await startInstance("a"), await startInstance("b")];
    const status = await startStatus(appStatus([row(a.hostUrl), row(b.hostUrl)]));
    // The autoscaler keeps calling the dead instance healthy the whole time: only passive health can help.
    const lb = await startLb(status.url, { ejectMs: 60_000 });
    const load = steadyGets(lb);
    await sleep(400);
    await a.kill();
    await sleep(800);
    const { failures, servedBy, total } = await load.stop();
    expect(failures).toEqual([]);
    expect(total).toBeGreaterThan(100);
    expect(servedBy.a).toBeGreaterThan(0);
    expect(servedBy.b).toBeGreaterThan(0);
  });

  it("serves every GET while an instance goes silent (connections open, no answer)", async () => {
    const [a, b] = [await startInstance("a"), await startInstance("b")];
    const status = await startStatus(appStatus([row(a.hostUrl), row(b.hostUrl)]));
    const lb = await startLb(status.url, { ejectMs: 60_000, responseHeadersTimeoutMs: 300 });
    const load = steadyGets(lb);
    await sleep(400);
    a.mode = "silent";
    await sleep(1_200);
    const { failures, servedBy } = await load.stop();
    expect(failures).toEqual([]);
    expect(servedBy.b).toBeGreaterThan(0);
  });

  it("never retries a POST: the instance sees it once and the client gets a 502", async () => {
    const [a, b] = [await startInstance("a"), await startInstance("b")];
    a.mode = "reset";
    b.mode = "reset";
    const status = await startStatus(appStatus([row(a.hostUrl), row(b.hostUrl)]));
    const lb = await startLb(status.url);
    const answer = await send(lb, "/pay", { method: "POST", body: "once" });
    expect(answer.status).toBe(502);
    expect((a.seen.POST ?? 0) + (b.seen.POST ?? 0)).toBe(1);
    // The same failure on a GET is tried on the other instance, then reported as every instance failing.
    const get = await send(lb, "/read");
    expect(get.status).toBe(502);
    expect(JSON.parse(get.body)).toMatchObject({ error: "every instance failed" });
    expect((a.seen.GET ?? 0) + (b.seen.GET ?? 0)).toBe(2);
  });

  it("retries a POST whose connection was never made (nothing reached any instance)", async () => {
    const [a, b] = [await startInstance("a"), await startInstance("b")];
    const status = await startStatus(appStatus([row(a.hostUrl), row(b.hostUrl)]));
    const lb = await startLb(status.url);
    await a.kill();
    const answers = await Promise.all(Array.from({ length: 4 }, () => send(lb, "/pay", { method: "POST", body: "x" })));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(b.seen.POST).toBe(4);
  });

  it("answers 503 with Retry-After when no instance is known", async () => {
    const status = await startStatus(appStatus([]));
    const lb = await startLb(status.url, { pollIntervalMs: 3_000 });
    const answer = await send(lb, "/");
    expect(answer.status).toBe(503);
    expect(answer.headers["retry-after"]).toBe("3");
    expect(JSON.parse(answer.body)).toMatchObject({ error: "no instance of the app is known" });
  });

  it("refresh() takes a status read after the call, even while an older read is in flight", async () => {
    const a = await startInstance("a");
    const b = await startInstance("b");
    const status = await startStatus(appStatus([row(a.hostUrl)]));
    const lb = await startLb(status.url, { pollIntervalMs: 60_000 });
    // A read (the timer's, say) is under way with the old status when the status changes.
    status.hold();
    const older = lb.refresh();
    await status.held(1);
    status.set(appStatus([row(b.hostUrl)]));
    const newer = lb.refresh();
    status.release();
    await Promise.all([older, newer]);
    expect(lb.instances().map((i) => i.hostUrl)).toEqual([b.hostUrl]);
  });

  it("keeps the last good instance set when a status URL answers junk, an invalid status or an error", async () => {
    const a = await startInstance("a");
    const status = await startStatus(appStatus([row(a.hostUrl)]));
    const lb = await startLb(status.url, { pollIntervalMs: 60_000 });
    for (const [junk, code] of [
      ["<html>not json", 200],
      [{ ...appStatus([]), chainId: "x" }, 200],
      [appStatus([row("http://127.0.0.1:1/")]), 500],
    ] as const) {
      status.set(junk, code);
      await lb.refresh();
      expect((await send(lb, "/still")).body).toBe("a /still");
    }
    expect(lb.instances().map((i) => i.hostUrl)).toEqual([a.hostUrl]);
    // A good answer is taken again.
    status.set(appStatus([]));
    await lb.refresh();
    expect(lb.instances()).toEqual([]);
  });

  it("streams a huge response with backpressure: the balancer holds only a bounded part and keeps serving", async () => {
    let written = 0;
    const big = await startInstance("big", (req, res) => {
      if (req.url !== "/huge") return false;
      res.writeHead(200, { "content-type": "application/octet-stream" });
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (written < 1024 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
      return true;
    });
    const status = await startStatus(appStatus([row(big.hostUrl)]));
    const lb = await startLb(status.url);
    // A client that reads the headers, then nothing.
    const reader = await new Promise<IncomingMessage>((resolve) => request(`${lb.url}/huge`, resolve).end());
    reader.pause();
    await sleep(1_000);
    const during = await send(lb, "/small");
    expect(during.body).toBe("big /small");
    expect(written).toBeLessThan(64 * 1024 * 1024);
    reader.destroy();
  });

  it("cuts a response that stalls mid-body and frees the instance's connection", async () => {
    let instanceSawClose = false;
    const slow = await startInstance("slow", (req, res) => {
      if (req.url !== "/stall") return false;
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("first bytes");
      res.on("close", () => {
        instanceSawClose = true;
      });
      return true;
    });
    const status = await startStatus(appStatus([row(slow.hostUrl)]));
    const lb = await startLb(status.url, { idleTimeoutMs: 300 });
    const outcome = await new Promise<string>((resolve) => {
      request(`${lb.url}/stall`, { agent: false }, (res) => {
        res.resume();
        res.on("end", () => resolve("ended"));
        res.on("error", () => resolve("cut"));
        res.on("close", () => resolve("cut"));
      }).end();
    });
    expect(outcome).toBe("cut");
    await sleep(200);
    expect(instanceSawClose).toBe(true);
    expect((await send(lb, "/after")).body).toBe("slow /after");
  });

  it("routes by the instance's route, never by the client's Host or an absolute request target", async () => {
    // A provider's ingress: serves two tenants' pods on one port, by host (RFC 9112 §3.2.2: an absolute-form target
    // overrides Host, as a compliant server does).
    const tenants: Record<string, string> = { "app.pods.localhost": "app", "victim.pods.localhost": "victim secret" };
    const seenPaths: string[] = [];
    const ingress = createServer((req, res) => {
      const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
      seenPaths.push(req.url ?? "");
      res.end(tenants[url.hostname] ?? "no such pod");
    });
    const port = await listen(ingress);
    cleanups.push(() => {
      ingress.closeAllConnections();
      return new Promise<void>((resolve) => ingress.close(() => resolve()));
    });
    const status = await startStatus(
      appStatus([row(`http://app.pods.localhost:${port}/`, { ingress: { addresses: ["127.0.0.1"], port } })]),
    );
    const lb = await startLb(status.url);
    const spoofed = await send(lb, "/", {
      headers: { host: `victim.pods.localhost:${port}`, "x-forwarded-host": "victim.pods.localhost" },
    });
    expect(spoofed.body).toBe("app");
    const absolute = await sendRaw(
      lb,
      `GET http://victim.pods.localhost:${port}/secret HTTP/1.1\r\nHost: victim.pods.localhost\r\nConnection: close\r\n\r\n`,
    );
    expect(absolute).not.toContain("victim secret");
    expect(absolute).toMatch(/\r\n\r\napp$/);
    expect(seenPaths.at(-1)).toBe("/secret");
  });

  it("replaces forwarding headers a client forged and strips hop-by-hop headers both ways", async () => {
    const a = await startInstance("a", (req, res) => {
      if (req.url !== "/hop") return false;
      res.writeHead(200, { connection: "x-internal", "x-internal": "secret", "keep-alive": "timeout=99" });
      res.end("hop");
      return true;
    });
    const status = await startStatus(appStatus([row(a.hostUrl)]));
    const lb = await startLb(status.url);
    await send(lb, "/h", {
      headers: {
        "x-forwarded-for": "6.6.6.6",
        forwarded: "for=6.6.6.6",
        "x-real-ip": "6.6.6.6",
        "x-forwarded-proto": "https",
        connection: "keep-alive, x-drop-me",
        "x-drop-me": "1",
        "proxy-authorization": "Basic c2VjcmV0",
      },
    });
    expect(a.last?.["x-forwarded-for"]).toBe("127.0.0.1");
    expect(a.last?.["x-forwarded-proto"]).toBe("http");
    expect(a.last?.forwarded).toBeUndefined();
    expect(a.last?.["x-real-ip"]).toBeUndefined();
    expect(a.last?.["x-drop-me"]).toBeUndefined();
    expect(a.last?.["proxy-authorization"]).toBeUndefined();
    const hop = await send(lb, "/hop");
    expect(hop.headers["x-internal"]).toBeUndefined();
    expect(hop.headers["keep-alive"]).not.toBe("timeout=99");
    // A header split by a bare CR or LF never becomes a second header at the instance.
    const before = a.seen.GET ?? 0;
    const raw = await sendRaw(lb, "GET /inj HTTP/1.1\r\nHost: x\r\nX-A: a\rX-Injected: 1\r\nConnection: close\r\n\r\n");
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect(a.seen.GET ?? 0).toBe(before);
  });

  it("rejects request smuggling shapes with 400 before any instance sees them", async () => {
    const a = await startInstance("a");
    const status = await startStatus(appStatus([row(a.hostUrl)]));
    const lb = await startLb(status.url);
    const shapes = [
      // CL.TE: both framings.
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
      // Two different lengths.
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc",
      // An obfuscated Transfer-Encoding.
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
      // A bad chunk size.
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    ];
    for (const shape of shapes) expect(await sendRaw(lb, shape)).toMatch(/^HTTP\/1\.1 400/);
    expect(a.seen.POST).toBeUndefined();
    // A well-framed chunked body followed by a second request: the instance sees exactly two requests, each whole.
    const pipelined = await sendRaw(
      lb,
      "POST /one HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    expect(pipelined).toContain("a /one");
    expect(pipelined).toContain("a /two");
    expect(a.seen).toEqual({ POST: 1, GET: 1 });
  });

  it("answers 431 to a header block over maxHeaderBytes", async () => {
    const a = await startInstance("a");
    const status = await startStatus(appStatus([row(a.hostUrl)]));
    const lb = await startLb(status.url, { maxHeaderBytes: 4_096 });
    const raw = await sendRaw(lb, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(8_000)}\r\n\r\n`);
    expect(raw).toMatch(/^HTTP\/1\.1 431/);
    expect(a.seen.GET).toBeUndefined();
  });
});

describe("podnet-lb upgrades", () => {
  it("passes an Upgrade (WebSocket) connection through both ways, with the instance's Host", async () => {
    const a = await startInstance("a");
    let upgradeHost: string | undefined;
    a.server.on("upgrade", (req: IncomingMessage, socket: Socket) => {
      upgradeHost = req.headers.host;
      socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n");
      socket.on("data", (chunk) => socket.write(`echo:${chunk}`));
      // An HTTP server's sockets are half-open capable: an upgraded one must end its side when the peer ends.
      socket.on("end", () => socket.end());
      socket.on("error", () => socket.destroy());
    });
    const status = await startStatus(appStatus([row(a.hostUrl)]));
    const lb = await startLb(status.url);
    const socket = connect(lb.port, "127.0.0.1");
    cleanups.push(() => void socket.destroy());
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString();
    });
    socket.write("GET /ws HTTP/1.1\r\nHost: victim.example\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
    await until(() => text.includes("\r\n\r\n"));
    expect(text).toMatch(/^HTTP\/1\.1 101/);
    socket.write("ping");
    await until(() => text.includes("echo:ping"));
    expect(upgradeHost).toBe(`127.0.0.1:${a.port}`);
  });
});

async function until(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await sleep(20);
  }
}

describe("podnet-lb configuration", () => {
  it("names the bad field and where it came from", () => {
    expect(() => parseLbConfig({ statusUrls: ["ftp://x/status"] })).toThrow(/^statusUrls\.0: /);
    expect(() => parseLbConfig({ statusUrls: [] })).toThrow("statusUrls: at least one status URL");
    expect(() => parseLbConfig({ statusUrls: ["http://a/status"], maxAttempts: 0 })).toThrow(/^maxAttempts: /);
    expect(() => parseLbConfig({ statusUrls: ["http://a/status"], trustedProxies: ["10.0.0.0/99"] })).toThrow(
      "trustedProxies.0: not an IP address or CIDR range",
    );
    expect(() => parseLbConfig({ statusUrls: ["http://a/status"], colour: "red" })).toThrow(LbConfigError);
    expect(() => loadLbConfig({ env: {}, argv: [] })).toThrow("statusUrls: required");
    expect(() =>
      loadLbConfig({ env: { PODNET_LB_STATUS_URLS: "http://a/status" }, argv: ["--connect-timeout-ms", "fast"] }),
    ).toThrow("connectTimeoutMs: Invalid input: expected number, received NaN (--connect-timeout-ms)");
    expect(() => loadLbConfig({ env: {}, argv: ["--nope", "1"] })).toThrow("--nope: unknown flag");
    const config = loadLbConfig({
      env: { PODNET_LB_STATUS_URLS: "http://a/status, http://b/status", PODNET_LB_PORT: "9000" },
      argv: ["--port=9001", "--trusted-proxies", "10.0.0.0/8,::1"],
    });
    expect(config.statusUrls).toEqual(["http://a/status", "http://b/status"]);
    expect(config.port).toBe(9001);
    expect(config.trustedProxies).toEqual(["10.0.0.0/8", "::1"]);
  });
});
