/**
 * `npm run pack:sdk`: builds the publishable `@podnet/sdk` package (library, `podnet` CLI, JSON Schemas) and packs it
 * into .packages/podnet-sdk-<version>.tgz.
 *
 * Why a staged copy rather than publishing sdk/ itself: inside the repository sdk/package.json points `exports` and
 * `bin` at the TypeScript sources, so tests, tsx scripts and the other workspaces run the SDK with no build step and
 * can never run a stale dist/. The published package needs the opposite (compiled JavaScript, `.d.ts`, a bin plain
 * Node runs), so this script compiles with sdk/tsconfig.build.json into a staging folder and writes that folder's
 * package.json from sdk/package.json: same name, version and dependencies, `exports` and `bin` rewritten to dist/.
 *
 * Usage: `npm run pack:sdk -- [--out <dir>] [--json] [--no-check] [--publish-dry-run]`; `--json` prints what was packed
 * (tarball, staged folder, sizes, files) for test/sdk-package.test.ts.
 */
import { cpSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  compile,
  freshStagingDir,
  npmPack,
  type PackedPackage,
  type PackOptions,
  packFromCommandLine,
  publishedBase,
  readSourceManifest,
  repoRoot,
  run,
  type SourceManifest,
  writeLauncher,
  writeManifest,
} from "./staged-package.js";

const sdkDir = join(repoRoot, "sdk");

/** Compiles, stages and packs the SDK. Throws with the failing command's output. */
function packSdk({ outDir, typeCheck }: PackOptions): PackedPackage {
  const stagedDir = freshStagingDir(outDir, "sdk");
  compile("sdk", join(stagedDir, "dist"), typeCheck);
  writeManifest(stagedDir, publishedManifest(readSourceManifest("sdk")));
  writeLauncher(
    stagedDir,
    "bin/podnet.mjs",
    '// The publisher CLI (docs/cli.md), compiled.\nimport "../dist/src/cli/bin.js";\n',
  );
  for (const file of ["README.md", "CHANGELOG.md", "pod-manifest.schema.json", "app-config.schema.json"]) {
    cpSync(join(sdkDir, file), join(stagedDir, file));
  }
  copyKnownDeployments(stagedDir);
  return npmPack(stagedDir, outDir);
}

/** The published package.json: sdk/package.json's identity and dependencies (copied exactly), pointed at dist/. */
function publishedManifest(source: SourceManifest): Record<string, unknown> {
  const entry = (path: string) => ({ types: `./dist/src/${path}.d.ts`, import: `./dist/src/${path}.js` });
  return {
    ...publishedBase(source),
    // No "./": npm publish drops a bin path that starts with it ("npm pkg fix").
    bin: { podnet: "bin/podnet.mjs" },
    exports: {
      ".": entry("index"),
      "./protocol": entry("protocol/index"),
      "./pod-manifest.schema.json": "./pod-manifest.schema.json",
      "./app-config.schema.json": "./app-config.schema.json",
      "./package.json": "./package.json",
    },
    types: "./dist/src/index.d.ts",
    files: ["dist", "bin", "deployments", "pod-manifest.schema.json", "app-config.schema.json", "CHANGELOG.md"],
  };
}

/**
 * Public deployments committed to deployments/ (a local devnet's 31337.json is ignored by git and never ships): the
 * CLI's default `--deployments` is <package>/deployments/<chainId>.json.
 */
function copyKnownDeployments(stagedDir: string): void {
  const tracked = run("git", ["ls-files", "--", "deployments/*.json"], repoRoot).split("\n").filter(Boolean);
  if (tracked.length === 0) return;
  mkdirSync(join(stagedDir, "deployments"));
  for (const file of tracked) cpSync(join(repoRoot, file), join(stagedDir, file));
}

packFromCommandLine(packSdk);
