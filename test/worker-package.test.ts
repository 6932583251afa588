/**
 * The published `@podnet/worker` as a provider gets it: `npm run pack:sdk`'s and `npm run pack:worker`'s tarballs
 * installed together with npm into a fresh project outside the repository (no workspace link, no tsx). The installed
 * bin prints its usage, the installed console-assets module finds the console's pages and the vendored Preact, htm and
 * uPlot inside node_modules/@podnet/worker, and the installed worker registers and runs against a real devnet chain
 * (anvil with the contracts, the real Docker Engine) and serves /health and its console. Run under the Docker lock.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Devnet,
  devAccount,
  freePort,
  fund,
  installWorkerPackages,
  localDocker,
  okInProject,
  type PackedPackage,
  packDryRunFiles,
  podNetworkPoolOf,
  publishDryRun,
  removeProviderFirewall,
  removeProviderLeftovers,
  repoRoot,
  runInProject,
  type ScriptRun,
  TOKEN,
  userShellEnv,
  waitFor,
  workerEnv,
} from "@podnet/devnet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// One dev account per test file: the worker's Docker objects and firewall chain are labelled by its address.
const provider = devAccount(96);

let dir: string;
let project: string;
/** node_modules/@podnet/worker of the consumer project, real path. */
let installed: string;
let _sdkPacked: PackedPackage;
let workerPacked: PackedPackage;
let devnet: Devnet | undefined;
let worker: ReturnType<typeof spawn> | undefined;

/** Runs a command in `cwd` (default: the provider's project) with the environment of a user's shell. */
function inProject(
  command: string,
  args: string[],
  { env = {}, cwd = project }: { env?: Record<string, string>; cwd?: string } = {},
): Promise<ScriptRun> {
  return runInProject(cwd, command, args, env);
}

const ok = (command: string, args: string[], env?: Record<string, string>) => okInProject(project, command, args, env);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-worker-package-"));
  // The same install as test/worker-image.test.ts's: the run makes it once, each file works in a copy of it.
  const world = await installWorkerPackages(dir);
  ({ project, devnet } = world);
  [_sdkPacked, workerPacked] = world.packed as [PackedPackage, PackedPackage];
  installed = realpathSync(join(project, "node_modules", "@podnet", "worker"));
}, 240_000);

afterAll(async () => {
  worker?.kill("SIGTERM");
  if (worker && worker.exitCode === null) await new Promise((resolve) => worker?.once("exit", resolve));
  await removeProviderLeftovers(localDocker(), provider.account.address);
  await removeProviderFirewall(provider.account.address);
  await devnet?.stop();
  // The project's copy of the installed packages (hard links: the run removes the install itself when it ends); the
  // devnet's and the worker's logs stay for a failure's story.
  if (project) rmSync(project, { recursive: true, force: true });
});

describe("the packed @podnet/worker", () => {
  it("ships the compiled worker, both launchers and the console's pages, and no tests, sources or configs", () => {
    const files = workerPacked.files;
    for (const expected of [
      "package.json",
      "README.md",
      "CHANGELOG.md",
      "bin/podnet-worker.mjs",
      "bin/podnet-addon.mjs",
      "dist/cli.js",
      "dist/admin/console-assets.js",
      "dist/addons/bidder.js",
      "dist/addons/alert-webhooks.js",
      "console/index.html",
      "console/app.js",
      "console/pages/overview.js",
      "systemd/podnet-worker.service",
    ]) {
      expect(files).toContain(expected);
    }
    expect(files.filter((file) => /\.test\.|tsconfig/.test(file))).toEqual([]);
    expect(files.filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))).toEqual([]);
    expect(files.every((file) => /^(dist|bin|console|systemd)\//.test(file) || !file.includes("/"))).toBe(true);

    const manifest = JSON.parse(readFileSync(join(workerPacked.stagedDir, "package.json"), "utf8"));
    const source = JSON.parse(readFileSync(join(repoRoot, "worker", "package.json"), "utf8"));
    const sdk = JSON.parse(readFileSync(join(repoRoot, "sdk", "package.json"), "utf8"));
    expect(manifest.private).toBeUndefined();
    expect(manifest.version).toBe(source.version);
    expect(manifest.dependencies).toEqual(source.dependencies);
    expect(manifest.dependencies["@podnet/sdk"]).toBe(sdk.version);
    // The console's browser packages are the package's own dependencies, not only the repository root's.
    for (const browser of ["preact", "htm", "uplot"]) expect(manifest.dependencies[browser]).toBeDefined();
    expect(manifest.bin).toEqual({ "podnet-worker": "bin/podnet-worker.mjs" });
    expect(JSON.stringify(manifest)).not.toContain("tsx");
    for (const launcher of ["podnet-worker.mjs", "podnet-addon.mjs"]) {
      expect(readFileSync(join(workerPacked.stagedDir, "bin", launcher), "utf8")).not.toContain("tsx");
    }
  });

  it("lists the same files in `npm pack --dry-run` of the staged folder", async () => {
    const run = await packDryRunFiles(workerPacked.stagedDir, project);
    expect(run.code, run.stderr).toBe(0);
    expect(run.files.sort()).toEqual([...workerPacked.files].sort());
    expect(run.files.filter((path) => /\.test\.|(\.ts$)/.test(path) && !path.endsWith(".d.ts"))).toEqual([]);
  });

  it("passes npm publish --dry-run with nothing auto-corrected", async () => {
    const run = await publishDryRun(workerPacked.stagedDir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(run.announced);
    expect(run.warnings).toEqual([]);
  });

  it("runs `npx podnet-worker --help` from the installed bin", async () => {
    const bin = realpathSync(join(project, "node_modules", ".bin", "podnet-worker"));
    expect(bin).toBe(join(installed, "bin", "podnet-worker.mjs"));
    const run = await inProject("npx", ["podnet-worker", "--help"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("podnet-worker: the Podnet provider daemon");
    expect(run.stdout).toContain("podnet-worker run");
  });

  it("ships a service unit systemd accepts, whose ExecStart runs the installed worker", async () => {
    const unit = join(installed, "systemd", "podnet-worker.service");
    // verify prints every unknown key, bad value or missing executable; a clean unit prints nothing.
    const verified = await inProject("systemd-analyze", ["verify", unit]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(`${verified.stdout}${verified.stderr}`.trim()).toBe("");

    const execStart = /^ExecStart=(.+)$/m.exec(readFileSync(unit, "utf8"))?.[1]?.split(" ") ?? [];
    const [node, script, command, ...rest] = execStart;
    expect(node).toBe("/usr/bin/node");
    expect([command, ...rest]).toEqual(["run", "--config", "/etc/podnet-worker/config.json"]);
    // The unit assumes `npm install --prefix /opt/podnet-worker @podnet/worker`: the same layout as this project's.
    const prefix = "/opt/podnet-worker/";
    expect(script?.startsWith(prefix)).toBe(true);
    const installedScript = join(project, script?.slice(prefix.length) ?? "");
    expect(realpathSync(installedScript)).toBe(join(installed, "bin", "podnet-worker.mjs"));
    const help = await inProject(process.execPath, [installedScript, "--help"]);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain("podnet-worker run");
  });

  it("serves the console's pages and vendored modules from inside node_modules/@podnet/worker", async () => {
    // The installed console-assets module behind a Hono app, as the worker's admin app mounts it (admin/app.ts).
    writeFileSync(
      join(project, "console.mjs"),
      `import { Hono } from "hono";
import { ConsoleAssets } from "@podnet/worker/dist/admin/console-assets.js";

const assets = new ConsoleAssets();
const app = new Hono();
app.get("/admin", assets.page);
app.get("/admin/assets/*", assets.file);
const out = {};
for (const path of ["/admin", "/admin/assets/app.js", "/admin/assets/vendor/preact.js", "/admin/assets/vendor/uplot.css", "/admin/assets/format.test.js"]) {
  const response = await app.request(path);
  out[path] = { status: response.status, type: response.headers.get("content-type"), body: await response.text() };
}
console.log(JSON.stringify(out));
`,
    );
    const served = JSON.parse(await ok(process.execPath, ["console.mjs"])) as Record<
      string,
      { status: number; type: string; body: string }
    >;
    const read = (path: string) => readFileSync(join(installed, path), "utf8");
    expect(served["/admin"]?.status).toBe(200);
    expect(served["/admin"]?.body).toContain('<script type="importmap">');
    expect(served["/admin/assets/app.js"]).toMatchObject({ status: 200, body: read("console/app.js") });
    const preact = realpathSync(join(project, "node_modules", "preact", "dist", "preact.mjs"));
    expect(served["/admin/assets/vendor/preact.js"]).toMatchObject({
      status: 200,
      type: "text/javascript; charset=utf-8",
      body: readFileSync(preact, "utf8"),
    });
    expect(served["/admin/assets/vendor/uplot.css"]?.status).toBe(200);
    // The console's unit tests were left out of the package, so nothing can serve them.
    expect(served["/admin/assets/format.test.js"]?.status).toBe(404);
  });

  it("registers and runs on a devnet chain from the installed package: /health and the console answer", async () => {
    if (!devnet) throw new Error("the devnet did not start");
    await fund(devnet.chain, provider.account, 10_000n * TOKEN);
    const dataDir = join(dir, "provider");
    const env = workerEnv(devnet.chain, {
      providerKey: provider.privateKey,
      dataDir,
      apiPort: await freePort(),
      ingressPort: await freePort(),
      // Test files run in parallel: this worker's warm networks come from a pool no other file's worker uses.
      extra: { PODNET_POD_NETWORK_POOL: podNetworkPoolOf(96) },
    });
    await ok("npx", ["podnet-worker", "register"], env);

    mkdirSync(dataDir, { recursive: true });
    let log = "";
    worker = spawn(process.execPath, [join(project, "node_modules", ".bin", "podnet-worker"), "run"], {
      cwd: project,
      env: userShellEnv(env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    worker.stdout?.on("data", (chunk) => {
      log += chunk;
    });
    worker.stderr?.on("data", (chunk) => {
      log += chunk;
    });
    const apiUrl = env.PODNET_PUBLIC_URL as string;
    const health = await waitFor(
      "the installed worker's /health",
      async () => {
        if (worker?.exitCode !== null) throw new Error(`the worker exited ${worker?.exitCode}:\n${log}`);
        const response = await fetch(`${apiUrl}/health`).catch(() => undefined);
        return response?.ok ? ((await response.json()) as { degraded: unknown[] }) : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(health.degraded).toEqual([]);

    // The admin listener's origin (PODNET_ADMIN_PORT=0 picks a free port) is written to <data dir>/admin/origin.
    const origin = await waitFor("the admin origin file", async () => {
      try {
        return readFileSync(join(dataDir, "admin", "origin"), "utf8").trim() || undefined;
      } catch {
        return undefined;
      }
    });
    for (const path of ["/admin", "/admin/assets/app.js", "/admin/assets/vendor/preact.js"]) {
      const response = await fetch(`${origin}${path}`);
      expect(response.status, path).toBe(200);
    }
    // The bidder addon runs under the installed bin/podnet-addon.mjs (plain Node, compiled dist/addons/bidder.js): a
    // launcher that cannot load it exits at once, and the supervisor says so.
    await waitFor("the bidder addon to start", async () => (log.includes('"addon started"') ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(log).not.toMatch(/addon exited|addon could not run/);
    expect(log).not.toContain(provider.privateKey.slice(2));
  });
});
