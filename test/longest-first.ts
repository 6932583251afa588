/**
 * The order vitest starts the files of a group in (vitest.config.ts `sequence.sequencer`). vitest runs the files it has
 * timed before longest first, but a fresh clone (CI) has no timings, and its fallback put `test/bench.test.ts` (a
 * short file, the longest run) near the end: the group then ended on it with the other workers idle. The files below
 * start first, in this order (their wall times in a CI run, 2026-12-06: 161 to 36 s); the rest keep vitest's order.
 */
import { BaseSequencer, type TestSpecification } from "vitest/node";

export const LONGEST_FIRST = [
  // Of the group after these: the engine restart, which mostly waits, first, beside the Docker-free files.
  "test/engine-restart.test.ts",
  "test/worker-image.test.ts",
  "test/bench.test.ts",
  "test/chaos-outages.test.ts",
  "test/cli.test.ts",
  "test/autoscaler-scope.test.ts",
  "test/autoscaler-package.test.ts",
  "test/sandbox.test.ts",
  "test/sdk-package.test.ts",
  "test/console-browser.test.ts",
  "test/indexer-restart.test.ts",
  "test/autoscaler-sidecar.test.ts",
  "test/autoscaler-network.test.ts",
  "test/worker-lifecycle.test.ts",
  "test/demo.test.ts",
  "test/indexer.test.ts",
  "test/worker-package.test.ts",
  "test/autoscaler.test.ts",
  "test/app-dns.test.ts",
  "test/scale-to-zero.test.ts",
  "worker/src/runtime/docker-runtime.test.ts",
  "test/bench-api.test.ts",
  "test/autoscaler-image.test.ts",
  "test/scenarios.test.ts",
  "test/sdk.test.ts",
];

const rank = (file: TestSpecification) => {
  const index = LONGEST_FIRST.findIndex((path) => file.moduleId.endsWith(`/${path}`));
  return index === -1 ? LONGEST_FIRST.length : index;
};

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const position = new Map(sorted.map((file, i) => [file, i]));
    // Groups stay where vitest put them; inside each, whatever its projects, the listed files first (the engine
    // restart must start beside the Docker-free files of its group, not after them).
    return [...sorted].sort((a, b) => {
      const group = a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder;
      if (group !== 0) return group;
      return rank(a) - rank(b) || (position.get(a) ?? 0) - (position.get(b) ?? 0);
    });
  }
}
