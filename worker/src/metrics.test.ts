import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.js";

/** The smallest event-loop delay in the worker's /metrics text, in ms. */
async function lagMinMs(metrics: ReturnType<typeof createMetrics>): Promise<number> {
  const text = await metrics.registry.metrics();
  const value = /^nodejs_eventloop_lag_min_seconds (\S+)$/m.exec(text)?.[1];
  if (value === undefined) throw new Error(`no nodejs_eventloop_lag_min_seconds in:\n${text}`);
  return Number(value) * 1000;
}

describe("createMetrics", () => {
  it("samples the event loop's lag at the configured precision (each sample is at least one interval)", async () => {
    const coarse = createMetrics({ loopPrecisionMs: 100 });
    const fine = createMetrics({ loopPrecisionMs: 10 });
    await new Promise((resolve) => setTimeout(resolve, 450));
    // Node records the time between two samples: the interval plus the lag, so the minimum shows the interval.
    expect(await lagMinMs(coarse)).toBeGreaterThanOrEqual(90);
    expect(await lagMinMs(fine)).toBeLessThan(50);
  });
});
