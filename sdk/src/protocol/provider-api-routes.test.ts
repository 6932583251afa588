import { describe, expect, expectTypeOf, it } from "vitest";
import { providerApiPaths, providerApiRoutes } from "./provider-api-routes.js";

const cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

/** A pattern as a regular expression over concrete paths (`:param` is one non-empty segment). */
function matcher(pattern: string) {
  return new RegExp(`^${pattern.replace(/:[A-Za-z]+/g, "[^/]+")}$`);
}

describe("providerApiPaths", () => {
  it("keeps the paths the worker and the SDK have always used", () => {
    expect(providerApiPaths.health).toBe("/health");
    expect(providerApiPaths.metrics).toBe("/metrics");
    expect(providerApiPaths.attestation).toBe("/v1/attestation");
    expect(providerApiPaths.quote).toBe("/v1/quote");
    expect(providerApiPaths.blob(cid)).toBe(`/v1/blobs/${cid}`);
    expect(providerApiPaths.leaseBlob(7n, cid)).toBe(`/v1/leases/7/blobs/${cid}`);
    expect(providerApiPaths.manifest(7n)).toBe("/v1/leases/7/manifest");
    expect(providerApiPaths.status(7)).toBe("/v1/leases/7");
    expect(providerApiPaths.usage(7n)).toBe("/v1/leases/7/usage");
    expect(providerApiPaths.events(7n)).toBe("/v1/leases/7/events");
    expect(providerApiPaths.logs(12345678901234567890n)).toBe("/v1/leases/12345678901234567890/logs");
    expect(providerApiPaths.disputeEvidence(3n)).toBe("/v1/disputes/3/evidence");
    expect(Object.keys(providerApiPaths)).toEqual(Object.keys(providerApiRoutes));
  });

  it("keeps its signatures (checked by tsc)", () => {
    expectTypeOf(providerApiPaths.health).toEqualTypeOf<"/health">();
    expectTypeOf(providerApiPaths.quote).toEqualTypeOf<"/v1/quote">();
    expectTypeOf(providerApiPaths.blob).parameters.toEqualTypeOf<[string]>();
    expectTypeOf(providerApiPaths.leaseBlob).parameters.toEqualTypeOf<[bigint | number, string]>();
    expectTypeOf(providerApiPaths.status).parameters.toEqualTypeOf<[bigint | number]>();
    expectTypeOf(providerApiPaths.disputeEvidence).returns.toEqualTypeOf<string>();
  });
});

describe("providerApiRoutes", () => {
  it("builds paths that the route's own pattern matches, and no other route's", () => {
    for (const [name, route] of Object.entries(providerApiRoutes)) {
      const args = (route.pattern.match(/:[A-Za-z]+/g) ?? []).map((p) => (p === ":cid" ? cid : 42n));
      const path = (route.path as (...a: unknown[]) => string)(...args);
      expect(path, name).toMatch(matcher(route.pattern));
      const others = Object.entries(providerApiRoutes).filter(
        ([other, r]) => other !== name && r.method === route.method && matcher(r.pattern).test(path),
      );
      expect(
        others.map(([other]) => other),
        name,
      ).toEqual([]);
    }
  });

  it("marks exactly the lease routes as signed by the publisher", () => {
    const signed = Object.entries(providerApiRoutes)
      .filter(([, r]) => r.signed)
      .map(([name]) => name);
    expect(signed).toEqual(["leaseBlob", "manifest", "status", "usage", "events", "logs"]);
    for (const name of signed) {
      expect(providerApiRoutes[name as keyof typeof providerApiRoutes].pattern).toMatch(/^\/v1\/leases\/:id/);
    }
  });

  it("has one route per method and pattern", () => {
    const keys = Object.values(providerApiRoutes).map((r) => `${r.method} ${r.pattern}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
