/**
 * `npm run build:worker-image -- [--tag T] [--out F] [--json] [--app D]`: the provider worker as a container image,
 * built offline (no registry, no base image). The SDK and worker packages are packed as `npm run pack:sdk` and `npm
 * run pack:worker` pack them, installed with npm into a staging folder exactly as a provider would install them (no
 * dev dependencies, no workspace links, no tsx), and that tree becomes /app of a root file system holding nothing
 * else but the host's node binary, the host's iptables (the pods' egress firewall) and btrfs (volume quotas) with the
 * libraries each needs, and the CA bundle. `docker import` makes it a one-layer image (autoscaler/image's machinery,
 * shared with the sidecar image); `--out` also writes `docker save`'s tarball to carry to another machine.
 *
 * The image holds this host's binaries: build it on (or for) the machine family that runs it. How to run it (host
 * network, the Docker socket, the paths the engine must see at the same place): docs/worker.md, "Install".
 *
 * `--app <dir>` takes a project where both packages are already installed from their tarballs instead of packing and
 * installing them: test/worker-image.test.ts builds from the install test/worker-package.test.ts uses too, which the
 * test run makes once (devnet/src/installed-package.ts; an install is 10-25 CPU seconds).
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { importRootfsImage } from "../../autoscaler/image/build-node-image.js";
import { sharedObjectsOf } from "../../autoscaler/image/ldd.js";
import { type HostProgram, IMAGE_NODE_PATH, planRootfs, type RootfsEntry } from "../../autoscaler/image/rootfs.js";
import { type PackedPackage, readSourceManifest, repoRoot, run } from "./staged-package.js";

/** Where the installed packages sit in the image. */
const IMAGE_APP_DIR = "/app";
/** The worker's launcher inside the image. */
const IMAGE_WORKER_BIN = `${IMAGE_APP_DIR}/node_modules/@podnet/worker/bin/podnet-worker.mjs`;
/** The worker's data directory in the image: a volume (or the same host path) keeps it across containers. */
const IMAGE_DATA_DIR = "/var/lib/podnet-worker";

/** What the build made; `--json` prints it for test/worker-image.test.ts. */
interface BuiltWorkerImage {
  tag: string;
  imageId: string;
  diffId: string;
  /** Bytes of the one layer (the image unpacked) and the number of paths in it. */
  layerBytes: number;
  paths: number;
  /** The paths under /app, sorted. */
  appFiles: string[];
  /** The host tools copied in, by their path in the image. */
  tools: string[];
  /** The tarballs packed for the image (none with `--app`). */
  sdk?: Pick<PackedPackage, "tarball" | "size">;
  worker?: Pick<PackedPackage, "tarball" | "size">;
  tarball?: { path: string; bytes: number };
  elapsedMs: number;
}

/** A host tool the worker runs, looked up on PATH; a missing one is an error naming the Debian package. */
function hostTool(name: string, debianPackage: string, why: string): string {
  for (const dir of ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]) {
    try {
      return realpathSync(join(dir, name));
    } catch {}
  }
  throw new Error(`${name}: not found on this host (install Debian's ${debianPackage}): the worker runs it for ${why}`);
}

/**
 * The host programs of the image: iptables (copies of the multi-call binary named `iptables` and `iptables-restore`,
 * which picks its mode from its name, plus every extension module it may load) and btrfs.
 */
function hostPrograms(): { programs: HostProgram[]; extensionsDir: string } {
  const iptables = hostTool("iptables", "iptables", "the pods' egress firewall");
  const btrfs = hostTool("btrfs", "btrfs-progs", "volume size limits");
  // The extensions (-m conntrack, -j DROP, ...) are loaded at run time from libxtables' own folder's xtables/.
  const libxtables = sharedObjectsOf(iptables).libraries.find((path) => /\/libxtables\.so/.test(path));
  if (libxtables === undefined)
    throw new Error(`iptables: ${iptables} does not link libxtables; cannot find its extensions`);
  const extensionsDir = join(dirname(realpathSync(libxtables)), "xtables");
  const extensions = readdirSync(extensionsDir)
    .filter((name) => name.endsWith(".so"))
    .sort()
    .map((name) => ({ path: join(extensionsDir, name), hostFile: join(extensionsDir, name) }));
  const programs = [
    { path: "/usr/sbin/iptables", hostFile: iptables },
    // The firewall reads the table with `iptables -S` and applies its changes in one `iptables-restore` transaction.
    { path: "/usr/sbin/iptables-restore", hostFile: iptables },
    { path: "/usr/bin/btrfs", hostFile: btrfs },
  ];
  return { programs: [...programs, ...extensions], extensionsDir };
}

/** Every directory and regular file under `root`, as root file system entries below `target` (npm's .bin links left out). */
function treeEntries(root: string, target: string): RootfsEntry[] {
  const entries: RootfsEntry[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const inImage = posix.join(target, relative(root, path));
      const info = lstatSync(path);
      if (info.isSymbolicLink()) {
        // npm links bins into node_modules/.bin; the image runs the worker's launcher by its own path.
        if (posix.basename(posix.dirname(inImage)) === ".bin") continue;
        throw new Error(`worker image: ${path} is a symbolic link; the installed tree should hold none`);
      }
      if (info.isDirectory()) {
        if (name === ".bin") continue;
        entries.push({ path: inImage, type: "directory", mode: 0o755 });
        walk(path);
      } else if (info.isFile()) {
        entries.push({ path: inImage, type: "file", mode: info.mode & 0o111 ? 0o755 : 0o644, hostFile: path });
      } else {
        throw new Error(`worker image: ${path} is neither a file nor a directory`);
      }
    }
  };
  walk(root);
  return entries;
}

/** Packs a workspace with its pack script (those are entry points: run, not imported). */
function pack(name: "sdk" | "worker", outDir: string): PackedPackage {
  const tsx = join(repoRoot, "node_modules", ".bin", "tsx");
  return JSON.parse(
    run(tsx, [join(repoRoot, "script", "packaging", `pack-${name}.ts`), "--out", outDir, "--json"], repoRoot),
  ) as PackedPackage;
}

/**
 * Packs both packages and installs them with npm into `<work>/app`, as a provider installs them: no dev dependencies,
 * no workspace links, no tsx.
 */
function installPackages(work: string): { app: string; sdk: PackedPackage; worker: PackedPackage } {
  const sdk = pack("sdk", join(work, "packages"));
  const worker = pack("worker", join(work, "packages"));
  const app = join(work, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), `${JSON.stringify({ name: "podnet-worker-image", private: true })}\n`);
  run(
    "npm",
    ["install", "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline", sdk.tarball, worker.tarball],
    app,
  );
  return { app, sdk, worker };
}

/**
 * An installed project given with `--app`, checked to hold both packages at this checkout's versions (not, say, an
 * older release): the image must be what this checkout would build.
 */
function checkedInstalledApp(app: string): string {
  for (const workspace of ["sdk", "worker"]) {
    const wanted = readSourceManifest(workspace);
    const manifest = join(app, "node_modules", wanted.name, "package.json");
    const installed = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }) : null;
    if (installed?.version !== wanted.version) {
      throw new Error(`--app ${app}: ${wanted.name}@${wanted.version} is not installed there (${manifest})`);
    }
  }
  return app;
}

/**
 * Packs, installs (or takes `app`, already installed) and imports the worker image. Needs npm (the registry or its
 * cache), the docker CLI and an engine.
 */
async function buildWorkerImage(options: { tag: string; out?: string; app?: string }): Promise<BuiltWorkerImage> {
  const started = performance.now();
  const work = mkdtempSync(join(tmpdir(), "podnet-worker-image-"));
  try {
    const installed: { app: string; sdk?: PackedPackage; worker?: PackedPackage } = options.app
      ? { app: checkedInstalledApp(options.app) }
      : installPackages(work);
    const { app, sdk, worker } = installed;

    const { programs, extensionsDir } = hostPrograms();
    const entries = planRootfs({
      files: [
        ...treeEntries(app, IMAGE_APP_DIR),
        { path: IMAGE_DATA_DIR, type: "directory", mode: 0o700 },
        // iptables takes its lock here (-w); /run is otherwise empty.
        { path: "/run", type: "directory", mode: 0o755 },
      ],
      hostPrograms: programs,
    });
    const version = readSourceManifest("worker").version;
    const imported = await importRootfsImage({
      entries,
      tag: options.tag,
      out: options.out,
      changes: [
        `ENTRYPOINT ${JSON.stringify([IMAGE_NODE_PATH, IMAGE_WORKER_BIN])}`,
        'CMD ["run"]',
        // root in the container: the worker programs the host's iptables and btrfs quotas, and holds the Docker
        // socket, which is root on the host anyway. The image is a way to install and restart it, not a sandbox.
        "USER 0:0",
        `WORKDIR ${IMAGE_DATA_DIR}`,
        "ENV PATH=/usr/sbin:/usr/bin",
        "ENV NODE_ENV=production",
        `ENV PODNET_DATA_DIR=${IMAGE_DATA_DIR}`,
        `ENV XTABLES_LIBDIR=${extensionsDir}`,
        `LABEL org.opencontainers.image.title="podnet-worker" org.opencontainers.image.version="${version}"`,
      ],
    });
    return {
      tag: imported.tag,
      imageId: imported.imageId,
      diffId: imported.diffId,
      layerBytes: imported.layerBytes,
      paths: entries.length,
      appFiles: entries.filter((e) => e.path.startsWith(`${IMAGE_APP_DIR}/`)).map((e) => e.path),
      tools: ["/usr/sbin/iptables", "/usr/sbin/iptables-restore", "/usr/bin/btrfs"],
      ...(sdk && worker
        ? { sdk: { tarball: sdk.tarball, size: sdk.size }, worker: { tarball: worker.tarball, size: worker.size } }
        : {}),
      tarball: imported.tarball,
      elapsedMs: Math.round(performance.now() - started),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function main() {
  const version = readSourceManifest("worker").version;
  const { values } = parseArgs({
    options: {
      tag: { type: "string", default: `podnet/worker:${version}` },
      out: { type: "string" },
      json: { type: "boolean" },
      app: { type: "string" },
    },
    strict: true,
  });
  const tag = values.tag as string;
  if (tag.trim() === "" || /\s/.test(tag)) throw new Error(`--tag: ${JSON.stringify(tag)} is not an image tag`);
  const built = await buildWorkerImage({ tag, out: values.out, app: values.app && resolve(values.app) });
  if (values.json) {
    console.log(JSON.stringify(built));
    return;
  }
  console.log(`image     ${built.tag} (${built.imageId})`);
  console.log(`layer     ${built.diffId}  ${mib(built.layerBytes)} unpacked, ${built.paths} paths`);
  console.log(`packages  @podnet/sdk and @podnet/worker ${version} installed under ${IMAGE_APP_DIR}`);
  console.log(`tools     node, ${built.tools.join(", ")}`);
  if (built.tarball) console.log(`tarball   ${built.tarball.path}  ${mib(built.tarball.bytes)}`);
  console.log(`built in  ${(built.elapsedMs / 1000).toFixed(1)} s`);
  console.log("run       docs/worker.md, Install: the image");
}

main().catch((error: Error) => {
  console.error(`build:worker-image: ${error.message}`);
  process.exit(1);
});
