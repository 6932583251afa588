/**
 * For the tests of the published packages (test/sdk-package.test.ts, test/worker-package.test.ts,
 * test/autoscaler-package.test.ts, test/worker-image.test.ts): pack a package the way `npm run pack:<name>` does,
 * install packed packages with npm into a project outside the repository, and run commands there with the environment
 * a user's shell has, so nothing of the repository (npm's variables, tsx's loader, vitest's) leaks into the installed
 * runs.
 *
 * Both the packing and the installing are done once per test run (`onceThisRun`, in the run's folder that
 * test/global-setup.ts names in {@link PACK_CACHE_ENV}): the SDK is in every one of the four files, and the worker's
 * package and image tests install the same two tarballs. Each test then works in a copy of the installed project
 * made of hard links, which costs a fraction of a second where an install costs 10-25 CPU seconds.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { Devnet } from "./devnet.js";
import { runCommand, type ScriptRun } from "./node-script.js";
import { PACK_CACHE_ENV, repoRoot } from "./paths.js";

/** The workspaces published as packages (`npm run pack:<name>`). */
export type PackageName = "sdk" | "worker" | "autoscaler";

/** What `script/packaging/pack-<name>.ts --json` prints. */
export interface PackedPackage {
  tarball: string;
  stagedDir: string;
  size: number;
  unpackedSize: number;
  files: string[];
}

/** The watched npm install of `npm test` (run, not imported: script/ holds entry points). */
const NPM_INSTALL = join(repoRoot, "script", "toolchain", "npm-install.sh");
/**
 * Seconds without a line from npm after which a package test's install is stopped and tried again: four times the
 * longest pause seen in healthy installs (a slower registry, as on a CI machine with an empty cache, must not look
 * hung), and short enough that a retry still fits in the package files' 240 s hooks.
 */
const NPM_STALL_S = 60;

/** How long a caller waits for another process making the same thing before making its own. */
const ONCE_WAIT_MS = 5 * 60_000;

/**
 * The run's folder for what is made once ({@link PACK_CACHE_ENV}, which test/global-setup.ts sets and removes with the
 * run). Without it (a file run by some other runner), a folder of this process's, set in the environment so that later
 * calls find it; it is then left in the temporary directory.
 */
function runFolder(): string {
  const named = process.env[PACK_CACHE_ENV];
  if (named) return named;
  const made = mkdtempSync(join(tmpdir(), "podnet-packs-"));
  process.env[PACK_CACHE_ENV] = made;
  return made;
}

/**
 * `make(dir)` once per test run for `key`, by whichever process asks first; the others wait for it and get the same
 * result (a JSON value, which may name files in `dir`). Test files run in several processes at once, in any order, so
 * the first caller holds `<key>.lock` (mkdir is atomic) while it makes `<key>/`, and its result is renamed into place
 * whole: a waiting process never reads half a file. A maker that fails releases the lock and the next caller tries
 * again; one killed while making leaves its lock, and a caller that waited {@link ONCE_WAIT_MS} makes its own in a
 * folder of its own.
 */
async function onceThisRun<T>(key: string, make: (dir: string) => Promise<T>): Promise<T> {
  const folder = runFolder();
  const dir = join(folder, key);
  const result = join(folder, `${key}.json`);
  const lock = join(folder, `${key}.lock`);
  mkdirSync(folder, { recursive: true });
  const deadline = Date.now() + ONCE_WAIT_MS;
  while (!existsSync(result)) {
    try {
      mkdirSync(lock);
    } catch {
      if (Date.now() > deadline) return make(mkdtempSync(`${dir}-own-`));
      await sleep(200);
      continue;
    }
    try {
      if (!existsSync(result)) {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir);
        const value = await make(dir);
        writeFileSync(`${result}.tmp`, JSON.stringify(value));
        renameSync(`${result}.tmp`, result);
        return value;
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return JSON.parse(readFileSync(result, "utf8")) as T;
}

/**
 * `@podnet/<name>` packed by the repository's pack script (script/ holds entry points: run, not imported), once per
 * run: its tarball and staged folder are shared, and callers only read them. `--no-check`: `npm test` type-checks the
 * same sources before any test packs (script/packaging/staged-package.ts, `PackOptions.typeCheck`).
 */
export function packPackage(name: PackageName): Promise<PackedPackage> {
  return onceThisRun(`pack-${name}`, async (outDir) => {
    const { stdout } = await promisify(execFile)(
      join(repoRoot, "node_modules", ".bin", "tsx"),
      [`script/packaging/pack-${name}.ts`, "--out", outDir, "--json", "--no-check"],
      { cwd: repoRoot, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
    );
    return JSON.parse(stdout) as PackedPackage;
  });
}

/** Our environment without what npm, vitest and tsx put in it (npm_config_*, NODE_OPTIONS loaders, NODE_PATH). */
export function userShellEnv(extra: Record<string, string> = {}): Record<string, string> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(npm_|NODE_OPTIONS$|NODE_PATH$|VITEST|TSX)/i.test(name) && name !== "INIT_CWD",
    ),
  ) as Record<string, string>;
  return { ...clean, ...extra };
}

/** Runs `command` in `cwd` with {@link userShellEnv} plus `env`. */
export function runInProject(
  cwd: string,
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<ScriptRun> {
  return runCommand(command, args, { cwd, env: userShellEnv(env) });
}

/** {@link runInProject} that must exit 0: its stdout, or an error with everything it printed. */
export async function okInProject(
  cwd: string,
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<string> {
  const run = await runInProject(cwd, command, args, env);
  if (run.code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${run.code}:\n${run.stdout}${run.stderr}`);
  return run.stdout;
}

/** A fresh consumer project `<dir>/project` with only a package.json (`manifest`): where packages are installed. */
export function freshProject(dir: string, manifest: Record<string, unknown>): string {
  const project = join(dir, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), `${JSON.stringify({ private: true, ...manifest })}\n`);
  return project;
}

/** The file paths `npm pack --dry-run` of a staged package lists (run from `cwd`, outside the repository). */
export async function packDryRunFiles(stagedDir: string, cwd: string): Promise<ScriptRun & { files: string[] }> {
  const run = await runInProject(cwd, "npm", ["pack", "--dry-run", "--json", stagedDir]);
  const [listed] = run.code === 0 ? (JSON.parse(run.stdout) as { files: { path: string }[] }[]) : [];
  return { ...run, files: (listed?.files ?? []).map((file) => file.path) };
}

/**
 * `npm publish --dry-run` in a staged package: its run, the `name@version` it should announce, and every npm
 * warning but the one about not being logged in (which a machine without npm credentials always gets).
 */
export async function publishDryRun(stagedDir: string): Promise<ScriptRun & { announced: string; warnings: string[] }> {
  const run = await runInProject(stagedDir, "npm", ["publish", "--dry-run"]);
  const manifest = JSON.parse(readFileSync(join(stagedDir, "package.json"), "utf8")) as {
    name: string;
    version: string;
  };
  const warnings = run.stderr.split("\n").filter((line) => line.startsWith("npm warn") && !/logged in/.test(line));
  return { ...run, announced: `${manifest.name}@${manifest.version}`, warnings };
}

/** What {@link installPacked} made: the project, each package as packed (in the order asked), and the devnet. */
export interface InstalledPackages {
  project: string;
  packed: PackedPackage[];
  devnet: Devnet;
}

/**
 * `packages` and `extra` installed by `npm install` of their tarballs into a {@link freshProject} (`manifest`), once
 * per run for the same arguments: the installed project is shared, so callers copy it ({@link copyProject}) or only
 * read it. It is removed with the run's folder when the run ends, not by the test: on the test machines' ext4 (no
 * journal) every file created within a minute or more of many deletions costs a scan past the recently freed inodes
 * (5,000 empty files: 0.3 CPU seconds, 3.1 right after 5,000 were deleted), and an installed project is 20,000 files.
 */
async function installedOnce(
  manifest: Record<string, unknown>,
  packages: PackageName[],
  extra: string[],
): Promise<{ project: string; packed: PackedPackage[] }> {
  const packed = await Promise.all(packages.map(packPackage));
  const key = createHash("sha256").update(JSON.stringify({ manifest, packages, extra })).digest("hex").slice(0, 12);
  return onceThisRun(`install-${packages.join("+")}-${key}`, async (dir) => {
    const project = freshProject(dir, manifest);
    const tarballs = packed.map((p) => p.tarball);
    // Watched as `npm test`'s own install is (script/toolchain/npm-install.sh): npm can stall for good after taking
    // every tarball from its cache (a local CI run's SDK install read @noble/hashes 1.8.0 from the cache five times at
    // once, for five nested copies, then waited on nothing, no socket or file open, until the file's hook timed out
    // four minutes later). The longest pause of npm's http log in healthy installs, three at once as the package
    // files run them: 14.4 s; one quiet for NPM_STALL_S is stopped and tried again from an empty node_modules.
    await okInProject(
      project,
      "bash",
      [NPM_INSTALL, "--no-audit", "--no-fund", "--prefer-offline", ...tarballs, ...extra],
      { PODNET_NPM_STALL_S: String(NPM_STALL_S) },
    );
    return { project, packed };
  });
}

/**
 * A copy of the installed project `from` at `to` that the caller may write to: node_modules as hard links (`cp
 * --link`: 0.4 CPU seconds for the worker's 20,000 files, where npm takes 10-25 to install them), the files beside it
 * (package.json, package-lock.json) copied, so that rewriting one cannot change the shared project. The installed
 * files themselves are never written to: the tests add files of their own beside them. package.json's `file:`
 * dependencies are relative to the shared project: no npm command may install again in the copy.
 */
async function copyProject(from: string, to: string): Promise<void> {
  mkdirSync(to);
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      await promisify(execFile)("cp", ["--archive", "--link", join(from, entry.name), to]);
    } else {
      copyFileSync(join(from, entry.name), join(to, entry.name));
    }
  }
}

/**
 * A package test's world: the `packages` packed as `npm run pack:<name>` packs them and installed with npm together
 * with `extra` (e.g. `viem@2.x`) into a fresh project outside the repository ({@link installedOnce}), its copy at
 * `<dir>/project` for the test, and a devnet chain started meanwhile (its failure awaited, not left unhandled).
 */
export async function installPacked(
  dir: string,
  manifest: Record<string, unknown>,
  packages: PackageName[],
  extra: string[] = [],
): Promise<InstalledPackages> {
  const chain = Devnet.start({ dir: join(dir, "devnet") });
  chain.catch(() => {});
  const project = join(dir, "project");
  try {
    const installed = await installedOnce(manifest, packages, extra);
    await copyProject(installed.project, project);
    return { project, packed: installed.packed, devnet: await chain };
  } catch (error) {
    // The caller gets no devnet to stop: stop it here, or its anvil outlives the test.
    await (await chain.catch(() => undefined))?.stop();
    throw error;
  }
}

/**
 * `@podnet/sdk` and `@podnet/worker` as a provider installs them: test/worker-package.test.ts and
 * test/worker-image.test.ts (the image's /app) ask for the same install, so the run makes it once.
 */
export function installWorkerPackages(dir: string): Promise<InstalledPackages> {
  // Without the optional native builds under dockerode, as worker/README.md tells a provider (npm 11's allowScripts).
  return installPacked(dir, { name: "provider", allowScripts: { "cpu-features": false, ssh2: false } }, [
    "sdk",
    "worker",
  ]);
}
