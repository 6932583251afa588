import { describe, expect, it } from "vitest";
import { decodeIngress, encodeIngress, parseIPv6 } from "./ingress.js";

describe("ingress address codec", () => {
  it("round-trips IPv4 and IPv6 through the registry's bytes, IPv6 in canonical form", () => {
    const encoded = encodeIngress({ addresses: ["203.0.113.7", "2001:DB8:0:0::7", "::ffff:1.2.3.4"], port: 443 });
    expect(encoded).toEqual({
      ipv4: ["0xcb007107"],
      ipv6: ["0x20010db8000000000000000000000007", "0x00000000000000000000ffff01020304"],
      port: 443,
    });
    expect(decodeIngress(encoded.ipv4, encoded.ipv6, encoded.port)).toEqual({
      addresses: ["203.0.113.7", "2001:db8::7", "::ffff:102:304"],
      port: 443,
    });
  });

  it("names what is wrong", () => {
    expect(() => encodeIngress({ addresses: ["pods.example.com"], port: 80 })).toThrow(
      'ingress addresses.0: "pods.example.com" is not an IPv4 or IPv6 address',
    );
    expect(() => encodeIngress({ addresses: ["1.2.3.4", "1.2.3.4"], port: 80 })).toThrow("addresses.1");
    expect(() => encodeIngress({ addresses: ["0.0.0.0"], port: 80 })).toThrow("unspecified");
    expect(() => encodeIngress({ addresses: ["::"], port: 80 })).toThrow("unspecified");
    expect(() => encodeIngress({ addresses: ["256.1.1.1"], port: 80 })).toThrow("not an IPv4");
    expect(() => encodeIngress({ addresses: ["1.2.3.4"], port: 0 })).toThrow("ingress port: 0");
    const nine = [...Array(9).keys()].map((i) => `203.0.113.${i + 1}`);
    expect(() => encodeIngress({ addresses: nine, port: 80 })).toThrow("9 is over the registry's 8");
  });

  it("reads nothing published as null and skips malformed entries", () => {
    expect(decodeIngress([], [], 0)).toBeNull();
    expect(decodeIngress(["0x7f000002", "0x7f"], [], 8080)).toEqual({ addresses: ["127.0.0.2"], port: 8080 });
    expect(parseIPv6("1:2:3:4:5:6:7:8:9")).toBeUndefined();
    expect(parseIPv6("fe80::1%eth0")).toBeUndefined();
  });
});
