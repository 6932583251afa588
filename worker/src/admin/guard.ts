import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { HttpError } from "../api/http-error.js";
import type { SourceRateLimiter } from "../api/rate-limit.js";
import type { AdminScope } from "./scopes.js";
import { sameSecret } from "./secrets.js";
import type { AdminSession, AdminSessions } from "./sessions.js";
import type { AdminTokens, TokenInfo } from "./tokens.js";

export const SESSION_COOKIE = "podnet_admin";
export const CSRF_HEADER = "x-csrf-token";

/** Who a request acts as, set by {@link AdminGuard.require}. */
export type AdminCaller = { kind: "session"; id: string; session: AdminSession } | { kind: "token"; token: TokenInfo };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The admin API's checks, in order, for every request:
 * 1. Host: the request must name one of the console's origins (a DNS-rebinding page on another name is refused).
 * 2. A source refused too often (sign-in attempts, bad cookies or tokens) waits: 429 with Retry-After. A request
 *    with no credential at all guesses nothing (a signed-out console asks GET /session on every load): it is refused
 *    at no cost.
 * 3. A state-changing request without a bearer token must come from the console's own origin (Origin header).
 * Then each route asks for a scope: a bearer token must hold it; a session holds every scope but must send its CSRF
 * token in `x-csrf-token` on state-changing requests (synchronizer token: bound to the session, compared in constant
 * time). Routes that manage tokens accept sessions only.
 */
export class AdminGuard {
  constructor(
    private readonly sessions: AdminSessions,
    private readonly tokens: AdminTokens,
    private readonly limiter: SourceRateLimiter,
    private readonly nonceLimiter: SourceRateLimiter,
    private readonly origins: () => string[],
    private readonly sourceOf: (c: Context) => string,
  ) {}

  /** Host, rate limit and Origin: registered before every admin route. */
  readonly perimeter: MiddlewareHandler = async (c, next) => {
    const origins = this.origins();
    const host = new URL(c.req.url).host;
    if (!origins.some((o) => new URL(o).host === host)) {
      throw new HttpError(403, `host: ${host} is not this console's address`);
    }
    const source = this.sourceOf(c);
    const wait = this.limiter.waitOf(source);
    if (wait !== undefined) {
      throw HttpError.later(429, `rate limit: too many refused requests from this address, retry in ${wait} s`, wait);
    }
    let refused = false;
    const presented = c.req.header("authorization") !== undefined || getCookie(c, SESSION_COOKIE) !== undefined;
    try {
      if (!SAFE_METHODS.has(c.req.method) && !c.req.header("authorization")) {
        const origin = c.req.header("origin");
        if (!origin || !origins.includes(origin)) {
          throw new HttpError(403, "origin: a state-changing request must come from the console's own origin");
        }
      }
      await next();
      refused = c.res.status === 401 || c.res.status === 403;
    } catch (error) {
      refused = error instanceof HttpError && (error.status === 401 || error.status === 403);
      throw error;
    } finally {
      // Refusals of a credential cost the source a token; a caller using its own session or token is never slowed
      // down. A sign-in attempt has paid already (signInAttempt).
      if (refused && presented && !c.get("signInAttempt" as never)) this.limiter.take(source);
    }
  };

  /** A sign-in attempt costs a token whether it succeeds or not: guessing links or signatures is slowed alike. */
  readonly signInAttempt: MiddlewareHandler = async (c, next) => {
    c.set("signInAttempt" as never, true as never);
    const wait = this.limiter.take(this.sourceOf(c));
    if (wait !== undefined) {
      throw HttpError.later(429, `rate limit: too many sign-in attempts from this address, retry in ${wait} s`, wait);
    }
    await next();
  };

  /**
   * SIWE nonces: cheap, but each one is remembered for minutes, so a flood of them would push out a real one
   * (the map is bounded); a bucket of their own so that asking for nonces costs no sign-in attempts.
   */
  readonly nonceRequest: MiddlewareHandler = async (c, next) => {
    const wait = this.nonceLimiter.take(this.sourceOf(c));
    if (wait !== undefined)
      throw HttpError.later(429, `rate limit: too many nonces asked for, retry in ${wait} s`, wait);
    await next();
  };

  /** Allows a session, or a bearer token holding `scope`; `scope` "session" allows sessions only. */
  require(scope: AdminScope | "session"): MiddlewareHandler {
    return async (c, next) => {
      c.set("caller" as never, this.caller(c, scope) as never);
      await next();
    };
  }

  private caller(c: Context, scope: AdminScope | "session"): AdminCaller {
    const authorization = c.req.header("authorization");
    if (authorization !== undefined) {
      const bearer = /^Bearer (\S+)$/.exec(authorization)?.[1];
      const token = bearer ? this.tokens.find(bearer) : undefined;
      if (!token) throw new HttpError(401, "authorization: unknown, revoked or expired token");
      if (scope === "session") throw new HttpError(403, "authorization: tokens cannot manage tokens; sign in");
      if (!token.scopes.includes(scope)) throw new HttpError(403, `authorization: the token lacks the scope ${scope}`);
      return { kind: "token", token };
    }
    const id = getCookie(c, SESSION_COOKIE);
    const session = this.sessions.get(id);
    if (!id || !session) throw new HttpError(401, "session: not signed in, or the session expired");
    if (!SAFE_METHODS.has(c.req.method)) {
      const csrf = c.req.header(CSRF_HEADER);
      if (!csrf || !sameSecret(csrf, session.csrf)) {
        throw new HttpError(403, `${CSRF_HEADER}: missing or not this session's CSRF token`);
      }
    }
    return { kind: "session", id, session };
  }
}

export function callerOf(c: Context): AdminCaller {
  return c.get("caller" as never) as AdminCaller;
}
