import { describe, expect, it } from "vitest";
import { darkGapReportableUntil, darkReportability, isDarkGapReportable } from "./liveness.js";

// The cases of Guarantees.reportDark, with a threshold of 600 s (the launch value).
const T = 600;
const stake = (over: Partial<Parameters<typeof darkReportability>[0]> = {}) => ({
  lastHeartbeat: 10_000,
  jailed: false,
  darkGapFrom: 0,
  darkGapUntil: 0,
  ...over,
});

describe("dark gaps", () => {
  it("are reportable up to and including darkGapUntil + heartbeatThreshold, then never again", () => {
    const gap = { darkGapUntil: 10_000 };
    expect(darkGapReportableUntil(gap, T)).toBe(10_600n);
    expect(isDarkGapReportable(gap, T, 10_000)).toBe(true);
    expect(isDarkGapReportable(gap, T, 10_600)).toBe(true);
    expect(isDarkGapReportable(gap, T, 10_601)).toBe(false);
  });

  it("do not exist while darkGapUntil is 0 (none recorded, or cleared by unjail)", () => {
    expect(darkGapReportableUntil({ darkGapUntil: 0 }, T)).toBeUndefined();
    expect(isDarkGapReportable({ darkGapUntil: 0n }, T, 0)).toBe(false);
  });
});

describe("darkReportability", () => {
  it("a provider silent for longer than the threshold (strictly) is reportable from its last heartbeat", () => {
    expect(darkReportability(stake(), T, 10_600)).toEqual({
      reportable: false,
      reason: "alive",
      reportableAt: 10_601n,
    });
    expect(darkReportability(stake(), T, 10_601)).toEqual({ reportable: true, reason: "silent", darkAt: 10_000n });
  });

  it("an alive provider with a recent dark gap is reportable from the heartbeat before the gap", () => {
    const late = stake({ lastHeartbeat: 10_000, darkGapFrom: 9_000, darkGapUntil: 10_000 });
    expect(darkReportability(late, T, 10_300)).toEqual({
      reportable: true,
      reason: "dark-gap",
      darkAt: 9_000n,
      reportableUntil: 10_600n,
    });
    // Heartbeating on time after the gap does not end it early; only the window does.
    expect(darkReportability({ ...late, lastHeartbeat: 10_500 }, T, 10_600).reportable).toBe(true);
    expect(darkReportability({ ...late, lastHeartbeat: 10_500 }, T, 10_601)).toEqual({
      reportable: false,
      reason: "alive",
      reportableAt: 11_101n,
    });
  });

  it("never for a jailed provider or one that never staked", () => {
    expect(darkReportability(stake({ jailed: true }), T, 99_999)).toEqual({ reportable: false, reason: "jailed" });
    expect(darkReportability(stake({ lastHeartbeat: 0 }), T, 99_999)).toEqual({
      reportable: false,
      reason: "not-staked",
    });
  });
});
