/**
 * The published `@podnet/autoscaler` as an app owner or a network node operator gets it: `npm run pack:sdk`'s and
 * `npm run pack:autoscaler`'s tarballs installed together with npm into a fresh project outside the repository (no
 * workspace link, no tsx). The three installed bins print their usage with plain Node, refuse a bad setting naming it,
 * and the installed `podnet-autoscaler` prints its controller key's cache key, its effective configuration, and runs
 * against a real devnet chain (anvil with the contracts, an AppVault made for it): its status API reports the vault read
 * from the chain. Run under the Docker lock (the devnet's cleanup talks to the Docker Engine).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Devnet,
  devAccount,
  freePort,
  installPacked,
  LOCAL_CHAIN_ID,
  mint,
  okInProject,
  type PackedPackage,
  packDryRunFiles,
  publishDryRun,
  repoRoot,
  runInProject,
  type ScriptRun,
  TOKEN,
  userShellEnv,
  waitFor,
  webAppManifest,
} from "@podnet/devnet";
import { deriveSelfEncryptionKey } from "@podnet/sdk";
import { appConfigHash, appConfigLimits, manifestHash, parseAppConfig, parseManifest } from "@podnet/sdk/protocol";
import { keccak256, stringToHex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const owner = devAccount(98).account;
const controller = devAccount(99);
const BINS = ["podnet-autoscaler", "podnet-dns", "podnet-lb"] as const;

let dir: string;
let project: string;
/** node_modules/@podnet/autoscaler of the consumer project, real path. */
let installed: string;
let _sdkPacked: PackedPackage;
let packed: PackedPackage;
let devnet: Devnet | undefined;
let autoscaler: ChildProcess | undefined;

const inProject = (command: string, args: string[], env?: Record<string, string>): Promise<ScriptRun> =>
  runInProject(project, command, args, env);
const ok = (command: string, args: string[], env?: Record<string, string>) => okInProject(project, command, args, env);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-autoscaler-package-"));
  const world = await installPacked(dir, { name: "app-owner" }, ["sdk", "autoscaler"]);
  ({ project, devnet } = world);
  [_sdkPacked, packed] = world.packed as [PackedPackage, PackedPackage];
  installed = realpathSync(join(project, "node_modules", "@podnet", "autoscaler"));
}, 240_000);

afterAll(async () => {
  autoscaler?.kill("SIGTERM");
  if (autoscaler && autoscaler.exitCode === null) await new Promise((resolve) => autoscaler?.once("exit", resolve));
  await devnet?.stop();
  // The project's copy of the installed packages (hard links: the run removes the install itself when it ends); the
  // devnet's and the autoscaler's logs stay for a failure.
  if (project) rmSync(project, { recursive: true, force: true });
});

describe("the packed @podnet/autoscaler", () => {
  it("ships the compiled daemons and their three launchers, and no tests, test helpers, sources or image tooling", () => {
    const files = packed.files;
    for (const expected of [
      "package.json",
      "README.md",
      "CHANGELOG.md",
      ...BINS.map((bin) => `bin/${bin}.mjs`),
      "dist/bin.js",
      "dist/dns/bin.js",
      "dist/lb/bin.js",
      "dist/reconciler.js",
      "dist/network/node.js",
    ]) {
      expect(files).toContain(expected);
    }
    expect(files.filter((file) => /\.test\.|test-helpers|tsconfig|image\//.test(file))).toEqual([]);
    expect(files.filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))).toEqual([]);
    expect(files.every((file) => /^(dist|bin)\//.test(file) || !file.includes("/"))).toBe(true);

    const manifest = JSON.parse(readFileSync(join(packed.stagedDir, "package.json"), "utf8"));
    const source = JSON.parse(readFileSync(join(repoRoot, "autoscaler", "package.json"), "utf8"));
    const sdk = JSON.parse(readFileSync(join(repoRoot, "sdk", "package.json"), "utf8"));
    expect(manifest.private).toBeUndefined();
    expect(manifest.version).toBe(source.version);
    expect(manifest.dependencies).toEqual(source.dependencies);
    expect(manifest.dependencies["@podnet/sdk"]).toBe(sdk.version);
    expect(manifest.bin).toEqual(Object.fromEntries(BINS.map((bin) => [bin, `bin/${bin}.mjs`])));
    expect(JSON.stringify(manifest)).not.toContain("tsx");
    for (const bin of BINS) {
      expect(readFileSync(join(packed.stagedDir, "bin", `${bin}.mjs`), "utf8")).not.toContain("tsx");
    }
  });

  it("lists the same files in `npm pack --dry-run` of the staged folder", async () => {
    const run = await packDryRunFiles(packed.stagedDir, project);
    expect(run.code, run.stderr).toBe(0);
    expect(run.files.sort()).toEqual([...packed.files].sort());
  });

  it("passes npm publish --dry-run with nothing auto-corrected", async () => {
    const run = await publishDryRun(packed.stagedDir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(run.announced);
    expect(run.warnings).toEqual([]);
  });

  it("runs each installed bin's --help with plain Node", async () => {
    const usage = {
      "podnet-autoscaler": ["podnet-autoscaler: keeps an app's instances alive", "podnet-autoscaler node run"],
      "podnet-dns": ["podnet-dns: the authoritative nameserver of a Podnet app zone", "podnet-dns check"],
      "podnet-lb": ["podnet-lb: one stable HTTP address in front of an app's instances", "podnet-lb run"],
    };
    for (const bin of BINS) {
      expect(realpathSync(join(project, "node_modules", ".bin", bin))).toBe(join(installed, "bin", `${bin}.mjs`));
      const run = await inProject("npx", [bin, "--help"]);
      expect(run.code, `${bin}: ${run.stderr}`).toBe(0);
      for (const line of usage[bin]) expect(run.stdout).toContain(line);
    }
  });

  it("refuses a bad setting naming it and where it came from, with a non-zero exit", async () => {
    const autoscalerRun = await inProject("npx", ["podnet-autoscaler", "config", "--status-port", "70000"], {
      PODNET_AUTOSCALER_CONTROLLER_KEY: controller.privateKey,
      PODNET_AUTOSCALER_VAULT: "0x0000000000000000000000000000000000000001",
      PODNET_AUTOSCALER_DEPLOYMENTS_FILE: "deployments.json",
      PODNET_AUTOSCALER_INDEXER_URL: "http://127.0.0.1:42069",
    });
    expect(autoscalerRun.code).toBe(2);
    expect(autoscalerRun.stderr).toMatch(/statusPort: .*65535.*--status-port/);
    // The key came in the environment: an error must not echo it.
    expect(autoscalerRun.stdout + autoscalerRun.stderr).not.toContain(controller.privateKey.slice(2));

    const lbRun = await inProject("npx", ["podnet-lb", "config", "--status-urls", "ftp://a/status"]);
    expect(lbRun.code).toBe(2);
    expect(lbRun.stderr).toContain("statusUrls");

    writeFileSync(join(project, "dns.json"), JSON.stringify({ zone: "apps.example", listen: { port: "fifty-three" } }));
    const dnsRun = await inProject("npx", ["podnet-dns", "check", "--config", "dns.json"]);
    expect(dnsRun.code).toBe(2);
    expect(dnsRun.stderr).toContain("listen.port");
  });

  it("prints the controller's cache key the SDK derives for that key", async () => {
    const keyFile = join(project, "controller.key");
    writeFileSync(keyFile, `${controller.privateKey}\n`, { mode: 0o600 });
    const printed = await ok("npx", ["podnet-autoscaler", "key", "--controller-key-file", "controller.key"]);
    const expected = await deriveSelfEncryptionKey((message) => controller.account.signMessage({ message }));
    expect(printed.trim()).toBe(expected.publicKeyHex);
  });

  it("runs against a devnet chain from the installed package: config, then its status API reads the vault", async () => {
    if (!devnet) throw new Error("the devnet did not start");
    const chain = devnet.chain;
    const manifest = webAppManifest(`registry.example.com/web@sha256:${"ab".repeat(32)}`);
    const appYaml = {
      version: 1,
      instances: { min: 1, target: 1, maxPerProvider: 1 },
      price: { maxPerInstance: "1000" },
      funding: { depositPerLease: "600000", keepFunded: "600s" },
      health: { type: "http", path: "/", interval: 1, timeout: 1, failuresBeforeReplace: 3 },
    };
    const config = parseAppConfig(appYaml);
    writeFileSync(join(project, "pod.yaml"), JSON.stringify(manifest, null, 2));
    writeFileSync(join(project, "app.yaml"), JSON.stringify(appYaml, null, 2));
    await mint(chain, owner, 10n * TOKEN);
    const ownerClient = devnet.publisherClient(owner);
    const { vault } = await ownerClient.createApp({
      salt: keccak256(stringToHex("autoscaler-package")),
      specHash: manifestHash(parseManifest(manifest)),
      configHash: appConfigHash(config),
      limits: appConfigLimits(config),
      controllers: [controller.account.address],
    });
    await ownerClient.fundApp({ vault, amount: 10n * TOKEN });

    // No indexer runs: the first pass gets as far as searching for a provider, and says it cannot.
    const statusPort = await freePort();
    const env = {
      PODNET_AUTOSCALER_RPC_URL: chain.rpcUrl,
      PODNET_AUTOSCALER_DEPLOYMENTS_FILE: chain.deploymentsFile,
      PODNET_AUTOSCALER_INDEXER_URL: `http://127.0.0.1:${await freePort()}`,
      PODNET_AUTOSCALER_CONTROLLER_KEY_FILE: "controller.key",
      PODNET_AUTOSCALER_VAULT: vault,
      PODNET_AUTOSCALER_DATA_DIR: "autoscaler-data",
      PODNET_AUTOSCALER_STATUS_PORT: String(statusPort),
      PODNET_AUTOSCALER_RECONCILE_INTERVAL_SEC: "1",
    };
    const effective = JSON.parse(await ok("npx", ["podnet-autoscaler", "config"], env)) as Record<string, unknown>;
    expect(effective).toMatchObject({
      vault,
      rpcUrl: chain.rpcUrl,
      deploymentsFile: chain.deploymentsFile,
      appYaml: join(realpathSync(project), "app.yaml"),
      dataDir: join(realpathSync(project), "autoscaler-data"),
      statusPort,
      controllerKey: "(set, not shown)",
    });

    // Without a deployment file it takes the one the installed @podnet/sdk knows for the chain: none ships for a
    // devnet, so it stops naming the setting and the path it looked at, before acting.
    const { PODNET_AUTOSCALER_DEPLOYMENTS_FILE: _given, ...withoutDeployment } = env;
    const refused = await inProject("npx", ["podnet-autoscaler", "run"], withoutDeployment);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      `deploymentsFile: no deployment of chain ${LOCAL_CHAIN_ID} is known (${join(realpathSync(join(project, "node_modules", "@podnet", "sdk")), "deployments", `${LOCAL_CHAIN_ID}.json`)}`,
    );

    let log = "";
    autoscaler = spawn(process.execPath, [join(project, "node_modules", ".bin", "podnet-autoscaler"), "run"], {
      cwd: project,
      env: userShellEnv(env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const collect = (chunk: Buffer) => {
      log += chunk;
    };
    autoscaler.stdout?.on("data", collect);
    autoscaler.stderr?.on("data", collect);
    type Status = { vault: string; chainId: number; desired: number; lastPass: string | null; problems: string[] };
    const status = await waitFor(
      "the installed autoscaler's first pass in /status",
      async () => {
        if (autoscaler?.exitCode !== null) throw new Error(`the autoscaler exited ${autoscaler?.exitCode}:\n${log}`);
        const response = await fetch(`http://127.0.0.1:${statusPort}/status`).catch(() => undefined);
        const body = response?.ok ? ((await response.json()) as Status) : undefined;
        return body?.lastPass ? body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(status).toMatchObject({ vault, chainId: LOCAL_CHAIN_ID, desired: 1 });
    // Read from the chain: the vault, its limits (desired 1), and pod.yaml's and app.yaml's hashes matching it (a
    // mismatch would be a problem of its own and place nothing). The controller holds no gas, so the reverse market's
    // order, tried when no provider is found, fails too; the one problem names the unreachable indexer.
    expect(status.problems).toEqual([expect.stringMatching(/^slot 0: cannot place \(indexer: .*unreachable/)]);
    expect(log).toContain('"autoscaler started"');
    expect(log).not.toContain(controller.privateKey.slice(2));
  });
});
