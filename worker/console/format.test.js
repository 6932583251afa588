// @ts-check
import { describe, expect, it } from "vitest";
import { money, monthly, setToken } from "./format.js";

// Money on the pages is formatted from base units with BigInt: exact however large, never rounded up.
describe("console money format", () => {
  it("formats 18-decimal amounts exactly, beyond what a float holds", () => {
    setToken({ symbol: "PDN", decimals: 18 });
    expect(money("123456789012345678901234567")).toBe("123,456,789.012345 PDN");
    expect(money("1000000000000000000")).toBe("1 PDN");
    expect(money("1999999999999999999")).toBe("1.999999 PDN");
    expect(money("-2500000000000000000")).toBe("-2.5 PDN");
    expect(money("0")).toBe("0 PDN");
    expect(money(null)).toBe("—");
  });

  it("keeps the significant digits of a tiny amount (a per-second price) instead of showing 0", () => {
    setToken({ symbol: "PDN", decimals: 18 });
    expect(money("1200")).toBe("0.0000000000000012 PDN");
    expect(money("2", { symbol: false })).toBe("0.000000000000000002");
  });

  it("follows the token's decimals, and per-second prices scale to a 30-day month exactly", () => {
    setToken({ symbol: "USDC", decimals: 6 });
    expect(money("1234567")).toBe("1.234567 USDC");
    expect(monthly("1")).toBe("2.592 USDC");
    setToken({ symbol: "PDN", decimals: 18 });
  });
});
