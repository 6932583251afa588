import { describe, expect, it } from "vitest";
import { type DnsConfigInput, parseDnsConfig } from "./config.js";

const base: DnsConfigInput = {
  zone: "Apps.Example.ORG.",
  nameservers: [{ name: "ns1.apps.example.org", addresses: ["192.0.2.1"] }],
  soa: { rname: "hostmaster@example.org" },
  apps: [{ name: "web", statusUrls: ["http://127.0.0.1:7090/status"] }],
};

describe("podnet-dns configuration", () => {
  it("fills the defaults and writes names in one form", () => {
    const config = parseDnsConfig({
      ...base,
      records: [{ name: "www", type: "CNAME", value: "web.apps.example.org." }],
    });
    expect(config.zone).toBe("apps.example.org");
    expect(config.soa).toMatchObject({ mname: "ns1.apps.example.org", rname: "hostmaster.example.org", minimum: 30 });
    expect(config.ttl).toBeLessThanOrEqual(20);
    expect(config.listen).toEqual({ host: "0.0.0.0", port: 53 });
    expect(config.ingressPort).toBe(80);
    expect(config.allowPrivateAddresses).toBe(false);
    expect(config.records[0]).toMatchObject({ name: "www.apps.example.org", value: "web.apps.example.org" });
    // What loadDnsConfig returns is what startDnsServer takes: the same, not parsed a second time.
    expect(parseDnsConfig(config)).toBe(config);
  });

  it("names the bad field", () => {
    const bad = (patch: Partial<DnsConfigInput>) => () => parseDnsConfig({ ...base, ...patch });
    expect(bad({ zone: "not a zone" })).toThrow(/^zone: must be a host name/);
    expect(bad({ ttl: -1 })).toThrow(/^ttl:/);
    expect(bad({ apps: [{ name: "Web_1", statusUrls: ["http://x/"] }] })).toThrow(/^apps\.0\.name:/);
    expect(bad({ apps: [{ name: "web", statusUrls: ["file:///etc/passwd"] }] })).toThrow(/^apps\.0\.statusUrls\.0:/);
    expect(bad({ nameservers: [{ name: "ns1.apps.example.org", addresses: [] }] })).toThrow(
      /^nameservers\.0\.addresses: .* needs its addresses \(glue\)/,
    );
    expect(bad({ records: [{ name: "web", type: "A", value: "192.0.2.9" }] })).toThrow(
      /^records\.0\.name: .* an app's/,
    );
    expect(
      bad({
        records: [
          { name: "x", type: "CNAME", value: "a.example.org" },
          { name: "x", type: "TXT", value: "t" },
        ],
      }),
    ).toThrow(/^records\.0\.name: x\.apps\.example\.org has a CNAME and other records/);
    expect(bad({ records: [{ name: "t", type: "TXT", value: "x".repeat(256) }] })).toThrow(/^records\.0\.value/);
    expect(() => parseDnsConfig({ ...base, extra: 1 })).toThrow(/extra/);
  });
});
