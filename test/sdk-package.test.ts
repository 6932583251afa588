/**
 * The published `@podnet/sdk` as a publisher gets it: `npm run pack:sdk`'s tarball installed with npm into a fresh
 * project outside the repository (no workspace link, no tsx), then used from plain Node, from `npx podnet` and from a
 * TypeScript consumer type-checked against the shipped `.d.ts`. The plain-Node consumer quotes and leases against a
 * real devnet (anvil with the contracts, one provider worker on the real Docker Engine). Run under the Docker lock.
 */
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import {
  type Devnet,
  devAccount,
  installPacked,
  type LocalChain,
  mint,
  okInProject,
  type PackedPackage,
  publishDryRun,
  type RunningProvider,
  repoRoot,
  runInProject,
  type ScriptRun,
  TOKEN,
} from "@podnet/devnet";
import { manifestResources, parsePodSpec, pricePerSecond } from "@podnet/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The worker's default pricing (docs/worker.md), which the provider below registers.
const PRICING = { perCpuMilli: 1000n, perMemoryMiB: 100n, perStorageMiB: 1n, flat: 0n };
const POD_YAML = `version: 1
containers:
  - name: web
    image: docker.io/library/busybox@sha256:${"ab".repeat(32)}
    command: ["httpd", "-f", "-p", "8080"]
    resources:
      cpuMillis: 250
      memoryMiB: 64
expose:
  http:
    - container: web
      port: 8080
`;

/** What the published package's consumer writes: docs/sdk.md's example, in plain JavaScript. */
const CONSUMER_MJS = `import { readFileSync } from "node:fs";
import { createPodnetClient, parseDeployment, parsePodSpec } from "@podnet/sdk";
import { createPublicClient, createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";

const transport = http(process.env.RPC_URL);
const podnet = createPodnetClient({
  publicClient: createPublicClient({ chain: foundry, transport }),
  walletClient: createWalletClient({ chain: foundry, transport, account: privateKeyToAccount(process.env.PUBLISHER_KEY) }),
  deployment: parseDeployment(JSON.parse(readFileSync(process.env.DEPLOYMENTS_FILE, "utf8"))),
  blobCacheDir: "blobs",
});
const manifest = parsePodSpec(readFileSync("pod.yaml", "utf8"));
const { quote, signature } = await podnet.getQuote({ provider: process.env.PROVIDER, manifest });
const { leaseId } = await podnet.createLease({ quote, signature, deposit: quote.pricePerSecond * 3600n });
console.log(JSON.stringify({ leaseId: String(leaseId), pricePerSecond: String(quote.pricePerSecond) }));
`;

/** A TypeScript consumer: compiles only if the shipped declarations carry the real types (bigint, not any). */
const CONSUMER_TS = `import { type PodManifest, createPodnetClient, parsePodSpec, type PodnetClientWithActions } from "@podnet/sdk";
import { podnetMarketAbi, pricePerSecond, manifestResources } from "@podnet/sdk/protocol";

export function price(text: string): bigint {
  const manifest: PodManifest = parsePodSpec(text);
  return pricePerSecond({ perCpuMilli: 1n, perMemoryMiB: 1n, perStorageMiB: 1n, flat: 0n }, manifestResources(manifest));
}
// @ts-expect-error prices are bigints: a number must not type-check
export const wrong: number = price("version: 1");
export const abiEntries: number = podnetMarketAbi.length;
export type Client = PodnetClientWithActions;
export const create: typeof createPodnetClient = createPodnetClient;
`;

const publisher = devAccount(13);

let dir: string;
let project: string;
/** What `npm run pack:sdk -- --json` printed. */
let packed: PackedPackage;
let devnet: Devnet;
let chain: LocalChain;
let provider: RunningProvider;

/** Runs a command in `cwd` (default: the consumer project) with the environment of a publisher's shell. */
function inProject(
  command: string,
  args: string[],
  { env = {}, cwd = project }: { env?: Record<string, string>; cwd?: string } = {},
): Promise<ScriptRun> {
  return runInProject(cwd, command, args, env);
}

const ok = (command: string, args: string[], env?: Record<string, string>) => okInProject(project, command, args, env);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-sdk-package-"));
  const sdkManifest = JSON.parse(readFileSync(join(repoRoot, "sdk", "package.json"), "utf8"));
  const rootManifest = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
  // viem as a publisher adds it beside the SDK (docs/sdk.md); @types/node for the TypeScript consumer.
  const world = await installPacked(
    dir,
    { name: "consumer", type: "module" },
    ["sdk"],
    [`viem@${sdkManifest.dependencies.viem}`, `@types/node@${rootManifest.devDependencies["@types/node"]}`],
  );
  ({ project, devnet } = world);
  [packed] = world.packed as [PackedPackage];
  chain = devnet.chain;
  [provider] = await Promise.all([devnet.startProvider({ index: 99 }), mint(chain, publisher.account, 1_000n * TOKEN)]);
}, 240_000);

afterAll(async () => {
  await devnet?.stop();
  // The project's copy of the installed packages (hard links: the run removes the install itself when it ends); the
  // devnet's logs stay for a failure's story.
  if (project) rmSync(project, { recursive: true, force: true });
});

describe("the packed @podnet/sdk", () => {
  it("ships compiled JavaScript, declarations, the bin, the schemas and the changelog, and no tests or sources", () => {
    const files = packed.files;
    for (const expected of [
      "package.json",
      "README.md",
      "CHANGELOG.md",
      "bin/podnet.mjs",
      "dist/src/index.js",
      "dist/src/index.d.ts",
      "dist/src/index.js.map",
      "dist/src/protocol/index.js",
      "dist/src/protocol/abis.js",
      "dist/src/cli/bin.js",
      "pod-manifest.schema.json",
      "app-config.schema.json",
    ]) {
      expect(files).toContain(expected);
    }
    expect(files.filter((file) => /\.test\.|(^|\/)corpus\//.test(file))).toEqual([]);
    expect(files.filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))).toEqual([]);
    expect(files.every((file) => /^(dist\/|bin\/|deployments\/)/.test(file) || !file.includes("/"))).toBe(true);

    const manifest = JSON.parse(readFileSync(join(packed.stagedDir, "package.json"), "utf8"));
    const source = JSON.parse(readFileSync(join(repoRoot, "sdk", "package.json"), "utf8"));
    expect(manifest.private).toBeUndefined();
    expect(manifest.version).toBe(source.version);
    expect(manifest.dependencies).toEqual(source.dependencies);
    expect(manifest.exports["."]).toEqual({ types: "./dist/src/index.d.ts", import: "./dist/src/index.js" });
    expect(manifest.bin).toEqual({ podnet: "bin/podnet.mjs" });
    expect(JSON.stringify(manifest)).not.toContain("tsx");
  });

  it("passes npm publish --dry-run with nothing auto-corrected", async () => {
    const run = await publishDryRun(packed.stagedDir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(run.announced);
    expect(run.warnings).toEqual([]);
  });

  it("resolves from the project's own node_modules, not the repository", async () => {
    const resolved = await ok(process.execPath, [
      "--input-type=module",
      "-e",
      'for (const name of ["@podnet/sdk", "@podnet/sdk/protocol", "viem"]) console.log(import.meta.resolve(name))',
    ]);
    const own = `${realpathSync(project)}${sep}node_modules${sep}`;
    const paths = resolved
      .trim()
      .split("\n")
      .map((url) => realpathSync(new URL(url)));
    expect(paths).toHaveLength(3);
    for (const path of paths) expect(path.startsWith(own), path).toBe(true);
    expect(paths[0]).toBe(join(own, "@podnet", "sdk", "dist", "src", "index.js"));
  });

  it("quotes and leases from a plain .mjs file: parsePodSpec, getQuote, createLease", async () => {
    writeFileSync(join(project, "pod.yaml"), POD_YAML);
    writeFileSync(join(project, "lease.mjs"), CONSUMER_MJS);
    const out = await ok(process.execPath, ["lease.mjs"], {
      RPC_URL: chain.rpcUrl,
      DEPLOYMENTS_FILE: chain.deploymentsFile,
      PROVIDER: provider.address,
      PUBLISHER_KEY: publisher.privateKey,
    });
    const { leaseId, pricePerSecond: quoted } = JSON.parse(out.trim().split("\n").at(-1) ?? "");
    const expected = pricePerSecond(PRICING, manifestResources(parsePodSpec(POD_YAML)));
    expect(BigInt(quoted)).toBe(expected);

    const lease = await devnet.publisherClient(publisher.account).getLease({ leaseId: BigInt(leaseId) });
    expect(lease.publisher).toBe(publisher.account.address);
    expect(lease.provider).toBe(provider.address);
    expect(lease.pricePerSecond).toBe(expected);
  });

  it("runs `npx podnet --help` from the installed bin, which looks for deployments inside the package", async () => {
    const bin = realpathSync(join(project, "node_modules", ".bin", "podnet"));
    expect(bin).toBe(join(realpathSync(project), "node_modules", "@podnet", "sdk", "bin", "podnet.mjs"));
    const run = await inProject("npx", ["podnet", "--help"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("usage: podnet <command>");

    // Its default deployments folder is the installed package's (dist/src/cli/config.js, three levels down), where
    // known public deployments ship; the local chain has none there, so it says which file it looked for.
    const home = join(dir, "home");
    mkdirSync(home, { recursive: true });
    const connect = await inProject("npx", ["podnet", "providers", "--cpu", "100", "--memory", "64"], {
      env: { HOME: home, PODNET_RPC_URL: chain.rpcUrl },
    });
    expect(connect.code).toBe(1);
    const packaged = join(realpathSync(project), "node_modules", "@podnet", "sdk", "deployments", "31337.json");
    expect(connect.stderr).toContain(`${packaged} does not exist`);
  });

  it("type-checks a TypeScript consumer against the shipped declarations, with TypeScript 7 and 5.9", async () => {
    // Two consumers: the right one, and the same with a number where the SDK returns a bigint.
    writeFileSync(join(project, "consumer.ts"), CONSUMER_TS);
    writeFileSync(join(project, "wrong.ts"), CONSUMER_TS.replace("// @ts-expect-error", "//"));
    const tsconfig = (name: string, skipLibCheck: boolean) =>
      writeFileSync(
        join(project, name),
        `${JSON.stringify({
          compilerOptions: {
            target: "ES2022",
            module: "nodenext",
            moduleResolution: "nodenext",
            strict: true,
            noEmit: true,
            types: ["node"],
            skipLibCheck,
          },
          files: ["consumer.ts", "wrong.ts"],
        })}\n`,
      );
    // Two checks, each for what it is cheap at. TypeScript 7 (the native compiler that built the declarations) with
    // skipLibCheck off: every declaration file of the install is checked, ours among them. TypeScript 5.9 (the
    // repository's `typescript`), what most consumers still run, with skipLibCheck on as `tsc --init` sets it: our
    // declarations parse and resolve for it, and carry the types. 5.9 with skipLibCheck off, as this test ran before,
    // took 19 CPU seconds, nearly all of them checking viem's declarations; the two together take about 12.
    tsconfig("tsconfig.all-declarations.json", false);
    tsconfig("tsconfig.skip-lib-check.json", true);
    // node_modules/.bin/tsc may be either version (both packages ship a bin of that name): each is named here.
    const checks = [
      {
        tsc: join(repoRoot, "node_modules", "typescript-native", "bin", "tsc"),
        config: "tsconfig.all-declarations.json",
      },
      { tsc: join(repoRoot, "node_modules", "typescript", "bin", "tsc"), config: "tsconfig.skip-lib-check.json" },
    ];
    const runs = await Promise.all(
      checks.map(({ tsc, config }) => inProject(tsc, ["-p", config, "--pretty", "false"])),
    );
    for (const run of runs) {
      // Every error is the wrong consumer's (none in consumer.ts, none in the shipped declarations): the declarations
      // compile, carry the real types, and are not `any`.
      const errors = run.stdout.split("\n").filter((line) => /error TS\d+/.test(line));
      expect(run.code).not.toBe(0);
      expect(errors).toEqual([
        expect.stringMatching(/^wrong\.ts\(\d+,\d+\): error TS2322: Type 'bigint' is not assignable to type 'number'/),
      ]);
    }
  }, 180_000); // whole tsc runs: on a machine busy with other test files, more than the default minute
});
