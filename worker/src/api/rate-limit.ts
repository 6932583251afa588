import type { IncomingMessage } from "node:http";
import type { Context } from "hono";
import type { WorkerConfig } from "../config.js";
import { clientAddress, type TrustedProxies } from "../net/forwarded.js";

/** A token bucket: `perSecond` tokens flow in up to `burst`; each request takes one. `perSecond` 0 turns it off. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** What the provider API is shielded with; the worker's config sets it (`apiRateLimit`). */
export interface ApiLimits {
  /** Per source address, for the anonymous routes and for refused signed requests. */
  rateLimit: RateLimit;
  /**
   * Quotes signed per second by the whole worker, 0 for no limit. A signature takes milliseconds of the one thread
   * that also serves the ingress: however many addresses a flood comes from, it cannot take all of it.
   */
  quotesPerSecond: number;
}

export const DEFAULT_API_LIMITS: ApiLimits = { rateLimit: { perSecond: 10, burst: 100 }, quotesPerSecond: 50 };

/** The limits of a worker's config (`apiRateLimit`). */
export function apiLimitsOf(config: WorkerConfig): ApiLimits {
  // Absent only from the partial configs of unit tests.
  if (!config.apiRateLimit) return DEFAULT_API_LIMITS;
  const { quotesPerSecond, ...rateLimit } = config.apiRateLimit;
  return { rateLimit, quotesPerSecond };
}

/** Sources the limiter remembers at most; the least recently seen is forgotten first. */
export const MAX_SOURCES = 10_000;

/**
 * One token bucket per source address, for the anonymous routes: a caller can slow down only itself. The map is
 * bounded ({@link MAX_SOURCES}, least recently seen forgotten first, which at worst hands a forgotten source a full
 * bucket again), so a flood from many addresses cannot grow it.
 */
export class SourceRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limit: RateLimit,
    private readonly maxSources = MAX_SOURCES,
  ) {}

  get size() {
    return this.buckets.size;
  }

  /** Takes a token for `source`: undefined when it had one, else the whole seconds until it has one again. */
  take(source: string, nowMs = performance.now()): number | undefined {
    if (this.limit.perSecond === 0) return undefined;
    const bucket = this.refill(source, nowMs);
    if (bucket.tokens < 1) return this.wait(bucket);
    bucket.tokens -= 1;
    return undefined;
  }

  /** Like {@link take} but takes nothing: whether `source` is out of tokens now, and for how long. */
  waitOf(source: string, nowMs = performance.now()): number | undefined {
    if (this.limit.perSecond === 0 || !this.buckets.has(source)) return undefined;
    const bucket = this.refill(source, nowMs);
    return bucket.tokens < 1 ? this.wait(bucket) : undefined;
  }

  private wait(bucket: { tokens: number }) {
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.limit.perSecond));
  }

  private refill(source: string, nowMs: number) {
    const { perSecond, burst } = this.limit;
    const known = this.buckets.get(source);
    const bucket = known
      ? { tokens: Math.min(burst, known.tokens + ((nowMs - known.at) / 1000) * perSecond), at: nowMs }
      : { tokens: burst, at: nowMs };
    // Re-inserted so the Map's first key is always the least recently seen source.
    this.buckets.delete(source);
    this.buckets.set(source, bucket);
    for (const oldest of this.buckets.keys()) {
      if (this.buckets.size <= this.maxSources) break;
      this.buckets.delete(oldest);
    }
    return bucket;
  }
}

/**
 * Who is asking, for rate limits: the peer address of the connection, or, when the peer is one of the operator's
 * `trustedProxies` (a load balancer), the client it forwards for (`clientAddress`: the right-most X-Forwarded-For hop
 * that is not itself trusted), so clients behind the proxy do not share one bucket. From anyone else the header is
 * ignored: a client cannot pick its own bucket. IPv4 and IPv4-mapped addresses as they are; IPv6 by its /64, what one
 * host or one customer usually holds. Requests that did not come through a socket (tests calling `app.request`)
 * share one source.
 */
export function sourceOf(c: Context, trusted: TrustedProxies): string {
  const peer = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress;
  const address = clientAddress(peer, c.req.header("x-forwarded-for"), trusted);
  return address ? sourceKey(address) : "local";
}

export function sourceKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (!address.includes(":")) return address;
  const [head = "", tail] = address.split("%")[0]?.toLowerCase().split("::") ?? [];
  const front = head ? head.split(":") : [];
  const back = tail ? tail.split(":") : [];
  const groups = tail === undefined ? front : [...front, ...Array(8 - front.length - back.length).fill("0"), ...back];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
