import { describe, expect, it } from "vitest";
import { UsageError } from "./args.js";
import {
  formatAmount,
  formatBps,
  formatDuration,
  formatTime,
  formatTokens,
  parseAmount,
  parseCount,
  parseDuration,
  parseId,
} from "./units.js";

describe("cli: durations", () => {
  it("reads units, combinations and bare seconds", () => {
    expect(parseDuration("1h", "--duration")).toBe(3600n);
    expect(parseDuration("30m", "--duration")).toBe(1800n);
    expect(parseDuration("3600s", "--duration")).toBe(3600n);
    expect(parseDuration("3600", "--duration")).toBe(3600n);
    expect(parseDuration("1h30m", "--duration")).toBe(5400n);
    expect(parseDuration("2d", "--duration")).toBe(172_800n);
    expect(parseDuration("1d2h3m4s", "--duration")).toBe(93_784n);
    expect(parseDuration(" 90s ", "--duration")).toBe(90n);
  });

  it("refuses zero, fractions, unknown units and units out of order, naming the flag", () => {
    for (const bad of ["", "0", "0s", "1.5h", "1w", "h", "30m1h", "-1h", "1 h", "1H"]) {
      expect(() => parseDuration(bad, "--duration"), bad).toThrow(UsageError);
    }
    expect(() => parseDuration("1w", "--bid-window")).toThrow(
      '--bid-window: "1w" is not a duration (e.g. 90s, 30m, 1h, 1h30m, 2d, or seconds)',
    );
    expect(() => parseDuration("0", "--duration")).toThrow("--duration: must be longer than 0 seconds");
  });

  it("prints the two largest units", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(59)).toBe("59s");
    expect(formatDuration(3600n)).toBe("1h");
    expect(formatDuration(3725)).toBe("1h2m");
    expect(formatDuration(90_061)).toBe("1d1h");
    expect(formatDuration(-90)).toBe("-1m30s");
  });

  it("prints times in UTC with how far away they are", () => {
    expect(formatTime(1_700_000_000, 1_700_000_000 - 3600)).toBe("2023-11-14 22:13:20Z (in 1h)");
    expect(formatTime(1_700_000_000, 1_700_000_090)).toBe("2023-11-14 22:13:20Z (1m30s ago)");
    expect(formatTime(1_700_000_000, 1_700_000_000)).toBe("2023-11-14 22:13:20Z (now)");
  });
});

describe("cli: amounts", () => {
  it("reads whole base units exactly, beyond 2^53", () => {
    expect(parseAmount("123", "--deposit")).toBe(123n);
    expect(parseAmount("1_000_000", "--deposit")).toBe(1_000_000n);
    expect(parseAmount("123456789012345678901234567890", "--deposit")).toBe(123456789012345678901234567890n);
    expect(parseAmount("0", "--amount", { allowZero: true })).toBe(0n);
  });

  it("refuses decimals, exponents, signs and zero", () => {
    for (const bad of ["1.5", "1e18", "-1", "+1", "0x10", "", "ten"]) {
      expect(() => parseAmount(bad, "--deposit"), bad).toThrow(UsageError);
    }
    expect(() => parseAmount("1.5", "--deposit")).toThrow('--deposit: "1.5" is not a whole number of token base units');
    expect(() => parseAmount("0", "--amount")).toThrow("--amount: must be more than 0");
  });

  it("formats with the token's decimals by string arithmetic (no float rounding)", () => {
    const token = { decimals: 18, symbol: "tPOD" };
    expect(formatAmount(123n)).toBe("123");
    expect(formatAmount(1n, token)).toBe("1 (0.000000000000000001 tPOD)");
    expect(formatAmount(1_500_000_000_000_000_000n, token)).toBe("1500000000000000000 (1.5 tPOD)");
    // 2^53 + 1 base units of a 0-decimal token, and a value floats cannot hold.
    expect(formatTokens(9_007_199_254_740_993n, 0)).toBe("9007199254740993");
    expect(formatTokens(123456789012345678901234567891n, 18)).toBe("123456789012.345678901234567891");
    expect(formatTokens(0n, 6)).toBe("0");
  });

  it("formats basis points as percent", () => {
    expect(formatBps(10_000)).toBe("100.00%");
    expect(formatBps(9_950)).toBe("99.50%");
  });
});

describe("cli: ids and counts", () => {
  it("reads lease ids as bigints and counts within bounds", () => {
    expect(parseId("7", "<leaseId>")).toBe(7n);
    expect(() => parseId("x7", "<leaseId>")).toThrow('<leaseId>: "x7" is not an id (a whole number)');
    expect(() => parseId(undefined, "<leaseId>")).toThrow("<leaseId>: missing");
    expect(parseCount("250", "--cpu")).toBe(250);
    expect(() => parseCount("0", "--cpu")).toThrow("--cpu: must be between 1 and 4294967295, got 0");
    expect(() => parseCount("2.5", "--cpu")).toThrow('--cpu: "2.5" is not a whole number');
  });
});
