import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "sdk/src/**/*.test.ts",
      "worker/src/**/*.test.ts",
      "worker/console/**/*.test.js",
      "autoscaler/src/**/*.test.ts",
      "indexer/src/**/*.test.ts",
      "indexer/bin/**/*.test.ts",
      "test/**/*.test.ts",
    ],
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
