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
 * Usage: `npm run pack:sdk -- [--out <dir>] [--json] [--publish-dry-run]`; `--json` prints what was packed (tarball,
 * staged folder, sizes, files) for test/sdk-package.test.ts.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const root = resolve(import.meta.dirname, "..", "..");
const sdkDir = join(root, "sdk");

/** What `packSdk` produced. */
interface PackedSdk {
  /** Absolute path of the .tgz. */
  tarball: string;
  /** The staged package folder the tarball was packed from (where `npm publish` would run). */
  stagedDir: string;
  /** Tarball size and unpacked size in bytes, and the packed file paths, as `npm pack --json` reports them. */
  size: number;
  unpackedSize: number;
  files: string[];
}

interface PackSdkOptions {
  /** Where the tarball goes; the package is staged in `<outDir>/staging/sdk`. Default: .packages/ */
  outDir?: string;
}

/** The fields of sdk/package.json this script reads. */
interface SourceManifest {
  name: string;
  version: string;
  description: string;
  dependencies: Record<string, string>;
}

/** Compiles, stages and packs the SDK. Throws with the failing command's output. */
function packSdk(options: PackSdkOptions = {}): PackedSdk {
  const outDir = resolve(options.outDir ?? join(root, ".packages"));
  const stagedDir = join(outDir, "staging", "sdk");
  rmSync(stagedDir, { recursive: true, force: true });
  mkdirSync(stagedDir, { recursive: true });

  run(
    join(root, "node_modules", ".bin", "tsc"),
    ["-p", join(sdkDir, "tsconfig.build.json"), "--outDir", join(stagedDir, "dist")],
    root,
  );

  const source = JSON.parse(readFileSync(join(sdkDir, "package.json"), "utf8")) as SourceManifest;
  writeFileSync(join(stagedDir, "package.json"), `${JSON.stringify(publishedManifest(source), null, 2)}\n`);
  writeBin(stagedDir);
  for (const file of ["README.md", "CHANGELOG.md", "pod-manifest.schema.json", "app-config.schema.json"]) {
    cpSync(join(sdkDir, file), join(stagedDir, file));
  }
  copyKnownDeployments(stagedDir);

  mkdirSync(outDir, { recursive: true });
  const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", outDir], stagedDir)) as {
    filename: string;
    size: number;
    unpackedSize: number;
    files: { path: string }[];
  }[];
  const [result] = packed;
  if (!result) throw new Error("npm pack reported no package");
  return {
    tarball: join(outDir, result.filename),
    stagedDir,
    size: result.size,
    unpackedSize: result.unpackedSize,
    files: result.files.map((file) => file.path),
  };
}

/** The published package.json: sdk/package.json's identity and dependencies (copied exactly), pointed at dist/. */
function publishedManifest(source: SourceManifest): Record<string, unknown> {
  const entry = (path: string) => ({ types: `./dist/src/${path}.d.ts`, import: `./dist/src/${path}.js` });
  return {
    name: source.name,
    version: source.version,
    description: source.description,
    type: "module",
    // import.meta.dirname (the CLI's deployments folder) arrived in Node 20.11.
    engines: { node: ">=20.11.0" },
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
    publishConfig: { access: "public" },
    dependencies: source.dependencies,
  };
}

/** The packed bin imports the compiled CLI; sdk/bin/podnet.mjs (the repository's) runs the sources through tsx. */
function writeBin(stagedDir: string): void {
  const binDir = join(stagedDir, "bin");
  mkdirSync(binDir);
  const bin = join(binDir, "podnet.mjs");
  writeFileSync(
    bin,
    '#!/usr/bin/env node\n// The publisher CLI (docs/cli.md), compiled.\nimport "../dist/src/cli/bin.js";\n',
  );
  chmodSync(bin, 0o755);
}

/**
 * Public deployments committed to deployments/ (a local devnet's 31337.json is ignored by git and never ships): the
 * CLI's default `--deployments` is <package>/deployments/<chainId>.json.
 */
function copyKnownDeployments(stagedDir: string): void {
  const tracked = run("git", ["ls-files", "--", "deployments/*.json"], root).split("\n").filter(Boolean);
  if (tracked.length === 0) return;
  mkdirSync(join(stagedDir, "deployments"));
  for (const file of tracked) cpSync(join(root, file), join(stagedDir, file));
}

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.error || result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed: ${result.error?.message ?? `${result.stdout}${result.stderr}`}`,
    );
  }
  return result.stdout;
}

const { values } = parseArgs({
  options: { out: { type: "string" }, json: { type: "boolean" }, "publish-dry-run": { type: "boolean" } },
});
const packed = packSdk(values.out === undefined ? {} : { outDir: values.out });
if (values.json) {
  console.log(JSON.stringify(packed));
} else {
  console.log(
    `${packed.tarball}: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${packed.files.length} files`,
  );
}
if (values["publish-dry-run"]) {
  const result = spawnSync("npm", ["publish", "--dry-run", "--loglevel", "notice"], {
    cwd: packed.stagedDir,
    stdio: "inherit",
  });
  process.exit(result.status ?? 1);
}
