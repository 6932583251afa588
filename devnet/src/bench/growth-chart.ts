/**
 * Charts of cost against size for `npm run bench:growth`: one small line chart per figure, side by side, drawn as SVG
 * with Vega-Lite (rendered headless by Vega, no browser or canvas), so docs/benchmarks.md shows the curve and not only
 * a point. Sizes go on a log axis when they span more than a factor of 20 (1k..100k providers), linear otherwise.
 */
import * as vega from "vega";
import * as vl from "vega-lite";

/** One figure to chart: its values at each size, and the goal line if the figure has one. */
export type GrowthPanel = {
  title: string;
  unit: string;
  /** One line per series (e.g. p50 and p95), each a value per size. */
  series: { name: string; points: { size: number; value: number }[] }[];
  goal?: number;
};

export type GrowthChart = { title: string; sizeLabel: string; panels: GrowthPanel[] };

/** What `--json` of bench:search and bench:worker write (devnet/src/bench/report.ts `writeJsonResult`), as charted. */
export type SearchSize = {
  providers: number;
  seedSeconds: number;
  indexedAfterSeconds: number;
  firstSearchMs: number;
  latencies: { p50: number; p95: number; max: number };
  rssMiB: number;
};
export type WorkerRun = {
  pods: number;
  deploySeconds: number;
  rssIdleMiB: number;
  rssMaxMiB: number;
  restartA: { healthMs: number; allServingMs: number };
  restartB: { healthMs: number; allServingMs: number; doneMs: number };
};
export type BenchResult<T> = { command: string; at: string; machine: string; figures: T };
export type GrowthData = {
  search?: BenchResult<{ database: string; sizes: SearchSize[] }>;
  worker?: BenchResult<WorkerRun>[];
};

const SEARCH_GOAL_P95_MS = 50;
const RESTART_GOAL_MS = 10_000;
const PANEL_WIDTH = 220;
const PANEL_HEIGHT = 160;

/** The Vega-Lite spec of `chart` (exported for the test, which checks what is drawn). */
export function growthSpec(chart: GrowthChart): vl.TopLevelSpec {
  const sizes = chart.panels.flatMap((p) => p.series.flatMap((s) => s.points.map((pt) => pt.size)));
  const logScale = Math.max(...sizes) / Math.min(...sizes) > 20;
  const x = {
    field: "size",
    type: "quantitative" as const,
    title: chart.sizeLabel,
    scale: logScale ? { type: "log" as const } : { zero: false },
    axis: { values: [...new Set(sizes)].sort((a, b) => a - b), format: "~s" },
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: chart.title,
    config: { font: "sans-serif", view: { stroke: "#ddd" } },
    // Each panel its own colours and legend: their series are different figures.
    resolve: { scale: { color: "independent" }, legend: { color: "independent" } },
    hconcat: chart.panels.map((panel) => ({
      title: { text: panel.title, fontSize: 12 },
      width: PANEL_WIDTH,
      height: PANEL_HEIGHT,
      layer: [
        {
          data: {
            values: panel.series.flatMap((s) =>
              s.points.map((pt) => ({ size: pt.size, value: pt.value, series: s.name })),
            ),
          },
          mark: { type: "line", point: true },
          encoding: {
            x,
            y: { field: "value", type: "quantitative", title: panel.unit, scale: { zero: true } },
            color: {
              field: "series",
              type: "nominal",
              title: null,
              legend: panel.series.length > 1 ? { orient: "bottom" } : null,
            },
          },
        },
        ...(panel.goal === undefined
          ? []
          : [
              {
                data: { values: [{ goal: panel.goal }] },
                mark: { type: "rule" as const, strokeDash: [4, 4], color: "#c0392b" },
                encoding: { y: { field: "goal", type: "quantitative" as const } },
              },
            ]),
      ],
    })),
  } as vl.TopLevelSpec;
}

/** The chart as a standalone SVG document. */
export async function growthSvg(chart: GrowthChart): Promise<string> {
  for (const panel of chart.panels) {
    for (const s of panel.series) {
      for (const pt of s.points) {
        if (!Number.isFinite(pt.value) || !(pt.size > 0)) {
          throw new Error(`${chart.title} / ${panel.title} / ${s.name}: size ${pt.size} has no finite value`);
        }
      }
    }
  }
  const view = new vega.View(vega.parse(vl.compile(growthSpec(chart)).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function searchChart(data: NonNullable<GrowthData["search"]>): GrowthChart {
  const sizes = data.figures.sizes;
  const line = (name: string, pick: (s: SearchSize) => number) => ({
    name,
    points: sizes.map((s) => ({ size: s.providers, value: pick(s) })),
  });
  return {
    title: `/search against the number of providers, indexer on ${data.figures.database}`,
    sizeLabel: "providers",
    panels: [
      {
        title: "/search latency",
        unit: "ms",
        series: [line("p50", (s) => s.latencies.p50), line("p95", (s) => s.latencies.p95)],
        goal: SEARCH_GOAL_P95_MS,
      },
      { title: "first search after growing", unit: "ms", series: [line("first", (s) => s.firstSearchMs)] },
      { title: "indexer memory (RSS)", unit: "MiB", series: [line("RSS", (s) => s.rssMiB)] },
    ],
  };
}

export function workerChart(runs: BenchResult<WorkerRun>[]): GrowthChart {
  const sorted = runs.map((r) => r.figures).sort((a, b) => a.pods - b.pods);
  const line = (name: string, pick: (r: WorkerRun) => number) => ({
    name,
    points: sorted.map((r) => ({ size: r.pods, value: pick(r) })),
  });
  return {
    title: "One provider's worker against the number of pods it runs",
    sizeLabel: "pods",
    panels: [
      { title: "deploy N pods at once, until all serve", unit: "s", series: [line("deploy", (r) => r.deploySeconds)] },
      {
        title: "restart after kill -9, until all serve",
        unit: "ms",
        series: [
          line("a: containers kept", (r) => r.restartA.allServingMs),
          line("b: 10 removed", (r) => r.restartB.doneMs),
        ],
        goal: RESTART_GOAL_MS,
      },
      {
        title: "worker memory (RSS)",
        unit: "MiB",
        series: [line("with the pods", (r) => r.rssMaxMiB), line("idle", (r) => r.rssIdleMiB)],
      },
    ],
  };
}
