/**
 * The provider worker's container image (`npm run build:worker-image`), as a provider runs it: built offline from the
 * packed and installed packages (`--app`: the install that test/worker-package.test.ts uses too, made once per run),
 * started with `docker run` beside the real Docker Engine it manages (the socket mounted, host network, the paths the
 * engine must see at the same place), registered on a real devnet chain, and serving a publisher's pod end to end
 * with every part of the sandbox enforced (`requireSandbox`). Run under the Docker lock.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Devnet,
  devAccount,
  freePort,
  fund,
  ingress,
  installWorkerPackages,
  localDocker,
  mint,
  podHost,
  podNetworkPoolOf,
  publisherClient,
  removeProviderFirewall,
  removeProviderLeftovers,
  repoRoot,
  runCommand,
  type ScriptRun,
  TOKEN,
  testImageTarball,
  userShellEnv,
  waitFor,
  webAppManifest,
  workerEnv,
} from "@podnet/devnet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// One dev account per test file: the worker's Docker objects and firewall chain are labelled by its address.
const provider = devAccount(95);
const publisher = devAccount(94);
const TAG = `podnet-test/worker-image:${process.pid}`;
const CONTAINER = `podnet-worker-image-test-${process.pid}`;
/** The page the publisher's pod serves. */
const PAGE = "served by the containerised worker";

/** What `npm run build:worker-image -- --json` prints (script/packaging/worker-image.ts). */
interface BuiltWorkerImage {
  tag: string;
  imageId: string;
  layerBytes: number;
  paths: number;
  appFiles: string[];
  tools: string[];
  elapsedMs: number;
}

const docker = localDocker();
let dir: string;
let devnet: Devnet | undefined;
let built: BuiltWorkerImage;
let podTarball: string;
/** Host paths the worker sees at the same place: the Docker Engine interprets the paths the worker hands it. */
let dataDir: string;
let secretsParent: string;

function dockerCli(args: string[], env: Record<string, string> = {}): Promise<ScriptRun> {
  return runCommand("docker", args, { cwd: dir, env: userShellEnv(env) });
}

async function okDocker(args: string[], env: Record<string, string> = {}): Promise<string> {
  const run = await dockerCli(args, env);
  if (run.code !== 0) throw new Error(`docker ${args.join(" ")} exited ${run.code}:\n${run.stdout}${run.stderr}`);
  return run.stdout;
}

/**
 * `docker run` of the image as docs/worker.md ("Install: the container image") says to run it. Settings travel as
 * `-e NAME` (the value from the docker CLI's own environment), so the provider key is never on a command line.
 */
async function workerRunArgs(env: Record<string, string>, extra: string[] = []): Promise<string[]> {
  const dockerRoot = (await docker.info()).DockerRootDir as string;
  return [
    "--userns=host",
    "--network=host",
    "--cap-add=NET_ADMIN",
    "--cap-add=NET_RAW",
    "--cap-add=SYS_ADMIN",
    // docs/worker.md adds --ulimit nofile=65536:65536; an engine whose own hard limit is lower (20,000 on the CI
    // machines) cannot grant it, and the containers inherit the engine's limit.
    "-v=/var/run/docker.sock:/var/run/docker.sock",
    `-v=${dockerRoot}:${dockerRoot}`,
    `-v=${dataDir}:${dataDir}`,
    `-v=${secretsParent}:${secretsParent}`,
    ...(env.PODNET_DEPLOYMENTS_FILE ? [`-v=${env.PODNET_DEPLOYMENTS_FILE}:${env.PODNET_DEPLOYMENTS_FILE}:ro`] : []),
    ...Object.keys(env).flatMap((name) => ["-e", name]),
    ...extra,
  ];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-worker-image-"));
  dataDir = join(dir, "provider");
  mkdirSync(dataDir);
  secretsParent = mkdtempSync("/dev/shm/podnet-worker-image-");
  const pod = testImageTarball(docker, "podnet-test/worker-image-pod:1", join(dir, "pod.tar"), { page: PAGE });
  pod.catch(() => {});
  const world = await installWorkerPackages(dir);
  devnet = world.devnet;
  const run = await runCommand(
    join(repoRoot, "node_modules", ".bin", "tsx"),
    ["script/packaging/worker-image.ts", "--tag", TAG, "--json", "--app", world.project],
    { cwd: repoRoot, env: userShellEnv() },
  );
  if (run.code !== 0) throw new Error(`build:worker-image exited ${run.code}:\n${run.stdout}${run.stderr}`);
  built = JSON.parse(run.stdout) as BuiltWorkerImage;
  podTarball = await pod;
}, 300_000);

afterAll(async () => {
  await dockerCli(["rm", "-f", CONTAINER]);
  await removeProviderLeftovers(docker, provider.account.address);
  await removeProviderFirewall(provider.account.address);
  await devnet?.stop();
  await dockerCli(["rmi", "-f", TAG]);
  if (secretsParent) rmSync(secretsParent, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the worker's container image", () => {
  it("holds the installed packages, node, iptables and btrfs, and nothing of the repository", async () => {
    const files = built.appFiles;
    for (const expected of [
      "/app/node_modules/@podnet/worker/bin/podnet-worker.mjs",
      "/app/node_modules/@podnet/worker/dist/cli.js",
      "/app/node_modules/@podnet/worker/console/index.html",
      "/app/node_modules/@podnet/sdk/dist/src/protocol/index.js",
      "/app/node_modules/dockerode/package.json",
    ]) {
      expect(files).toContain(expected);
    }
    const ours = files.filter((file) => file.startsWith("/app/node_modules/@podnet/"));
    expect(ours.filter((file) => /\.test\.|tsconfig/.test(file))).toEqual([]);
    expect(ours.filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))).toEqual([]);
    // Production dependencies only: no tsx, vitest or TypeScript compiler came along.
    for (const dev of ["tsx", "vitest", "typescript", "@biomejs"]) {
      expect(files.some((file) => file.startsWith(`/app/node_modules/${dev}/`))).toBe(false);
    }
    expect(built.tools).toEqual(["/usr/sbin/iptables", "/usr/sbin/iptables-restore", "/usr/bin/btrfs"]);

    const [config] = JSON.parse(await okDocker(["image", "inspect", TAG])) as {
      Config: { User: string; Entrypoint: string[]; Cmd: string[]; Env: string[] };
    }[];
    expect(config?.Config.Entrypoint).toEqual([
      "/usr/bin/node",
      "/app/node_modules/@podnet/worker/bin/podnet-worker.mjs",
    ]);
    expect(config?.Config.Cmd).toEqual(["run"]);
    expect(config?.Config.Env).toContain("PODNET_DATA_DIR=/var/lib/podnet-worker");

    const help = await dockerCli(["run", "--rm", TAG, "--help"]);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain("podnet-worker: the Podnet provider daemon");
    // The tools run inside the image with only what was copied in (their libraries and iptables' extensions).
    const iptables = await dockerCli([
      "run",
      "--rm",
      "--entrypoint",
      "/usr/sbin/iptables",
      TAG,
      "-m",
      "conntrack",
      "--help",
    ]);
    expect(iptables.code, iptables.stderr).toBe(0);
    expect(iptables.stdout).toContain("--ctstate");
    const btrfs = await dockerCli(["run", "--rm", "--entrypoint", "/usr/bin/btrfs", TAG, "--version"]);
    expect(btrfs.code, btrfs.stderr).toBe(0);
    const restore = await dockerCli(["run", "--rm", "--entrypoint", "/usr/sbin/iptables-restore", TAG, "--version"]);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toContain("iptables-restore");
  });

  it("refuses to start on a chain it knows no deployment of, naming the setting, and leaves nothing behind", async () => {
    if (!devnet) throw new Error("the devnet did not start");
    const env = workerEnv(devnet.chain, { providerKey: provider.privateKey, dataDir, apiPort: 1, ingressPort: 2 });
    delete env.PODNET_DEPLOYMENTS_FILE;
    const run = await dockerCli(["run", "--rm", ...(await workerRunArgs(env)), TAG, "run"], env);
    expect(run.code).toBe(1);
    // The default is the installed SDK package's own deployments folder, found from its compiled protocol module.
    expect(run.stderr).toContain(
      "deploymentsFile: no deployment of chain 31337 is known (/app/node_modules/@podnet/sdk/deployments/31337.json",
    );
    expect(run.stderr).toContain("PODNET_DEPLOYMENTS_FILE");
    expect(`${run.stdout}${run.stderr}`).not.toContain(provider.privateKey.slice(2));
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`podnet.provider=${provider.account.address.toLowerCase()}`] },
    });
    expect(left).toEqual([]);
  });

  it("registers, runs with the sandbox enforced and serves a publisher's pod", async () => {
    if (!devnet) throw new Error("the devnet did not start");
    await fund(devnet.chain, provider.account, 10_000n * TOKEN);
    const env = workerEnv(devnet.chain, {
      providerKey: provider.privateKey,
      dataDir,
      apiPort: await freePort(),
      ingressPort: await freePort(),
      extra: {
        PODNET_SECRETS_DIR: join(secretsParent, "secrets"),
        PODNET_REQUIRE_SANDBOX: "true",
        // Test files run in parallel: this worker's pod networks come from a pool no other file's worker uses.
        PODNET_POD_NETWORK_POOL: podNetworkPoolOf(95),
      },
    });
    const args = await workerRunArgs(env);
    const registered = await dockerCli(["run", "--rm", ...args, TAG, "register"], env);
    expect(registered.code, registered.stderr).toBe(0);

    await okDocker(["run", "-d", "--name", CONTAINER, "--restart=unless-stopped", ...args, TAG, "run"], env);
    const logs = async () => {
      const run = await dockerCli(["logs", CONTAINER]);
      return `${run.stdout}${run.stderr}`;
    };
    const apiUrl = env.PODNET_PUBLIC_URL as string;
    const health = await waitFor(
      "the containerised worker's /health",
      async () => {
        const state = JSON.parse(await okDocker(["inspect", "--format", "{{json .State}}", CONTAINER]));
        if (!state.Running) throw new Error(`the worker container stopped (${state.ExitCode}):\n${await logs()}`);
        const response = await fetch(`${apiUrl}/health`).catch(() => undefined);
        return response?.ok ? ((await response.json()) as { degraded: unknown[] }) : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    expect(health.degraded).toEqual([]);
    // requireSandbox: the worker would have refused to start without all of it; the attestation says what it enforces.
    const attestation = (await (await fetch(`${apiUrl}/v1/attestation`)).json()) as {
      sandbox: Record<string, unknown>;
    };
    expect(attestation.sandbox).toMatchObject({
      userns: true,
      diskQuota: true,
      egressFirewall: true,
      notEnforced: [],
    });

    // A publisher leases from the containerised worker and deploys through the SDK, as against any provider.
    await mint(devnet.chain, publisher.account, 1_000_000n * TOKEN);
    const alice = publisherClient(devnet.chain, publisher.account, { blobCacheDir: join(dir, "blobs") });
    const image = await alice.prepareImage({ tarball: podTarball });
    devnet.untagBlobOnStop(image.cid);
    const manifest = webAppManifest(image.image);
    const quoted = await alice.getQuote({ provider: provider.account.address, manifest });
    const lease = await alice.createLease({ ...quoted, deposit: quoted.quote.pricePerSecond * 3600n });
    await alice.deployPod({ leaseId: lease.leaseId, manifest });
    try {
      await alice.waitForPod({ leaseId: lease.leaseId, timeoutMs: 90_000, intervalMs: 250 });
    } catch (error) {
      throw new Error(
        `${error}\n--- worker log (last 60 lines) ---\n${(await logs()).split("\n").slice(-60).join("\n")}`,
      );
    }
    const page = await ingress(Number(env.PODNET_INGRESS_PORT), podHost(lease.leaseId));
    expect(page).toEqual({ status: 200, body: PAGE });

    // The pod is a sibling container on the host's engine, sandboxed as the worker makes every pod.
    const [pod] = await docker.listContainers({
      filters: {
        label: [`podnet.provider=${provider.account.address.toLowerCase()}`, `podnet.lease=${lease.leaseId}`],
      },
    });
    if (!pod) throw new Error("no container of the lease on the engine");
    const inspected = await docker.getContainer(pod.Id).inspect();
    expect(inspected.HostConfig.Privileged).toBe(false);
    expect(inspected.HostConfig.CapDrop).toContain("ALL");
    expect(inspected.HostConfig.NetworkMode).not.toBe("host");

    // SIGTERM from `docker stop` ends the worker cleanly; the pod keeps serving (the next start adopts it).
    await okDocker(["stop", "--time", "20", CONTAINER]);
    const state = JSON.parse(await okDocker(["inspect", "--format", "{{json .State}}", CONTAINER]));
    expect(state.ExitCode).toBe(0);
    expect(
      await ingress(Number(env.PODNET_INGRESS_PORT), podHost(lease.leaseId)).catch(() => undefined),
    ).toBeUndefined();
    expect((await docker.getContainer(pod.Id).inspect()).State.Running).toBe(true);
    expect(await logs()).not.toContain(provider.privateKey.slice(2));
    // The data directory the container wrote is the host's, where a new container (an upgrade) finds the state.
    expect(readFileSync(join(dataDir, "admin", "origin"), "utf8")).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
  });
});
