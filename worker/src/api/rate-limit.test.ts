import { describe, expect, it } from "vitest";
import { TrustedProxies } from "../net/forwarded.js";
import { SourceRateLimiter, sourceKey, sourceOf } from "./rate-limit.js";

describe("SourceRateLimiter", () => {
  it("lets a burst through, then one request per 1/perSecond, per source", () => {
    const limiter = new SourceRateLimiter({ perSecond: 2, burst: 3 });
    for (let i = 0; i < 3; i++) expect(limiter.take("a", 0)).toBeUndefined();
    expect(limiter.take("a", 0)).toBe(1);
    // Another source has its own bucket.
    expect(limiter.take("b", 0)).toBeUndefined();
    expect(limiter.take("a", 499)).toBe(1);
    expect(limiter.take("a", 500)).toBeUndefined();
    // Refills up to the burst, no further.
    for (let i = 0; i < 3; i++) expect(limiter.take("a", 60_000)).toBeUndefined();
    expect(limiter.take("a", 60_000)).toBe(1);
  });

  it("says how many whole seconds to wait", () => {
    const limiter = new SourceRateLimiter({ perSecond: 0.25, burst: 1 });
    expect(limiter.take("a", 0)).toBeUndefined();
    expect(limiter.take("a", 0)).toBe(4);
    expect(limiter.waitOf("a", 2000)).toBe(2);
    expect(limiter.waitOf("unseen", 0)).toBeUndefined();
  });

  it("peeks without taking", () => {
    const limiter = new SourceRateLimiter({ perSecond: 1, burst: 1 });
    expect(limiter.waitOf("a", 0)).toBeUndefined();
    expect(limiter.take("a", 0)).toBeUndefined();
    expect(limiter.waitOf("a", 0)).toBe(1);
    expect(limiter.waitOf("a", 0)).toBe(1);
  });

  it("remembers a bounded number of sources, forgetting the least recently seen", () => {
    const limiter = new SourceRateLimiter({ perSecond: 1, burst: 1 }, 100);
    for (let i = 0; i < 1000; i++) limiter.take(`10.0.${i >> 8}.${i & 255}`, 0);
    expect(limiter.size).toBe(100);
    // The last source is still out of tokens; the first was forgotten and starts with a full bucket.
    expect(limiter.take("10.0.3.231", 0)).toBe(1);
    expect(limiter.take("10.0.0.0", 0)).toBeUndefined();
  });

  it("is off with perSecond 0", () => {
    const limiter = new SourceRateLimiter({ perSecond: 0, burst: 1 });
    for (let i = 0; i < 100; i++) expect(limiter.take("a", 0)).toBeUndefined();
    expect(limiter.size).toBe(0);
  });
});

describe("sourceKey", () => {
  it("keeps IPv4 addresses, unwraps IPv4-mapped ones, and groups IPv6 by /64", () => {
    expect(sourceKey("127.0.0.1")).toBe("127.0.0.1");
    expect(sourceKey("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(sourceKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(sourceKey("2001:DB8:0001:0002:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(sourceKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(sourceKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(sourceKey("::1")).toBe("0:0:0:0::/64");
  });
});

describe("sourceOf", () => {
  const request = (peer: string, forwardedFor?: string) =>
    ({
      env: { incoming: { socket: { remoteAddress: peer } } },
      req: { header: (name: string) => (name.toLowerCase() === "x-forwarded-for" ? forwardedFor : undefined) },
    }) as unknown as Parameters<typeof sourceOf>[0];
  const proxy = new TrustedProxies(["10.0.0.0/8"]);

  it("is the peer for anyone not a trusted proxy, whatever X-Forwarded-For says", () => {
    expect(sourceOf(request("203.0.113.9", "198.51.100.1"), proxy)).toBe("203.0.113.9");
    expect(sourceOf(request("203.0.113.9", "198.51.100.2"), proxy)).toBe("203.0.113.9");
    expect(sourceOf(request("203.0.113.9", "198.51.100.1"), new TrustedProxies([]))).toBe("203.0.113.9");
  });

  it("is the client a trusted proxy forwards for, so clients behind a load balancer get buckets of their own", () => {
    expect(sourceOf(request("10.0.0.5", "198.51.100.1"), proxy)).toBe("198.51.100.1");
    expect(sourceOf(request("10.0.0.5", "198.51.100.2"), proxy)).toBe("198.51.100.2");
    // A client prepending addresses of its own cannot pick its bucket: the right-most untrusted hop is the client.
    expect(sourceOf(request("10.0.0.5", "192.0.2.77, 198.51.100.1"), proxy)).toBe("198.51.100.1");
    expect(sourceOf(request("10.0.0.5", "2001:db8:1:2::7"), proxy)).toBe("2001:db8:1:2::/64");
    expect(sourceOf(request("10.0.0.5"), proxy)).toBe("10.0.0.5");
  });
});
