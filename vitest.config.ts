import { defineConfig } from "vitest/config";

const include = [
  "sdk/src/**/*.test.ts",
  "worker/src/**/*.test.ts",
  "worker/console/**/*.test.js",
  "autoscaler/src/**/*.test.ts",
  "indexer/src/**/*.test.ts",
  "indexer/bin/**/*.test.ts",
  "test/**/*.test.ts",
];
/**
 * Files that run alone, after all the others: those that restart the Docker Engine every other file uses, and the
 * stress tests whose bounds (descriptors released after 5,000 sockets, an app back at target within 2 minutes of a
 * node and a provider killed) assume a machine that is not also running three other test files.
 */
const alone = [
  "test/engine-restart.test.ts",
  "test/docker-engine.test.ts",
  "test/chaos-ingress.test.ts",
  "test/autoscaler-network-acceptance.test.ts",
];
/**
 * Test files in flight at once. Most of a file's time is waiting on a chain, a container or a daemon, so more files
 * than cores keep the machine busy (docs/testing.md has the measured effect); PODNET_TEST_WORKERS overrides.
 */
const workers = Number(process.env.PODNET_TEST_WORKERS ?? 4);

export default defineConfig({
  test: {
    testTimeout: 60_000,
    globalSetup: ["test/global-setup.ts"],
    // `npm run test:cost`: each file's CPU seconds, one JSON line per file (test/cpu-report.ts).
    setupFiles: process.env.PODNET_TEST_CPU_REPORT ? ["test/cpu-report.ts"] : [],
    hookTimeout: 180_000,
    projects: [
      {
        extends: true,
        test: { name: "parallel", include, exclude: alone, maxWorkers: workers, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: "alone", include: alone, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
