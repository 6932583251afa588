import { defineConfig } from "vitest/config";
import FailureSummary from "./test/failure-summary.js";
import LaterGroupsSignal from "./test/later-groups-signal.js";
import LongestFirst from "./test/longest-first.js";
import TimelineReporter from "./test/timeline-reporter.js";

/** The packages' own tests: units that need no chain and no Docker, except the files of `isolated` below. */
const units = [
  "sdk/src/**/*.test.ts",
  "worker/src/**/*.test.ts",
  "worker/console/**/*.test.js",
  "autoscaler/src/**/*.test.ts",
  "indexer/src/**/*.test.ts",
  "indexer/bin/**/*.test.ts",
  "indexer/config/**/*.test.ts",
];
/**
 * Package tests that get a module registry of their own: they mock modules (vi.mock), stub globals or the environment,
 * or run real containers. The other units share one per worker: loading the modules once, not once per file, halves
 * their CPU (105 against 52 cpu-s, docs/testing.md). Also here, the package tests that deploy the contracts: they run
 * with the end-to-end files, after the deployable build `npm test` makes beside the package tests. Run beside it,
 * their `forge script` found the build half-written and compiled the contracts again (25 s in the package tests'
 * step instead of 2, in three of the last 19 fresh-clone runs, those whose build took 46-52 s).
 */
const isolated = [
  "worker/src/api/contract-publishers.test.ts",
  "worker/src/admin/bid-routes.test.ts",
  "worker/src/market/collateral.test.ts",
  "worker/src/market/bidding.test.ts",
  "worker/src/market/disputes.test.ts",
  "sdk/src/cli/completion.test.ts",
  "worker/src/admin/addon-supervisor.test.ts",
  "worker/src/store/worker-state.test.ts",
  "autoscaler/src/probe-loop.test.ts",
  "indexer/src/api/errors.test.ts",
  "worker/src/runtime/docker-runtime.test.ts",
  "worker/src/runtime/instance-scope.test.ts",
  "worker/src/runtime/infra-containers.test.ts",
];
/**
 * The file that restarts the Docker Engine every other file uses (test/engine-restart.test.ts: pods come back; dockerd
 * in its own session): after the files that use Docker, beside those that do not (`dockerFree`), which take the cores
 * it leaves idle while it waits on the engine.
 */
const engineRestart = ["test/engine-restart.test.ts"];
/**
 * End-to-end files that never touch Docker (a chain, the indexer, the CLI against them): they run beside the engine
 * restart. Their project points DOCKER_HOST at no socket, so a file here that starts using Docker fails at once
 * instead of racing the restart. About 75 cpu-s in all, what fills the restart's 30 s on two cores; the indexer's
 * file, Docker-free too, lasts a minute and stays with the others.
 */
const dockerFree = [
  "test/app-cli.test.ts",
  "test/deploy-local.test.ts",
  "test/indexer-apps.test.ts",
  "test/network-handover.test.ts",
  "test/share-keys-cli.test.ts",
  "test/sdk-chain.test.ts",
  "test/escrow.test.ts",
  "test/admin-actions.test.ts",
  "test/autoscaler-send-order.test.ts",
  "test/account-claims.test.ts",
  "test/growth-chart.test.ts",
  "test/dev-accounts.test.ts",
  "test/devnet-postgres.test.ts",
  "test/npm-install.test.ts",
  "test/failure-summary.test.ts",
];
/**
 * Files that run last, apart from all the others, the two side by side: stress tests whose bounds assume a machine
 * running no other test file (chaos-ingress: the worker's /health within a second under 5,000 held sockets; the network
 * acceptance: every app back at target within two minutes of a node and a provider killed, which one run beside three
 * other files missed). Together they use about one core of two; one after the other, the second idled for a minute.
 * Side by side: /health at most 82 ms, the slowloris cut at 2.4-2.6 s (bound 3.5), every app at target 16.6-17.8 s
 * after the kills; with one or two spinning processes beside them as well, 61 ms, 2.2-2.8 s, 14.7-17.9 s
 * (docs/testing.md).
 */
const alone = ["test/chaos-ingress.test.ts", "test/autoscaler-network-acceptance.test.ts"];
/**
 * Test files in flight at once. Most of a file's time is waiting on a chain, a container or a daemon, so more files
 * than cores keep the machine busy (docs/testing.md has the measured effect); PODNET_TEST_WORKERS overrides.
 */
const workers = Number(process.env.PODNET_TEST_WORKERS ?? 4);

/** `npm run test:cost`: each file's CPU seconds, one JSON line per file (test/cpu-report.ts). */
const cpuReport = process.env.PODNET_TEST_CPU_REPORT ? ["test/cpu-report.ts"] : [];
/** PODNET_TEST_TIMELINE=<file>: when each file started and ended (test/timeline-reporter.ts). */
const timeline = process.env.PODNET_TEST_TIMELINE;
/** PODNET_TEST_LATER_GROUPS_SIGNAL=<file>: created when the later groups start (test/later-groups-signal.ts). */
const laterGroupsSignal = process.env.PODNET_TEST_LATER_GROUPS_SIGNAL;
/** PODNET_TEST_FAILURES=<file>: which tests failed and why, a few lines each (test/failure-summary.ts). */
const failures = process.env.PODNET_TEST_FAILURES;
/** The group order of the engine restart and the Docker-free files: the first that leave a core idle. */
const LATER_GROUPS = 2;

export default defineConfig({
  test: {
    testTimeout: 60_000,
    globalSetup: ["test/global-setup.ts"],
    setupFiles: cpuReport,
    reporters: [
      "default",
      ...(timeline ? [new TimelineReporter(timeline)] : []),
      ...(laterGroupsSignal ? [new LaterGroupsSignal(laterGroupsSignal, LATER_GROUPS)] : []),
      ...(failures ? [new FailureSummary(failures)] : []),
    ],
    hookTimeout: 180_000,
    // The longest files start first, also on a fresh clone with no timings (test/longest-first.ts).
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        extends: true,
        test: {
          name: "units",
          include: units,
          exclude: isolated,
          isolate: false,
          maxWorkers: workers,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "parallel",
          include: ["test/**/*.test.ts"],
          exclude: [...engineRestart, ...dockerFree, ...alone],
          // One worker process runs file after file, as in `units`: each new process cost vitest's own start and the
          // file's imports, about 2 CPU seconds (docs/testing.md). The end-to-end files change no environment or
          // global and mock nothing; what they start, they stop in their afterAll; test/file-setup.ts clears the
          // harness's process-wide state between them.
          isolate: false,
          // With the root's (test:cost's): vitest merges a project's lists into those it extends.
          setupFiles: ["test/file-setup.ts"],
          maxWorkers: workers,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: "isolated",
          include: isolated,
          maxWorkers: workers,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: "engine-restart",
          include: engineRestart,
          maxWorkers: workers,
          sequence: { groupOrder: LATER_GROUPS },
        },
      },
      {
        extends: true,
        test: {
          name: "docker-free",
          include: dockerFree,
          isolate: false,
          setupFiles: ["test/file-setup.ts"],
          env: { DOCKER_HOST: "unix:///nonexistent/docker-free-files-use-no-docker.sock" },
          maxWorkers: workers,
          sequence: { groupOrder: LATER_GROUPS },
        },
      },
      {
        extends: true,
        test: { name: "alone", include: alone, maxWorkers: alone.length, sequence: { groupOrder: LATER_GROUPS + 1 } },
      },
    ],
  },
});
