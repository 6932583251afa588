import { describe, expect, it } from "vitest";
import { clientAddress, forwardingHeaders, TrustedProxies } from "./forwarded.js";

describe("TrustedProxies", () => {
  it("matches addresses and ranges, IPv4-mapped IPv6 included, and trusts nobody by default", () => {
    const trusted = new TrustedProxies(["10.0.0.0/8", "192.0.2.7", "fd00::/8"]);
    expect(trusted.trusts("10.1.2.3")).toBe(true);
    expect(trusted.trusts("::ffff:10.1.2.3")).toBe(true);
    expect(trusted.trusts("192.0.2.7")).toBe(true);
    expect(trusted.trusts("192.0.2.8")).toBe(false);
    expect(trusted.trusts("fd00::1")).toBe(true);
    expect(trusted.trusts(undefined)).toBe(false);
    expect(new TrustedProxies([]).trusts("127.0.0.1")).toBe(false);
  });

  it("refuses entries that are not addresses or ranges, naming them", () => {
    expect(() => new TrustedProxies(["proxy.example"])).toThrow(/"proxy\.example" is not an IP address/);
    expect(() => new TrustedProxies(["10.0.0.0/33"])).toThrow(/"10\.0\.0\.0\/33" has an invalid prefix length/);
  });
});

describe("forwardingHeaders / clientAddress", () => {
  const spoofed = { "x-forwarded-for": "203.0.113.9, 10.0.0.5", "x-real-ip": "203.0.113.9", forwarded: "for=1.2.3.4" };

  it("replaces what an untrusted peer claims by its own address", () => {
    const headers = forwardingHeaders("198.51.100.1", spoofed, new TrustedProxies([]));
    expect(headers["x-forwarded-for"]).toBe("198.51.100.1");
    expect(headers["x-real-ip"]).toBeUndefined();
    expect(headers.forwarded).toBeUndefined();
    expect(clientAddress("198.51.100.1", spoofed["x-forwarded-for"], new TrustedProxies([]))).toBe("198.51.100.1");
  });

  it("extends a trusted proxy's chain, and takes the right-most untrusted hop as the client", () => {
    const trusted = new TrustedProxies(["10.0.0.0/8"]);
    const headers = forwardingHeaders("10.0.0.1", spoofed, trusted);
    expect(headers["x-forwarded-for"]).toBe("203.0.113.9, 10.0.0.5, 10.0.0.1");
    expect(headers["x-real-ip"]).toBe("203.0.113.9");
    expect(clientAddress("10.0.0.1", spoofed["x-forwarded-for"], trusted)).toBe("203.0.113.9");
  });
});
