/**
 * For the tests of the published packages (test/sdk-package.test.ts, test/worker-package.test.ts,
 * test/autoscaler-package.test.ts): pack a package the way `npm run pack:<name>` does, and run commands in a project
 * outside the repository with the environment a user's shell has, so nothing of the repository (npm's variables, tsx's
 * loader, vitest's) leaks into the installed runs.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Devnet } from "./devnet.js";
import { runCommand, type ScriptRun } from "./node-script.js";
import { repoRoot } from "./paths.js";

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

/** Packs `@podnet/<name>` into `outDir` with the repository's pack script (script/ holds entry points: run, not imported). */
export async function packPackage(name: "sdk" | "worker" | "autoscaler", outDir: string): Promise<PackedPackage> {
  const { stdout } = await promisify(execFile)(
    join(repoRoot, "node_modules", ".bin", "tsx"),
    [`script/packaging/pack-${name}.ts`, "--out", outDir, "--json"],
    { cwd: repoRoot, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as PackedPackage;
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

/** A fresh consumer project `<dir>/project` with only a package.json (`manifest`): where a package test installs. */
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
 * A package test's world: a {@link freshProject} in `dir`, the `packages` packed as `npm run pack:<name>` packs them
 * and installed there with npm together with `extra` (e.g. `viem@2.x`), and a devnet chain started meanwhile (its
 * failure awaited, not left unhandled).
 */
export async function installPacked(
  dir: string,
  manifest: Record<string, unknown>,
  packages: PackageName[],
  extra: string[] = [],
): Promise<InstalledPackages> {
  const project = freshProject(dir, manifest);
  const chain = Devnet.start({ dir: join(dir, "devnet") });
  chain.catch(() => {});
  const packed = await Promise.all(packages.map((name) => packPackage(name, join(dir, "packages"))));
  const tarballs = packed.map((p) => p.tarball);
  await okInProject(project, "npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", ...tarballs, ...extra]);
  return { project, packed, devnet: await chain };
}
