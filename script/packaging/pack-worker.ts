/**
 * `npm run pack:worker`: builds the publishable `@podnet/worker` package (the provider daemon, its `podnet-worker`
 * bin and the admin console's browser files) and packs it into .packages/podnet-worker-<version>.tgz. It depends on
 * `@podnet/sdk` at the same version (`npm run pack:sdk` packs that one).
 *
 * Inside the repository worker/bin/podnet-worker.mjs runs the TypeScript sources through tsx; the package ships what
 * plain Node runs: worker/tsconfig.build.json compiles worker/src without its tests to dist/, and the staged folder
 * gets the files the worker reads relative to its own modules at run time, at the same place relative to dist/ as to
 * src/ in the repository: console/ (console-assets.ts, `../../console/` from dist/admin), package.json (the version
 * overview.ts reports), bin/podnet-addon.mjs (the launcher addon-supervisor.ts starts addons with) and dist/addons/.
 *
 * Usage: `npm run pack:worker -- [--out <dir>] [--json] [--no-check] [--publish-dry-run]`; `--json` prints what was
 * packed for test/worker-package.test.ts.
 */
import { cpSync } from "node:fs";
import { basename, join } from "node:path";
import {
  checkSdkVersion,
  compile,
  freshStagingDir,
  npmPack,
  type PackedPackage,
  type PackOptions,
  packFromCommandLine,
  publishedBase,
  readSourceManifest,
  repoRoot,
  type SourceManifest,
  writeLauncher,
  writeManifest,
} from "./staged-package.js";

const workerDir = join(repoRoot, "worker");

/** Compiles, stages and packs the worker. Throws with the failing command's output. */
function packWorker({ outDir, typeCheck }: PackOptions): PackedPackage {
  const stagedDir = freshStagingDir(outDir, "worker");
  compile("worker", join(stagedDir, "dist"), typeCheck);
  writeManifest(stagedDir, publishedManifest(readSourceManifest("worker")));
  writeLauncher(
    stagedDir,
    "bin/podnet-worker.mjs",
    '// The provider daemon (docs/worker.md), compiled.\nimport "../dist/cli.js";\n',
  );
  writeLauncher(
    stagedDir,
    "bin/podnet-addon.mjs",
    [
      "// Runs one compiled addon module (argv[2], a path): the worker's addon supervisor starts each addon with it.",
      'import { pathToFileURL } from "node:url";',
      "",
      "await import(pathToFileURL(process.argv[2]).href);",
      "",
    ].join("\n"),
  );
  // The browser modules, without their unit tests and the tsconfig that type-checks them in the repository.
  cpSync(join(workerDir, "console"), join(stagedDir, "console"), {
    recursive: true,
    filter: (source) => !source.endsWith(".test.js") && basename(source) !== "tsconfig.json",
  });
  for (const file of ["README.md", "CHANGELOG.md"]) cpSync(join(workerDir, file), join(stagedDir, file));
  // The example service unit (docs/worker.md, "Install"), where an operator finds it after `npm install`.
  cpSync(join(workerDir, "systemd"), join(stagedDir, "systemd"), { recursive: true });
  return npmPack(stagedDir, outDir);
}

/**
 * The published package.json: worker/package.json's identity and dependencies (copied exactly; preact, htm and uplot
 * among them, which the console serves from the installed package), `@podnet/sdk` checked to be the SDK's own
 * version, since the two are released together. No `exports`: the worker is a program, not a library.
 */
function publishedManifest(worker: SourceManifest): Record<string, unknown> {
  checkSdkVersion("worker", worker);
  return {
    ...publishedBase(worker),
    // No "./": npm publish drops a bin path that starts with it ("npm pkg fix").
    bin: { "podnet-worker": "bin/podnet-worker.mjs" },
    files: ["dist", "bin", "console", "systemd", "CHANGELOG.md"],
  };
}

packFromCommandLine(packWorker);
