import { describe, expect, expectTypeOf, it } from "vitest";
import { apiRoute, type PathArgs } from "./api-route.js";

describe("apiRoute", () => {
  it("fills the pattern's parameters in order and refuses a wrong count", () => {
    const route = apiRoute("PUT", "/v1/leases/:id/blobs/:cid");
    expect(route).toMatchObject({ method: "PUT", pattern: "/v1/leases/:id/blobs/:cid" });
    expect(route.path(1n, "x")).toBe("/v1/leases/1/blobs/x");
    expect(() => (route.path as (...a: unknown[]) => string)(1n)).toThrow("takes 2 path parameters, got 1");
    expect(apiRoute("GET", "/health").path()).toBe("/health");
  });

  it("types the builder's arguments from the pattern (checked by tsc)", () => {
    expectTypeOf<PathArgs<"/health">>().toEqualTypeOf<[]>();
    expectTypeOf<PathArgs<"/v1/leases/:id">>().toEqualTypeOf<[bigint | number]>();
    expectTypeOf<PathArgs<"/v1/leases/:id/blobs/:cid">>().toEqualTypeOf<[bigint | number, string]>();
    expectTypeOf<PathArgs<"/providers/:address/eligible-orders">>().toEqualTypeOf<[string]>();
    expectTypeOf<PathArgs<"/x/:unknownName">>().toEqualTypeOf<[never]>();
  });
});
