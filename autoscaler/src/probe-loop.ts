/**
 * The probe timer: one probe round at a time, a round *starting* every `intervalMs()` (app.yaml's `health.interval`,
 * read again each round so an edit takes effect). Counted from the round's start, not its end: a host gone silent
 * makes every probe wait out its timeout (at most the interval), and counting from the end would stretch the period
 * to interval + timeout, doubling the time to `failuresBeforeReplace` failures. A round longer than the interval is
 * followed at once by the next, never overlapped by it.
 */
export interface ProbeLoop {
  stop(): void;
}

export function startProbeLoop(o: {
  intervalMs: () => number;
  round: () => Promise<void>;
  onError: (error: Error) => void;
}): ProbeLoop {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const loop = async () => {
    if (stopped) return;
    const started = Date.now();
    try {
      await o.round();
    } catch (error) {
      o.onError(error as Error);
    }
    if (!stopped) timer = setTimeout(loop, Math.max(0, started + o.intervalMs() - Date.now()));
  };
  void loop();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
