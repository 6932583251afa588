import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApiErrorBody } from "@podnet/sdk/protocol";
import { privateKeyToAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stubAdminConfig, stubContextBase, stubReconciler } from "../api/stub-context.js";
import type { WorkerConfig } from "../config.js";
import type { WorkerContext } from "../context.js";
import { createLogger } from "../log.js";
import { RouteTable } from "../pods/routes.js";
import { createAdminApi } from "./app.js";
import { consoleLink } from "./console-command.js";
import { linksDir } from "./sign-in-links.js";

// The admin API's authentication against a stub worker (no chain, no Docker): every attack on sign-in, sessions,
// CSRF and tokens. Pausing the listing and the money actions for real are test/admin-actions.test.ts's (anvil and the contracts).

const provider = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const stranger = privateKeyToAccount("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");
const chainId = 31337;
const ORIGIN = "http://127.0.0.1:7071";
const SESSION_TTL_SEC = 3600;

let dataDir: string;
let clock: number;
let logLines: string[];
let ctx: WorkerContext;
let admin: ReturnType<typeof createAdminApi>;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "podnet-admin-"));
  clock = Date.UTC(2026, 0, 1);
  logLines = [];
  ctx = {
    config: stubAdminConfig(dataDir, SESSION_TTL_SEC),
    chain: {
      account: provider,
      chainId,
      deployment: {
        contracts: { podnetMarket: { address: provider.address }, paymentToken: { address: stranger.address } },
      },
      publicClient: {
        readContract: async () => ({ free: 5n, locked: 2n, unbonding: 1n, jailed: false, lastHeartbeat: 100n }),
      },
    },
    state: {
      data: {
        cursor: 5,
        lastWithdrawAt: 0,
        liveness: {},
        leases: {
          "7": {
            id: "7",
            publisher: stranger.address,
            pricePerSecond: "12",
            startedAt: 50,
            status: "active",
          },
          "8": { id: "8", publisher: stranger.address, pricePerSecond: "1", startedAt: 1, status: "closed" },
        },
      },
    },
    runtime: { ping: async () => undefined },
    ...stubContextBase(),
    log: createLogger("debug", (line) => logLines.push(line)),
    params: { heartbeatThreshold: 600n },
    profile: { registered: true, active: true, endpoint: "http://provider.test" },
    chainNow: () => 160,
  } as unknown as WorkerContext;
  admin = createAdminApi({
    ctx,
    reconciler: stubReconciler(),
    ingressRoutes: new RouteTable("pods.localhost"),
    origins: () => [ORIGIN],
    now: () => clock,
  });
});

afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

interface Call {
  method?: string;
  body?: unknown;
  cookie?: string;
  csrf?: string;
  origin?: string | null;
  bearer?: string;
  host?: string;
}

function call(path: string, { method = "GET", body, cookie, csrf, origin, bearer, host }: Call = {}) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (cookie) headers.cookie = cookie;
  if (csrf) headers["x-csrf-token"] = csrf;
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  // Browsers send Origin on every POST; null here means a request that has none.
  const sentOrigin = origin === undefined ? (method === "GET" ? undefined : ORIGIN) : origin;
  if (sentOrigin) headers.origin = sentOrigin;
  return admin.request(`http://${host ?? "127.0.0.1:7071"}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

function linkToken() {
  const printed = consoleLink(ctx.config as WorkerConfig, clock);
  const token = /#token=([\w-]+)/.exec(printed)?.[1];
  if (!token) throw new Error(`no token in ${printed}`);
  return token;
}

async function signIn(): Promise<{ cookie: string; csrf: string; id: string }> {
  const res = await call("/admin/v1/sign-in/link", { method: "POST", body: { token: linkToken() } });
  expect(res.status).toBe(200);
  const setCookie = res.headers.get("set-cookie") ?? "";
  const id = /podnet_admin=([^;]+)/.exec(setCookie)?.[1] as string;
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie: `podnet_admin=${id}`, csrf: csrfToken, id };
}

function createToken(session: { cookie: string; csrf: string }, body: unknown) {
  return call("/admin/v1/tokens", { method: "POST", cookie: session.cookie, csrf: session.csrf, body });
}

async function errorOf(res: Response) {
  return ((await res.json()) as ApiErrorBody).error.message;
}

async function siweMessage(overrides: Partial<Parameters<typeof createSiweMessage>[0]> = {}) {
  const res = await call("/admin/v1/sign-in/siwe/nonce");
  const { nonce } = (await res.json()) as { nonce: string };
  return createSiweMessage({
    address: provider.address,
    chainId,
    domain: "127.0.0.1:7071",
    uri: `${ORIGIN}/admin`,
    nonce,
    version: "1",
    issuedAt: new Date(clock),
    expirationTime: new Date(clock + 5 * 60_000),
    ...overrides,
  });
}

function siwePost(message: string, signature: string) {
  return call("/admin/v1/sign-in/siwe", { method: "POST", body: { message, signature } });
}

describe("sign-in link", () => {
  it("opens a session once: HttpOnly, SameSite=Strict cookie scoped to /admin; the link is refused when replayed", async () => {
    const token = linkToken();
    const first = await call("/admin/v1/sign-in/link", { method: "POST", body: { token } });
    expect(first.status).toBe(200);
    const cookie = first.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/admin/);
    expect(cookie).toMatch(/Max-Age=3600/);
    const replay = await call("/admin/v1/sign-in/link", { method: "POST", body: { token } });
    expect(replay.status).toBe(401);
    expect(await errorOf(replay)).toMatch(/^token: unknown, used or expired/);
  });

  it("refuses an expired link", async () => {
    const token = linkToken();
    clock += 600_000;
    const res = await call("/admin/v1/sign-in/link", { method: "POST", body: { token } });
    expect(res.status).toBe(401);
  });

  it("refuses a made-up token and a path-shaped one", async () => {
    for (const token of ["A".repeat(43), "../../tokens.json", 42]) {
      const res = await call("/admin/v1/sign-in/link", { method: "POST", body: { token } });
      expect(res.status).toBe(401);
    }
  });

  it("keeps only the link's hash on disk, never the token", async () => {
    const token = linkToken();
    const files = readdirSync(linksDir(dataDir));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(join(linksDir(dataDir), files[0] as string), "utf8")).not.toContain(token);
    expect(files[0]).not.toContain(token);
  });

  it("rate-limits sign-in attempts per source: the 11th guess in a row is 429 with Retry-After", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const res = await call("/admin/v1/sign-in/link", { method: "POST", body: { token: "B".repeat(43) } });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
    // Even a valid link waits: guessing is not cheaper than waiting.
    const valid = await call("/admin/v1/sign-in/link", { method: "POST", body: { token: linkToken() } });
    expect(valid.status).toBe(429);
  });
});

describe("Sign-In with Ethereum", () => {
  it("opens a session for a message signed by the provider key", async () => {
    const message = await siweMessage();
    const res = await siwePost(message, await provider.signMessage({ message }));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { via: string }).via).toBe(`siwe:${provider.address}`);
  });

  it("refuses a replayed nonce", async () => {
    const message = await siweMessage();
    const signature = await provider.signMessage({ message });
    expect((await siwePost(message, signature)).status).toBe(200);
    const replay = await siwePost(message, signature);
    expect(replay.status).toBe(401);
    expect(await errorOf(replay)).toMatch(/^nonce:/);
  });

  it("refuses a nonce it never issued, and one past its lifetime", async () => {
    const made = createSiweMessage({
      address: provider.address,
      chainId,
      domain: "127.0.0.1:7071",
      uri: ORIGIN,
      nonce: "madeup12345678",
      version: "1",
    });
    expect(await errorOf(await siwePost(made, await provider.signMessage({ message: made })))).toMatch(/^nonce:/);
    const message = await siweMessage({ expirationTime: new Date(clock + 3600_000) });
    clock += 6 * 60_000;
    expect(await errorOf(await siwePost(message, await provider.signMessage({ message })))).toMatch(/^nonce:/);
  });

  it("refuses another key's signature, another address, domain, uri or chain, and an expired message", async () => {
    const cases: [Partial<Parameters<typeof createSiweMessage>[0]>, typeof provider, RegExp][] = [
      [{}, stranger, /^signature: not signed by this provider's key/],
      [{ address: stranger.address }, stranger, /^address:/],
      [{ domain: "evil.example" }, provider, /^message: wrong domain/],
      [{ uri: "https://evil.example/admin" }, provider, /^uri:/],
      [{ chainId: 1 }, provider, /^chainId: must be 31337/],
      [{ expirationTime: new Date(clock - 1000) }, provider, /^message: wrong domain, expired/],
      [{ notBefore: new Date(clock + 60_000) }, provider, /^message: wrong domain, expired/],
    ];
    for (const [overrides, signer, reason] of cases) {
      const message = await siweMessage(overrides);
      const res = await siwePost(message, await signer.signMessage({ message }));
      expect(res.status, JSON.stringify(overrides)).toBe(401);
      expect(await errorOf(res)).toMatch(reason);
    }
  });

  it("names the field of a malformed attempt", async () => {
    const res = await siwePost("hello", "0x1234");
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatch(/^signature:/);
  });
});

describe("sessions", () => {
  it("a session reads the overview: registration, stake, heartbeat against the threshold, health, version", async () => {
    const { cookie } = await signIn();
    const res = await call("/admin/v1/overview", { cookie });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      provider: provider.address,
      chainId,
      registration: { registered: true, status: "active", paused: false },
      jailed: false,
      stake: { free: "5", locked: "2", unbonding: "1", lastHeartbeat: 100 },
      heartbeat: { last: 100, ageSec: 60, thresholdSec: 600 },
      health: { status: "ok", docker: "ok", chain: { state: "ok" }, indexer: { used: false } },
    });
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    const leases = await call("/admin/v1/leases", { cookie });
    expect(await leases.json()).toMatchObject({
      leases: [
        {
          id: "7",
          publisher: stranger.address,
          pricePerSecond: "12",
          startedAt: 50,
          runsOutAt: null,
          phase: "pending",
        },
      ],
    });
  });

  it("does not rate-limit a signed-out console loading its pages: only wrong credentials cost", async () => {
    // The console asks GET /session on every load; signed out, that is a 401 with no credential guessed.
    for (let i = 0; i < 15; i++) expect((await call("/admin/v1/session")).status).toBe(401);
    const res = await call("/admin/v1/sign-in/link", { method: "POST", body: { token: linkToken() } });
    expect(res.status).toBe(200);
    // A forged cookie is a guess: those still cost, and the 11th in a row waits.
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await call("/admin/v1/overview", { cookie: `podnet_admin=${"D".repeat(43)}` })).status);
    }
    expect(statuses.slice(0, 9).every((s) => s === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
  });

  it("refuses a forged cookie and no cookie", async () => {
    expect((await call("/admin/v1/overview", { cookie: `podnet_admin=${"C".repeat(43)}` })).status).toBe(401);
    expect((await call("/admin/v1/overview", { cookie: "podnet_admin=" })).status).toBe(401);
    expect((await call("/admin/v1/overview")).status).toBe(401);
  });

  it("expires a session after adminSessionTtlSec, however much it is used", async () => {
    const { cookie } = await signIn();
    clock += (SESSION_TTL_SEC - 1) * 1000;
    expect((await call("/admin/v1/overview", { cookie })).status).toBe(200);
    clock += 1000;
    expect((await call("/admin/v1/overview", { cookie })).status).toBe(401);
  });

  it("signs out: the cookie is refused afterwards", async () => {
    const { cookie, csrf } = await signIn();
    expect((await call("/admin/v1/sign-out", { method: "POST", cookie, csrf })).status).toBe(200);
    expect((await call("/admin/v1/overview", { cookie })).status).toBe(401);
  });

  it("refuses a request naming another host (DNS rebinding)", async () => {
    const { cookie } = await signIn();
    const res = await call("/admin/v1/overview", { cookie, host: "rebind.evil.example:7071" });
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatch(/^host:/);
  });
});

describe("CSRF", () => {
  it("refuses a state-changing request without the session's CSRF token, with another's, or from another origin", async () => {
    const mine = await signIn();
    const other = await signIn();
    const pause = (extra: Call) => call("/admin/v1/listing/pause", { method: "POST", cookie: mine.cookie, ...extra });
    const missing = await pause({});
    expect(missing.status).toBe(403);
    expect(await errorOf(missing)).toMatch(/^x-csrf-token:/);
    expect((await pause({ csrf: "D".repeat(43) })).status).toBe(403);
    expect((await pause({ csrf: other.csrf })).status).toBe(403);
    const crossOrigin = await pause({ csrf: mine.csrf, origin: "https://evil.example" });
    expect(crossOrigin.status).toBe(403);
    expect(await errorOf(crossOrigin)).toMatch(/^origin:/);
    expect((await pause({ csrf: mine.csrf, origin: null })).status).toBe(403);
    // The same session with its token and origin gets through (to the token route: no chain here).
    const created = await call("/admin/v1/tokens", {
      method: "POST",
      cookie: mine.cookie,
      csrf: mine.csrf,
      body: { name: "ok", scopes: ["read"], expiresIn: 3600 },
    });
    expect(created.status).toBe(201);
  });
});

describe("addon tokens", () => {
  it("a token reads with its scope, is refused without it, cannot make tokens, and is refused once revoked", async () => {
    const session = await signIn();
    const res = await createToken(session, { name: "alerts", scopes: ["read"], expiresIn: 3600 });
    const { id, token, scopes } = (await res.json()) as { id: string; token: string; scopes: string[] };
    expect(scopes).toEqual(["read"]);
    expect((await call("/admin/v1/overview", { bearer: token })).status).toBe(200);
    const wrongScope = await call("/admin/v1/listing/pause", { method: "POST", bearer: token });
    expect(wrongScope.status).toBe(403);
    expect(await errorOf(wrongScope)).toMatch(/lacks the scope listing/);
    const mint = await call("/admin/v1/tokens", {
      method: "POST",
      bearer: token,
      body: { name: "more", scopes: ["listing"], expiresIn: 3600 },
    });
    expect(mint.status).toBe(403);
    expect(await errorOf(mint)).toMatch(/tokens cannot manage tokens/);
    expect((await call("/admin/v1/tokens", { bearer: token })).status).toBe(403);
    expect((await call(`/admin/v1/tokens/${id}`, { method: "DELETE", bearer: token })).status).toBe(403);
    const revoked = await call(`/admin/v1/tokens/${id}`, { method: "DELETE", ...session });
    expect(revoked.status).toBe(200);
    expect((await call("/admin/v1/overview", { bearer: token })).status).toBe(401);
  });

  it("refuses an expired token and a made-up one", async () => {
    const session = await signIn();
    const { token } = (await (
      await createToken(session, { name: "short", scopes: ["read"], expiresIn: 60 })
    ).json()) as {
      token: string;
    };
    clock += 60_000;
    expect((await call("/admin/v1/overview", { bearer: token })).status).toBe(401);
    expect((await call("/admin/v1/overview", { bearer: "E".repeat(43) })).status).toBe(401);
  });

  it("keeps tokens across a restart, hashed: the file never holds the token", async () => {
    const session = await signIn();
    const { token } = (await (
      await createToken(session, { name: "bidder", scopes: ["bids"], expiresIn: 3600 })
    ).json()) as {
      token: string;
    };
    const file = join(dataDir, "admin", "tokens.json");
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, "utf8")).not.toContain(token);
    const restarted = createAdminApi({
      ctx,
      reconciler: stubReconciler(),
      ingressRoutes: new RouteTable("pods.localhost"),
      origins: () => [ORIGIN],
      now: () => clock,
    });
    const res = await restarted.request(`${ORIGIN}/admin/v1/overview`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatch(/lacks the scope read/);
  });

  it("names the bad field of a token request and creates nothing", async () => {
    const session = await signIn();
    const cases: [unknown, RegExp][] = [
      [{ name: "", scopes: ["read"], expiresIn: 3600 }, /^name:/],
      [{ name: "x", scopes: [], expiresIn: 3600 }, /^scopes:/],
      [{ name: "x", scopes: ["read", "admin"], expiresIn: 3600 }, /^scopes\[1\]: unknown scope/],
      [{ name: "x", scopes: ["read"], expiresIn: 10 }, /^expiresIn:/],
      [{ name: "x", scopes: ["read"] }, /^expiresIn:/],
    ];
    for (const [body, reason] of cases) {
      const res = await createToken(session, body);
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatch(reason);
    }
    const list = await call("/admin/v1/tokens", { cookie: session.cookie });
    expect(await list.json()).toEqual({ tokens: [] });
  });
});

describe("console pages", () => {
  it("serves one shell for every view, its one inline script (the import map) pinned by a CSP hash", async () => {
    for (const path of ["/admin", "/admin/", "/admin/sign-in"]) {
      const res = await call(path);
      expect(res.status).toBe(200);
      const html = await res.text();
      const csp = res.headers.get("content-security-policy") ?? "";
      const map = /<script type="importmap">(.*?)<\/script>/.exec(html)?.[1] as string;
      const hash = createHash("sha256").update(map).digest("base64");
      expect(csp).toContain(`script-src 'self' 'sha256-${hash}'`);
      expect(csp).toMatch(/default-src 'none'/);
      expect(csp).toMatch(/frame-ancestors 'none'/);
      // Every module the map names is served here: no CDN.
      for (const url of Object.values(JSON.parse(map).imports) as string[]) {
        expect(url).toMatch(/^\/admin\/assets\/vendor\//);
        const asset = await call(url);
        expect(asset.status).toBe(200);
        expect(asset.headers.get("content-type")).toMatch(/^text\/javascript/);
      }
    }
  });

  it("serves only allowlisted files: no traversal, no source maps or config, 304 on a matching ETag", async () => {
    const app = await call("/admin/assets/app.js");
    expect(app.status).toBe(200);
    expect(app.headers.get("cache-control")).toBe("no-cache");
    const etag = app.headers.get("etag") as string;
    const again = await admin.request("http://127.0.0.1:7071/admin/assets/app.js", {
      headers: { "if-none-match": etag },
    });
    expect(again.status).toBe(304);
    for (const path of [
      "/admin/assets/../../package.json",
      "/admin/assets/%2e%2e/%2e%2e/package.json",
      "/admin/assets/tsconfig.json",
      "/admin/assets/index.html",
      "/admin/assets/vendor/../../src/admin/secrets.ts",
      "/admin/assets/app.js.map",
      "/admin/assets/format.test.js",
    ]) {
      expect((await call(path)).status, path).toBe(404);
    }
  });
});

describe("event stream", () => {
  /** Reads SSE chunks from `res` until `until` matches what was read, or 2 s pass. */
  async function readUntil(res: Response, until: RegExp) {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    const deadline = Date.now() + 2000;
    while (!until.test(text) && Date.now() < deadline) {
      const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), 100))]);
      if (chunk?.value) text += decoder.decode(chunk.value);
      if (chunk?.done) break;
    }
    await reader.cancel();
    return text;
  }

  it("streams the asked topics' events to a session, in order, and no other topic", async () => {
    const session = await signIn();
    const res = await call("/admin/v1/events?topics=leases,alerts", { cookie: session.cookie });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    setTimeout(() => {
      ctx.adminEvents.publish("usage", { cpuMillis: 5 });
      ctx.adminEvents.publish("leases", { leaseId: "7", phase: "running" });
      ctx.adminEvents.publish("alerts", { kind: "heartbeat-late" });
    }, 20);
    const text = await readUntil(res, /event: alerts/);
    expect(text).toMatch(/event: ready\ndata: \{"topics":\["leases","alerts"\]\}/);
    expect(text).toMatch(/event: leases\ndata: \{"at":\d+,"leaseId":"7","phase":"running"\}\nid: \d+/);
    expect(text).not.toContain("usage");
    expect(text.indexOf("event: leases")).toBeLessThan(text.indexOf("event: alerts"));
    await new Promise((r) => setTimeout(r, 20));
    expect(ctx.adminEvents.listenerCount).toBe(0);
  });

  it("names an unknown topic, and refuses a token without the read scope and a stranger", async () => {
    const session = await signIn();
    const bad = await call("/admin/v1/events?topics=leases,secrets", { cookie: session.cookie });
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toMatch(/topics: unknown topic "secrets"/);
    const created = await createToken(session, { name: "pauser", scopes: ["listing"], expiresIn: 3600 });
    const { token } = (await created.json()) as { token: string };
    expect((await call("/admin/v1/events", { bearer: token })).status).toBe(403);
    expect((await call("/admin/v1/events")).status).toBe(401);
    expect(ctx.adminEvents.listenerCount).toBe(0);
  });
});

describe("secrets", () => {
  it("writes no link token, session id, CSRF token or addon token to the log", async () => {
    const token = linkToken();
    const signed = await call("/admin/v1/sign-in/link", { method: "POST", body: { token } });
    const id = /podnet_admin=([^;]+)/.exec(signed.headers.get("set-cookie") ?? "")?.[1] as string;
    const { csrfToken } = (await signed.json()) as { csrfToken: string };
    const created = await call("/admin/v1/tokens", {
      method: "POST",
      cookie: `podnet_admin=${id}`,
      csrf: csrfToken,
      body: { name: "logcheck", scopes: ["read"], expiresIn: 3600 },
    });
    const { token: addonToken } = (await created.json()) as { token: string };
    await call("/admin/v1/overview", { bearer: addonToken });
    await call("/admin/v1/sign-in/link", { method: "POST", body: { token } });
    const log = logLines.join("");
    expect(log).toContain("admin: signed in");
    expect(log).toContain("admin: token created");
    for (const secret of [token, id, csrfToken, addonToken]) expect(log).not.toContain(secret);
  });
});
