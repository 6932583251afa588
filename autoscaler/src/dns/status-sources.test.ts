import { describe, expect, it } from "vitest";
import type { AppStatus } from "../status-wire.js";
import { StatusSources } from "./status-sources.js";
import { appStatus, instance } from "./test-helpers.js";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * A status URL whose answers the test releases one by one. Each fetch answers what the "server" held when the request
 * arrived (as a real /status does), so a fetch started before a change carries the old status.
 */
function heldStatus(initial: AppStatus) {
  const held: (() => void)[] = [];
  const state = {
    current: initial,
    /** When set, the next fetches fail with this message instead (a connection reset). */
    failing: undefined as string | undefined,
    fetches: 0,
    hold: false,
    fetchStatus: (_url: string, _timeoutMs: number): Promise<AppStatus> => {
      state.fetches += 1;
      const answer =
        state.failing === undefined ? Promise.resolve(state.current) : Promise.reject(new Error(state.failing));
      if (!state.hold) return answer;
      return new Promise<AppStatus>((resolve, reject) => held.push(() => answer.then(resolve, reject)));
    },
    /** Lets every held fetch answer, and those started meanwhile, until none is held. */
    async releaseAll() {
      state.hold = false;
      while (held.length > 0) {
        for (const release of held.splice(0)) release();
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
  return state;
}

const addressesOf = (sources: StatusSources, app: string) =>
  sources
    .fresh()
    .get(app)
    ?.flatMap((status) => status.instances.flatMap((row) => row.ingress?.addresses ?? []));

function sourcesFor(status: ReturnType<typeof heldStatus>, onPoll: () => void = () => {}) {
  return new StatusSources({
    apps: [{ name: "web", statusUrls: ["http://status.test/status"] }],
    pollIntervalMs: 60_000,
    timeoutMs: 1000,
    staleAfterMs: 60_000,
    onPoll,
    log: quiet,
    fetchStatus: status.fetchStatus,
  });
}

describe("StatusSources.pollAll", () => {
  // A poll (the background timer's, say) is in flight with the old status, or about to fail, when the status changes.
  it.each([
    ["answers", undefined],
    ["fails", "connection reset"],
  ])("resolves with a status fetched after the call while an older poll that %s is in flight", async (_, failure) => {
    const status = heldStatus(appStatus([instance("1", "healthy", ["192.0.2.1"])]));
    const sources = sourcesFor(status);
    await sources.start();
    expect(addressesOf(sources, "web")).toEqual(["192.0.2.1"]);

    status.hold = true;
    status.failing = failure;
    const older = sources.pollAll();
    status.failing = undefined;
    status.current = appStatus([instance("2", "healthy", ["192.0.2.2"])]);
    const newer = sources.pollAll();
    await status.releaseAll();
    await Promise.all([older, newer]);

    expect(addressesOf(sources, "web")).toEqual(["192.0.2.2"]);
    sources.stop();
  });

  it("shares one queued poll among every caller that comes while a poll is in flight", async () => {
    const status = heldStatus(appStatus([instance("1", "healthy", ["192.0.2.1"])]));
    let polls = 0;
    const sources = sourcesFor(status, () => {
      polls += 1;
    });
    await sources.start();
    const before = status.fetches;

    status.hold = true;
    const inFlight = sources.pollAll();
    const waiting = [sources.pollAll(), sources.pollAll(), sources.pollAll()];
    status.current = appStatus([instance("3", "healthy", ["192.0.2.3"])]);
    await status.releaseAll();
    await Promise.all([inFlight, ...waiting]);

    // The one in flight and one after it: not one per caller.
    expect(status.fetches - before).toBe(2);
    expect(addressesOf(sources, "web")).toEqual(["192.0.2.3"]);
    expect(polls).toBe(3);
    sources.stop();
  });
});
