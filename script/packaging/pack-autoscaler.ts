/**
 * `npm run pack:autoscaler`: builds the publishable `@podnet/autoscaler` package (the `podnet-autoscaler`,
 * `podnet-dns` and `podnet-lb` daemons) and packs it into .packages/podnet-autoscaler-<version>.tgz. It depends on
 * `@podnet/sdk` at the same version (`npm run pack:sdk` packs that one).
 *
 * Inside the repository the launchers in autoscaler/bin/ run the TypeScript sources through tsx; the package ships
 * what plain Node runs: autoscaler/tsconfig.build.json compiles autoscaler/src without its tests to dist/, and each
 * launcher imports its daemon's compiled entry point. Nothing else ships: the daemons read no file relative to their
 * own modules (only the operator's: deployments, app.yaml, pod.yaml, keys, data dir), and autoscaler/image/, which
 * builds the sidecar and node images from the repository, is not part of the package.
 *
 * Usage: `npm run pack:autoscaler -- [--out <dir>] [--json] [--no-check] [--publish-dry-run]`; `--json` prints what
 * was packed for test/autoscaler-package.test.ts.
 */
import { cpSync } from "node:fs";
import { join } from "node:path";
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

/** Each bin, and the compiled entry point (in dist/) its launcher imports: the repository's launchers run src/<same>.ts. */
const daemons = {
  "podnet-autoscaler": { entry: "bin.js", what: "The autoscaler and network node daemon (docs/autoscaler.md)" },
  "podnet-dns": { entry: "dns/bin.js", what: "The app zone's authoritative nameserver (docs/dns.md)" },
  "podnet-lb": { entry: "lb/bin.js", what: "The load balancer in front of an app's instances (docs/lb.md)" },
} as const;

/** Compiles, stages and packs the autoscaler. Throws with the failing command's output. */
function packAutoscaler({ outDir, typeCheck }: PackOptions): PackedPackage {
  const stagedDir = freshStagingDir(outDir, "autoscaler");
  compile("autoscaler", join(stagedDir, "dist"), typeCheck);
  writeManifest(stagedDir, publishedManifest(readSourceManifest("autoscaler")));
  for (const [bin, { entry, what }] of Object.entries(daemons)) {
    writeLauncher(stagedDir, `bin/${bin}.mjs`, `// ${what}, compiled.\nimport "../dist/${entry}";\n`);
  }
  for (const file of ["README.md", "CHANGELOG.md"]) {
    cpSync(join(repoRoot, "autoscaler", file), join(stagedDir, file));
  }
  return npmPack(stagedDir, outDir);
}

/**
 * The published package.json: autoscaler/package.json's identity and dependencies (copied exactly), `@podnet/sdk`
 * checked to be the SDK's own version. No `exports`: the package is three programs, not a library.
 */
function publishedManifest(autoscaler: SourceManifest): Record<string, unknown> {
  checkSdkVersion("autoscaler", autoscaler);
  return {
    ...publishedBase(autoscaler),
    // No "./": npm publish drops a bin path that starts with it ("npm pkg fix").
    bin: Object.fromEntries(Object.keys(daemons).map((bin) => [bin, `bin/${bin}.mjs`])),
    files: ["dist", "bin", "CHANGELOG.md"],
  };
}

packFromCommandLine(packAutoscaler);
