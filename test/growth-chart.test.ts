/**
 * The growth charts of `npm run bench:growth` (script/bench/growth-chart.ts): what the SVG draws, read back from it:
 * one labelled point per figure and size, placed by its size (log axis across 1k..100k, linear across 20..200) and
 * its value, and the goal line.
 */

import {
  type BenchResult,
  type GrowthChart,
  growthSvg,
  searchChart,
  type WorkerRun,
  workerChart,
} from "@podnet/devnet/bench/growth-chart";
import { describe, expect, it } from "vitest";

type Point = { label: string; x: number; y: number };

/** The chart's points (Vega draws each as a path labelled "<size axis>: <size>; <unit>: <value>; series: <name>"). */
function points(svg: string): Point[] {
  return [
    ...svg.matchAll(
      /<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="point" transform="translate\(([-\d.e]+),([-\d.e]+)\)"/g,
    ),
  ].map((m) => ({ label: m[1] as string, x: Number(m[2]), y: Number(m[3]) }));
}

const at = (all: Point[], label: string) => {
  const found = all.filter((p) => p.label === label);
  expect(found, label).toHaveLength(1);
  return found[0] as Point;
};

const chart = (sizes: number[], values: Record<string, number[]>, goal?: number): GrowthChart => ({
  title: "test",
  sizeLabel: "providers",
  panels: [
    {
      title: "latency",
      unit: "ms",
      goal,
      series: Object.entries(values).map(([name, v]) => ({
        name,
        points: sizes.map((size, i) => ({ size, value: v[i] as number })),
      })),
    },
  ],
});

describe("growth charts", () => {
  it("draws each figure at its size on a log axis across 1k..100k, higher values higher, and the goal", async () => {
    const svg = await growthSvg(chart([1000, 10_000, 100_000], { p50: [3, 5, 12], p95: [7, 11, 18] }, 50));
    const all = points(svg);
    expect(all).toHaveLength(6);
    const p50 = [at(all, "providers: 1k; ms: 3; series: p50"), at(all, "providers: 10k; ms: 5; series: p50")];
    p50.push(at(all, "providers: 100k; ms: 12; series: p50"));
    const [a, b, c] = p50 as [Point, Point, Point];
    // Log axis: 10k sits halfway between 1k and 100k.
    expect(b.x - a.x).toBeCloseTo(c.x - b.x, 6);
    // SVG y grows downwards: a larger value is drawn higher.
    expect(a.y).toBeGreaterThan(b.y);
    expect(b.y).toBeGreaterThan(c.y);
    expect(at(all, "providers: 100k; ms: 18; series: p95").y).toBeLessThan(c.y);
    expect(svg).toContain('aria-label="goal: 50"');
    expect(svg).toContain("latency");
  });

  it("uses a linear axis across 20..200 pods", async () => {
    const all = points(await growthSvg(chart([20, 100, 200], { deploy: [2, 9, 19] })));
    const values = [2, 9, 19];
    const [a, b, c] = [20, 100, 200].map((n, i) => at(all, `providers: ${n}; ms: ${values[i]}; series: deploy`)) as [
      Point,
      Point,
      Point,
    ];
    expect((b.x - a.x) / (c.x - a.x)).toBeCloseTo(80 / 180, 6);
  });

  it("refuses a figure that was not measured, naming it", async () => {
    await expect(growthSvg(chart([1000, 10_000], { p95: [4, Number.NaN] }))).rejects.toThrow(
      "test / latency / p95: size 10000 has no finite value",
    );
  });

  it("charts the worker's runs in pod order, with the 10 s reconcile goal", async () => {
    const run = (pods: number, deploySeconds: number): BenchResult<WorkerRun> => ({
      command: `bench-worker --pods ${pods}`,
      at: "2026-12-06T00:00:00.000Z",
      machine: "test",
      figures: {
        pods,
        deploySeconds,
        rssIdleMiB: 170,
        rssMaxMiB: 180 + pods / 10,
        restartA: { healthMs: 1000, allServingMs: 1500 + pods * 5 },
        restartB: { healthMs: 1100, allServingMs: 4000 + pods * 10, doneMs: 4100 + pods * 10 },
      },
    });
    const drawn = workerChart([run(200, 30), run(20, 3), run(100, 14)]);
    const deploy = drawn.panels[0]?.series[0]?.points;
    expect(deploy).toEqual([
      { size: 20, value: 3 },
      { size: 100, value: 14 },
      { size: 200, value: 30 },
    ]);
    expect(drawn.panels[1]?.goal).toBe(10_000);
    expect(drawn.panels[1]?.series.map((s) => s.points.map((p) => p.value))).toEqual([
      [1600, 2000, 2500],
      [4300, 5100, 6100],
    ]);
    const svg = await growthSvg(drawn);
    expect(points(svg)).toHaveLength(3 * 5);
  });

  it("charts /search at each provider count with the 50 ms goal", () => {
    const size = (providers: number, p50: number, p95: number) => ({
      providers,
      seedSeconds: providers / 100,
      indexedAfterSeconds: 1,
      firstSearchMs: providers / 1000,
      latencies: { p50, p95, max: p95 * 2 },
      rssMiB: 200 + providers / 100,
    });
    const drawn = searchChart({
      command: "bench-search",
      at: "2026-12-06T00:00:00.000Z",
      machine: "test",
      figures: { database: "PGlite", sizes: [size(1000, 3, 7), size(100_000, 12, 18)] },
    });
    expect(drawn.panels[0]?.goal).toBe(50);
    expect(drawn.panels[0]?.series.map((s) => [s.name, s.points])).toEqual([
      [
        "p50",
        [
          { size: 1000, value: 3 },
          { size: 100_000, value: 12 },
        ],
      ],
      [
        "p95",
        [
          { size: 1000, value: 7 },
          { size: 100_000, value: 18 },
        ],
      ],
    ]);
  });
});
