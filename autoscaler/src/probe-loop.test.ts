import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startProbeLoop } from "./probe-loop.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** The time between consecutive round starts (a zero-delay timer still takes Node's 1 ms minimum). */
const gaps = (starts: number[]) => starts.slice(1).map((t, i) => t - (starts[i] as number));

/** A loop whose rounds take `roundMs` each (a probe waiting out its timeout); returns when each round started. */
function run(intervalMs: number, roundMs: number) {
  const starts: number[] = [];
  const loop = startProbeLoop({
    intervalMs: () => intervalMs,
    round: async () => {
      starts.push(Date.now());
      await new Promise((resolve) => setTimeout(resolve, roundMs));
    },
    onError: () => undefined,
  });
  return { starts, loop };
}

describe("startProbeLoop", () => {
  it("starts a round every interval even when probes wait out their timeout (a host gone silent)", async () => {
    const t0 = Date.now();
    // health.interval 1 s, every probe of the round hangs for its 1 s timeout: the dead instance's 3rd failure must
    // come 2 s after its first, not 4 s (a 2 s period would double the detection time of a silent host).
    const { starts, loop } = run(1_000, 1_000);
    await vi.advanceTimersByTimeAsync(4_500);
    loop.stop();
    expect(starts[0]).toBe(t0);
    expect(starts).toHaveLength(5);
    for (const gap of gaps(starts)) {
      expect(gap).toBeGreaterThanOrEqual(1_000);
      expect(gap).toBeLessThanOrEqual(1_005);
    }
  });

  it("never runs two rounds at once: a round longer than the interval is followed at once by the next", async () => {
    const t0 = Date.now();
    let running = 0;
    let most = 0;
    const starts: number[] = [];
    const loop = startProbeLoop({
      intervalMs: () => 1_000,
      round: async () => {
        starts.push(Date.now() - t0);
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        running--;
      },
      onError: () => undefined,
    });
    await vi.advanceTimersByTimeAsync(4_600);
    loop.stop();
    expect(most).toBe(1);
    expect(starts).toHaveLength(4);
    for (const gap of gaps(starts)) {
      expect(gap).toBeGreaterThanOrEqual(1_500);
      expect(gap).toBeLessThanOrEqual(1_505);
    }
  });

  it("keeps going after a failed round, reporting the error", async () => {
    const errors: string[] = [];
    let rounds = 0;
    const loop = startProbeLoop({
      intervalMs: () => 1_000,
      round: async () => {
        rounds++;
        if (rounds === 1) throw new Error("boom");
      },
      onError: (error) => errors.push(error.message),
    });
    await vi.advanceTimersByTimeAsync(2_500);
    loop.stop();
    expect(errors).toEqual(["boom"]);
    expect(rounds).toBe(3);
  });

  it("stops: no round after stop()", async () => {
    const { starts, loop } = run(1_000, 10);
    await vi.advanceTimersByTimeAsync(1_500);
    loop.stop();
    const seen = starts.length;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(starts.length).toBe(seen);
  });
});
