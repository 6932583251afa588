/**
 * The steps every `npm run pack:<package>` script shares (pack-sdk.ts, pack-worker.ts, pack-autoscaler.ts): compile a
 * workspace with its tsconfig.build.json into a staging folder, write the published package.json there, `npm pack` it,
 * and the command line (`--out <dir>`, `--json`, `--publish-dry-run`) around it.
 *
 * Why a staged copy rather than publishing the workspace itself: inside the repository each workspace runs its
 * TypeScript sources through tsx and vitest with no build step, so nothing can run a stale dist/. The published package
 * needs the opposite (compiled JavaScript and a bin plain Node runs), so it is assembled beside the sources.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

export const repoRoot = resolve(import.meta.dirname, "..", "..");

/** What a pack script produced; `--json` prints it for the package tests. */
export interface PackedPackage {
  /** Absolute path of the .tgz. */
  tarball: string;
  /** The staged package folder the tarball was packed from (where `npm publish` would run). */
  stagedDir: string;
  /** Tarball size and unpacked size in bytes, and the packed file paths, as `npm pack --json` reports them. */
  size: number;
  unpackedSize: number;
  files: string[];
}

export interface PackOptions {
  /** Where the tarball goes; the package is staged in `<outDir>/staging/<workspace>`. Default: .packages/ */
  outDir: string;
  /**
   * Whether tsc type-checks while it compiles (the default). The test run's packs skip it: `npm test` type-checks the
   * same sources with the same module resolution (NodeNext, tsconfig.json) before any test packs, and tsc's output is
   * the same byte for byte without the check, for half its CPU (sdk: 17.6 against 8.4 cpu-s).
   */
  typeCheck?: boolean;
}

/** The fields of a workspace's package.json the pack scripts read. */
export interface SourceManifest {
  name: string;
  version: string;
  description: string;
  dependencies: Record<string, string>;
}

/**
 * The fields every published package.json shares: the workspace's identity and dependencies (copied exactly), ESM,
 * public, and the Node it needs (import.meta.dirname, which the SDK and the worker use for paths, arrived in Node
 * 20.11).
 */
export function publishedBase(source: SourceManifest) {
  return {
    name: source.name,
    version: source.version,
    description: source.description,
    type: "module",
    engines: { node: ">=20.11.0" },
    publishConfig: { access: "public" },
    dependencies: source.dependencies,
  };
}

/**
 * `workspace`'s dependency on `@podnet/sdk`, checked to be sdk/package.json's own version: the packages that depend on
 * the SDK are released together with it, so a package never installs beside an SDK it was not built against.
 */
export function checkSdkVersion(workspace: string, source: SourceManifest): void {
  const sdk = readSourceManifest("sdk");
  const wanted = source.dependencies[sdk.name];
  if (wanted !== sdk.version) {
    throw new Error(
      `${workspace}/package.json depends on ${sdk.name}@${wanted ?? "(nothing)"}, but sdk/package.json is ` +
        `${sdk.version}: release them at the same version`,
    );
  }
}

export function readSourceManifest(workspace: string): SourceManifest {
  return JSON.parse(readFileSync(join(repoRoot, workspace, "package.json"), "utf8")) as SourceManifest;
}

/** An empty `<outDir>/staging/<workspace>`: a previous run's files must not ship. */
export function freshStagingDir(outDir: string, workspace: string): string {
  const stagedDir = join(outDir, "staging", workspace);
  rmSync(stagedDir, { recursive: true, force: true });
  mkdirSync(stagedDir, { recursive: true });
  return stagedDir;
}

/**
 * tsc with `<workspace>/tsconfig.build.json`, its output redirected to `outDir` ({@link PackOptions.typeCheck}).
 * TypeScript 7's native compiler (the npm alias `typescript-native`, script/toolchain/typecheck.sh): the same
 * JavaScript as 5.9's, declarations that differ only in the order of union members and comments kept, in a fifth
 * of the CPU (docs/testing.md).
 */
export function compile(workspace: string, outDir: string, typeCheck = true): void {
  run(
    join(repoRoot, "node_modules", "typescript-native", "bin", "tsc"),
    ["-p", join(repoRoot, workspace, "tsconfig.build.json"), "--outDir", outDir, ...(typeCheck ? [] : ["--noCheck"])],
    repoRoot,
  );
}

export function writeManifest(stagedDir: string, manifest: Record<string, unknown>): void {
  writeFileSync(join(stagedDir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * An executable ESM launcher at `<stagedDir>/<path>`: the packed bins import compiled JavaScript, where the
 * repository's run the sources through tsx.
 */
export function writeLauncher(stagedDir: string, path: string, body: string): void {
  const file = join(stagedDir, path);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, `#!/usr/bin/env node\n${body}`);
  chmodSync(file, 0o755);
}

/** `npm pack` of the staged folder into `outDir`. */
export function npmPack(stagedDir: string, outDir: string): PackedPackage {
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

/** Runs a command to completion and returns its stdout; throws with its output when it fails. */
export function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.error || result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed: ${result.error?.message ?? `${result.stdout}${result.stderr}`}`,
    );
  }
  return result.stdout;
}

/**
 * The pack scripts' command line: `[--out <dir>] [--json] [--no-check] [--publish-dry-run]`. Packs with `pack`, prints
 * what it packed (a summary line, or `--json` for the tests), and with `--publish-dry-run` runs `npm publish
 * --dry-run` in the staged folder and exits with its status. `--no-check` compiles without the type check
 * ({@link PackOptions.typeCheck}): the package tests pack with it (devnet/src/installed-package.ts).
 */
export function packFromCommandLine(pack: (options: PackOptions) => PackedPackage): void {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      json: { type: "boolean" },
      "no-check": { type: "boolean" },
      "publish-dry-run": { type: "boolean" },
    },
  });
  const outDir = resolve(values.out ?? join(repoRoot, ".packages"));
  const packed = pack({ outDir, typeCheck: !values["no-check"] });
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
}
