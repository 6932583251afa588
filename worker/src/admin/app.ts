import { apiErrorBody } from "@podnet/sdk/protocol";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, setCookie } from "hono/cookie";
import { HttpError } from "../api/http-error.js";
import { SourceRateLimiter, sourceOf } from "../api/rate-limit.js";
import { TrustedProxies } from "../net/forwarded.js";
import { registerAddonRoutes } from "./addon-routes.js";
import { registerAlertRoutes } from "./alerts.js";
import { registerBidRoutes } from "./bid-routes.js";
import { capacityRoutes } from "./capacity.js";
import { ConsoleAssets } from "./console-assets.js";
import type { AdminDeps } from "./deps.js";
import { disputeRoutes } from "./disputes.js";
import { earningsRoutes } from "./earnings.js";
import { eventStream } from "./events-route.js";
import { AdminGuard, CSRF_HEADER, callerOf, SESSION_COOKIE } from "./guard.js";
import { jsonBody } from "./json-body.js";
import { leaseRoutes } from "./leases.js";
import { setListing } from "./listing.js";
import { listingUpdateRoutes } from "./listing-update.js";
import { moneyRoutes } from "./money-actions.js";
import { overview } from "./overview.js";
import { ADMIN_SCOPES, type AdminScope, adminScopeNames, isAdminScope } from "./scopes.js";
import { AdminSessions } from "./sessions.js";
import { redeemSignInLink } from "./sign-in-links.js";
import { SiweSignIn } from "./siwe.js";
import { AdminTokens } from "./tokens.js";

/** Sign-in attempts and refused requests per source: 10 at once, then one every 30 s. */
export const ADMIN_ATTEMPT_LIMIT = { perSecond: 1 / 30, burst: 10 };
/** SIWE nonces per source: 30 at once, then one a second. */
export const ADMIN_NONCE_LIMIT = { perSecond: 1, burst: 30 };
/** Admin request bodies are small JSON documents. */
const MAX_ADMIN_BODY = 16 * 1024;
/** Longest lifetime of an addon token: a year; rotate them. */
const MAX_TOKEN_LIFETIME_SEC = 365 * 24 * 3600;

/**
 * The worker's admin API (docs/console.md), served on its own listener (`adminHost`:`adminPort`, loopback by
 * default): sign-in by a one-time link from `podnet-worker console` or by an EIP-4361 message signed with the provider
 * key, cookie sessions with a CSRF token, scoped revocable tokens for addons, the overview and lease list the console
 * shows, and pausing or resuming the listing; and the console's pages (console-assets.ts). Every API answer is JSON;
 * errors use the provider API's error body.
 */
export function createAdminApi(deps: AdminDeps) {
  const { ctx } = deps;
  const now = deps.now ?? Date.now;
  const sessions = new AdminSessions(ctx.config.adminSessionTtlSec, now);
  const tokens = deps.tokens ?? new AdminTokens(ctx.config.dataDir, now);
  const trusted = new TrustedProxies(ctx.config.trustedProxies);
  const guard = new AdminGuard(
    sessions,
    tokens,
    new SourceRateLimiter(ADMIN_ATTEMPT_LIMIT),
    new SourceRateLimiter(ADMIN_NONCE_LIMIT),
    deps.origins,
    (c) => sourceOf(c, trusted),
  );
  const siwe = new SiweSignIn(
    () => ({ address: ctx.chain.account.address, chainId: ctx.chain.chainId, origins: deps.origins() }),
    now,
  );
  const assets = deps.assets ?? new ConsoleAssets();
  const app = new Hono();

  app.onError((error, c) => {
    if (error instanceof HttpError) {
      const headers = error.retryAfter === undefined ? undefined : { "retry-after": String(error.retryAfter) };
      return c.json(error.toJSON(), error.status, headers);
    }
    ctx.log.error("admin api error", { path: c.req.path, error: error.message });
    return c.json(apiErrorBody(500, "internal error"), 500);
  });
  app.notFound((c) => c.json(new HttpError(404, `${c.req.method} ${c.req.path}: no such route`).toJSON(), 404));
  app.use(async (c, next) => {
    await next();
    // Nothing the admin API answers may be cached by a browser or a proxy, nor framed by another page.
    // The console's files may be kept, but are checked again (ETag) on every load, so an upgrade shows at once.
    c.res.headers.set("cache-control", c.req.path.startsWith("/admin/assets/") ? "no-cache" : "no-store");
    c.res.headers.set("x-frame-options", "DENY");
    c.res.headers.set("x-content-type-options", "nosniff");
  });
  app.use(guard.perimeter);
  app.use(
    bodyLimit({
      maxSize: MAX_ADMIN_BODY,
      onError: () => {
        throw new HttpError(413, `body: at most ${MAX_ADMIN_BODY} bytes`);
      },
    }),
  );

  const openSession = (c: Context, via: Parameters<AdminSessions["open"]>[0]) => {
    const { id, session } = sessions.open(via);
    setCookie(c, SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: "Strict",
      secure: new URL(c.req.url).protocol === "https:" || deps.origins().every((o) => o.startsWith("https:")),
      path: "/admin",
      maxAge: ctx.config.adminSessionTtlSec,
    });
    ctx.log.info("admin: signed in", { via: via === "link" ? "link" : "siwe" });
    return c.json({ via, expiresAt: session.expiresAt, csrfToken: session.csrf });
  };

  // The console's pages: one shell for every view (the router is in the browser), and its allowlisted files.
  for (const path of ["/admin", "/admin/", "/admin/sign-in"]) app.get(path, assets.page);
  app.get("/admin/assets/*", assets.file);

  app.post("/admin/v1/sign-in/link", guard.signInAttempt, async (c) => {
    const body = await jsonBody(c);
    if (!redeemSignInLink(ctx.config.dataDir, body.token, now())) {
      throw new HttpError(401, "token: unknown, used or expired sign-in link; run `podnet-worker console` again");
    }
    return openSession(c, "link");
  });

  app.get("/admin/v1/sign-in/siwe/nonce", guard.nonceRequest, (c) =>
    c.json({ nonce: siwe.nonce(), address: ctx.chain.account.address, chainId: ctx.chain.chainId }),
  );

  app.post("/admin/v1/sign-in/siwe", guard.signInAttempt, async (c) => {
    const body = await jsonBody(c);
    let signer: string;
    try {
      signer = await siwe.verify(body.message, body.signature);
    } catch (error) {
      throw new HttpError(401, (error as Error).message);
    }
    return openSession(c, `siwe:${signer}`);
  });

  app.get("/admin/v1/session", guard.require("session"), (c) => {
    const caller = callerOf(c);
    if (caller.kind !== "session") throw new HttpError(403, "session only");
    const { via, expiresAt, csrf } = caller.session;
    return c.json({ via, expiresAt, csrfToken: csrf, csrfHeader: CSRF_HEADER });
  });

  app.post("/admin/v1/sign-out", guard.require("session"), (c) => {
    const caller = callerOf(c);
    if (caller.kind === "session") sessions.close(caller.id);
    deleteCookie(c, SESSION_COOKIE, { path: "/admin" });
    return c.json({ signedOut: true });
  });

  app.get("/admin/v1/scopes", guard.require("session"), (c) => c.json(ADMIN_SCOPES));

  app.get("/admin/v1/tokens", guard.require("session"), (c) => c.json({ tokens: tokens.list() }));

  app.post("/admin/v1/tokens", guard.require("session"), async (c) => {
    const { name, scopes, expiresIn } = parseTokenRequest(await jsonBody(c));
    let created: ReturnType<AdminTokens["create"]>;
    try {
      created = tokens.create(name, scopes, expiresIn);
    } catch (error) {
      throw new HttpError(409, (error as Error).message);
    }
    ctx.log.info("admin: token created", { id: created.info.id, name, scopes });
    return c.json({ ...created.info, token: created.token }, 201);
  });

  app.delete("/admin/v1/tokens/:id", guard.require("session"), (c) => {
    const id = c.req.param("id");
    if (!tokens.revoke(id)) throw new HttpError(404, `token ${id}: no such token`);
    ctx.log.info("admin: token revoked", { id });
    return c.json({ revoked: id });
  });

  app.get("/admin/v1/overview", guard.require("read"), async (c) => c.json(await overview(deps)));
  app.route("/", leaseRoutes({ ...deps, guard }));
  app.route("/", capacityRoutes({ ...deps, guard }));
  app.route("/", earningsRoutes({ ...deps, guard }));
  app.route("/", disputeRoutes({ ...deps, guard }));
  app.route("/", moneyRoutes({ ...deps, guard }));
  app.route("/", listingUpdateRoutes({ ...deps, guard }));
  app.get("/admin/v1/events", guard.require("read"), eventStream(ctx.adminEvents, { count: 0 }));

  registerBidRoutes(app, deps, guard);
  registerAddonRoutes(app, deps, guard);
  registerAlertRoutes(app, deps, guard);

  for (const action of ["pause", "resume"] as const) {
    app.post(`/admin/v1/listing/${action}`, guard.require("listing"), async (c) =>
      c.json(await setListing(ctx, action)),
    );
  }
  return app;
}

/** A token request's fields, or 400 naming the first bad one. */
export function parseTokenRequest(body: Record<string, unknown>): {
  name: string;
  scopes: AdminScope[];
  expiresIn: number;
} {
  const { name, scopes, expiresIn } = body;
  if (typeof name !== "string" || !/^[\w .:-]{1,64}$/.test(name)) {
    throw new HttpError(400, "name: must be 1 to 64 letters, digits, spaces or . _ : -");
  }
  if (!Array.isArray(scopes) || scopes.length === 0) {
    throw new HttpError(400, `scopes: must be a non-empty list of ${adminScopeNames.join(", ")}`);
  }
  for (const [i, scope] of scopes.entries()) {
    if (!isAdminScope(scope))
      throw new HttpError(400, `scopes[${i}]: unknown scope; one of ${adminScopeNames.join(", ")}`);
  }
  if (
    typeof expiresIn !== "number" ||
    !Number.isInteger(expiresIn) ||
    expiresIn < 60 ||
    expiresIn > MAX_TOKEN_LIFETIME_SEC
  ) {
    throw new HttpError(400, `expiresIn: must be whole seconds from 60 to ${MAX_TOKEN_LIFETIME_SEC}`);
  }
  return { name, scopes: scopes as AdminScope[], expiresIn };
}
