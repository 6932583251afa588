import { describe, expect, it } from "vitest";
import { decodeAttribute, encodeAttribute } from "./attributes.js";

describe("provider attributes", () => {
  it("encodes key=value left-aligned in 32 bytes and decodes it back", () => {
    const encoded = encodeAttribute("region", "eu-west");
    expect(encoded).toBe(`0x${Buffer.from("region=eu-west").toString("hex").padEnd(64, "0")}`);
    expect(decodeAttribute(encoded)).toEqual({ key: "region", value: "eu-west" });
  });

  it("refuses what would not round-trip or fit on chain", () => {
    expect(() => encodeAttribute("Region", "eu")).toThrow(/attribute key "Region"/);
    expect(() => encodeAttribute("region", "")).toThrow(/value must be non-empty/);
    expect(() => encodeAttribute("region", "a=b")).toThrow(/must not contain '='/);
    expect(() => encodeAttribute("region", "x".repeat(26))).toThrow(/33 bytes; at most 32/);
    expect(encodeAttribute("region", "x".repeat(25))).toHaveLength(66);
  });

  it("rejects a bytes32 that is not key=value", () => {
    expect(() => decodeAttribute(`0x${"00".repeat(32)}`)).toThrow(/is not "key=value"/);
  });
});
