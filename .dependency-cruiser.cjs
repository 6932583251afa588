// The layer rules of docs/architecture.md, checked by `npm test` (npm run check:deps). Imports are followed as
// TypeScript resolves them (workspace packages through their `exports` to the source files), and type-only imports
// count: a cycle of `import type` still ties the files together for a reader and for the compiler.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "No import cycle between files, type-only imports included.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-unresolvable",
      comment: "Every import resolves to a file or a package (Ponder's virtual ponder:* modules aside).",
      severity: "error",
      from: {},
      to: { couldNotResolve: true, pathNot: "^ponder:" },
    },
    {
      name: "test-is-the-top",
      comment:
        "End-to-end tests import the harness and the packages; nothing imports test/ but the test runner's own " +
        "config (vitest.config.ts: its sequencer, test/longest-first.ts).",
      severity: "error",
      from: { pathNot: "^(test/|vitest\\.config\\.ts$)" },
      to: { path: "^test/" },
    },
    {
      name: "script-is-entry-points",
      comment:
        "script/ holds entry points only: what they share lives in devnet/ (or the package it belongs to). " +
        "Exception: the pack scripts share their build steps within script/packaging/ (staged-package.ts).",
      severity: "error",
      from: { pathNot: "^script/packaging/" },
      to: { path: "^script/" },
    },
    {
      name: "devnet-below-test-and-script",
      comment: "The harness serves the tests, the demo and the benchmarks; it imports none of them.",
      severity: "error",
      from: { path: "^devnet/" },
      to: { path: "^(test|script)/" },
    },
    {
      name: "protocol-is-the-bottom",
      comment: "sdk/src/protocol is imported by every package and imports only itself and npm packages.",
      severity: "error",
      from: { path: "^sdk/src/protocol/" },
      to: { path: "^(sdk|worker|indexer|devnet|test|script)/", pathNot: "^sdk/src/protocol/" },
    },
    {
      name: "worker-and-indexer-use-the-protocol-layer",
      comment: "The worker and the indexer share wire formats through @podnet/sdk/protocol, never the SDK's actions.",
      severity: "error",
      from: { path: "^(worker|indexer)/" },
      to: { path: "^sdk/", pathNot: "^sdk/src/protocol/" },
    },
    {
      name: "packages-do-not-import-each-other",
      comment: "sdk, worker and indexer are separate deployables; only the protocol layer is shared.",
      severity: "error",
      from: { path: "^(sdk|worker|indexer)/" },
      to: { path: "^(sdk|worker|indexer|autoscaler)/", pathNot: ["^$1/", "^sdk/src/protocol/"] },
    },
    {
      name: "only-tests-use-the-harness",
      comment: "Production code of the packages never imports devnet; a package's own tests may.",
      severity: "error",
      from: { path: "^(sdk|worker|indexer|autoscaler)/", pathNot: "\\.test\\.ts$" },
      to: { path: "^devnet/" },
    },
    {
      name: "no-test-files-in-production",
      comment: "A *.test.ts file is never imported by code that ships.",
      severity: "error",
      from: { pathNot: "\\.test\\.ts$" },
      to: { path: "\\.test\\.ts$" },
    },
    {
      name: "autoscaler-is-a-publisher",
      comment:
        "The autoscaler acts for an app as a publisher does: through the SDK (actions and protocol), never the worker's or the indexer's code.",
      severity: "error",
      from: { path: "^autoscaler/" },
      to: { path: "^(worker|indexer)/" },
    },
    {
      name: "addons-are-outside-the-trusted-core",
      comment:
        "An addon (worker/src/addons/) is a separate process that talks to the worker only through the admin API: it imports its own folder and npm packages, never the worker's code (the key, the state, the runtime).",
      severity: "error",
      from: { path: "^worker/src/addons/" },
      to: { path: "^worker/", pathNot: "^worker/src/addons/" },
    },
    {
      name: "actions-do-not-bind",
      comment:
        "Actions take the client as a parameter; the decorator imports them all, so an action importing the decorator, createPodnetClient or the package root would close a cycle through every action.",
      severity: "error",
      from: { path: "^sdk/src/actions/" },
      to: { path: "^sdk/src/(decorators/|create-podnet-client\\.ts$|index\\.ts$)" },
    },
    {
      name: "client-imports-no-action",
      comment: "client.ts defines the client and its extend(); actions are bound by the decorator, not here.",
      severity: "error",
      from: { path: "^sdk/src/client\\.ts$" },
      to: { path: "^sdk/src/actions/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|generated|out|cache)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
    },
  },
};
