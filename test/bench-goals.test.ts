/**
 * The benchmarks' goal verdicts (devnet/src/bench/stats.ts atMost): a goal is judged on exactly the statistics its
 * cell names, so a row can never print "p50 <= X" and judge the maximum.
 */
import { atMost, goalCells } from "@podnet/devnet/bench/stats";
import { describe, expect, it } from "vitest";

/** The figures of the gas row that read "not met" with its median under the goal (issue 22, scope 6). */
const withdraw = { p50: 59_950, p95: 60_113, max: 60_113 };

describe("bench goals", () => {
  it("judges the median when the goal names the median, whatever the maximum", () => {
    expect(atMost(withdraw, { p50: 60_000 })).toEqual({ goal: "p50 <= 60,000", verdict: "met" });
    expect(atMost(withdraw, { max: 60_000 })).toEqual({ goal: "max <= 60,000", verdict: "**not met**" });
  });

  it("names every statistic it judges, grouped by limit, and needs all of them", () => {
    const figures = { p50: 400, p95: 1_200, max: 2_000 };
    expect(atMost(figures, { p50: 1_000, p95: 1_000 }, " ms")).toEqual({
      goal: "p50, p95 <= 1,000 ms",
      verdict: "**not met**",
    });
    expect(atMost(figures, { p50: 500, p95: 1_500 }, " ms")).toEqual({
      goal: "p50 <= 500, p95 <= 1,500 ms",
      verdict: "met",
    });
    expect(goalCells(atMost(figures, { p95: 1_500 }, " ms"))).toBe("p95 <= 1,500 ms | met");
  });

  it("does not call a goal met on a statistic that was not measured", () => {
    expect(atMost({ p50: Number.NaN }, { p50: 10 }).verdict).toBe("**not met**");
    expect(atMost({ p50: 5 }, { p99: 10 }).verdict).toBe("**not met**");
    expect(() => atMost({ p50: 5 }, {})).toThrow("names at least one statistic");
  });
});
