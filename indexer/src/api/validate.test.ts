import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import { parseAddressParam, parseSearchQuery } from "./validate.js";

function errorOf(run: () => unknown): { status: number; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof HTTPException) return { status: error.status, message: error.message };
    throw error;
  }
  throw new Error("expected a 400");
}

const parse = (query: string) => parseSearchQuery(new URLSearchParams(query));

describe("parseSearchQuery", () => {
  it("reads resources, criteria and defaults", () => {
    expect(parse("cpu=500&memory=256&attr=region=eu-west&attr=tee=sgx&maxPrice=123&minUptimeBps=9000")).toEqual({
      resources: { cpuMillis: 500, memoryMiB: 256, storageMiB: 0 },
      maxPricePerSecond: 123n,
      minFreeStake: undefined,
      minUptimeBps: 9000,
      attributes: ["region=eu-west", "tee=sgx"],
      limit: 20,
    });
  });

  it("answers 400 naming the field and the reason", () => {
    expect(errorOf(() => parse("memory=256"))).toEqual({ status: 400, message: "cpu: is required" });
    expect(errorOf(() => parse("cpu=abc&memory=256")).message).toBe('cpu: must be a whole number, got "abc"');
    expect(errorOf(() => parse("cpu=0&memory=256")).message).toBe("cpu: must be between 1 and 4294967295, got 0");
    expect(errorOf(() => parse("cpu=1&memory=1&limit=100000")).message).toBe(
      "limit: must be between 1 and 100, got 100000",
    );
    expect(errorOf(() => parse("cpu=1&memory=1&maxPrice=1.5")).message).toMatch(/^maxPrice: must be a whole number/);
    expect(errorOf(() => parse("cpu=1&memory=1&maxPrice=-1")).message).toMatch(/^maxPrice: must be a whole number/);
    expect(errorOf(() => parse("cpu=1&memory=1&attr=region")).message).toBe(
      'attr: must look like key=value, got "region"',
    );
    expect(errorOf(() => parse("cpu=1&memory=1&colour=red")).message).toMatch(/^colour: unknown field/);
  });
});

describe("parseAddressParam", () => {
  it("checksums a valid address and refuses anything else", () => {
    expect(parseAddressParam("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266")).toBe(
      "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    );
    expect(errorOf(() => parseAddressParam("0x123")).message).toBe(
      'address: must be a 0x-prefixed 20-byte address, got "0x123"',
    );
  });
});
