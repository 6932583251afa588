/**
 * A task that concurrent callers share without anyone getting an outcome older than their call (a poll of a status
 * URL). `fresh()` resolves with a run that started at or after the call: none in flight starts one now; one in flight
 * gets one more queued after it, shared by every `fresh()` until it starts. `any()` is for a timer's poll, which
 * any run in flight will do.
 *
 * Why not simply join the run in flight: a caller that has just changed something and asks for a poll (a network
 * node after a directory change, a test after changing a status) would get an answer fetched before the change.
 */
export class SharedRun {
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  readonly #task: () => Promise<void>;

  constructor(task: () => Promise<void>) {
    this.#task = task;
  }

  /** A run that starts at or after this call; a failure of the run in flight does not fail it. */
  fresh(): Promise<void> {
    if (this.#queued) return this.#queued;
    if (!this.#running) return this.#start();
    const queued = this.#running
      .catch(() => undefined)
      .then(() => {
        this.#queued = undefined;
        return this.#start();
      });
    this.#queued = queued;
    return queued;
  }

  /** The run in flight (or the one queued after it), else a new one. */
  any(): Promise<void> {
    return this.#queued ?? this.#running ?? this.#start();
  }

  #start(): Promise<void> {
    const run = this.#task().finally(() => {
      if (this.#running === run) this.#running = undefined;
    });
    this.#running = run;
    return run;
  }
}
