/**
 * Builds a minimal container image for a Node program without a registry or a base image: esbuild bundles the
 * entry, the host's node binary and exactly the shared libraries it needs make the root file system, `docker
 * import` turns that single layer into an image, and `docker save` writes the tarball that `podnet image add` (the
 * SDK's prepareImage) seals as an encrypted blob.
 */
import { spawn } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { bundleEntry } from "./bundle.js";
import type { SharedObjects } from "./ldd.js";
import { APP_UID, IMAGE_BUNDLE_PATH, IMAGE_NODE_PATH, planRootfs, type RootfsEntry, writeRootfsTar } from "./rootfs.js";

/** Options of {@link buildNodeImage}. */
export interface BuildNodeImageOptions {
  /** The program's entry file (TypeScript or JavaScript), bundled with its dependencies. */
  entry: string;
  /** The image's tag, e.g. `podnet/autoscaler:0.1.0`. */
  tag: string;
  /** Write the `docker save` tarball here (parent directories made); omitted: no tarball. */
  out?: string;
  /** Extra environment of the image (`ENV`), e.g. defaults of the program's config. */
  env?: Record<string, string>;
  /** The node binary to copy; default the one running this build (`process.execPath`). */
  nodeBinary?: string;
  /** What the node binary needs; default asked of the host's `ldd`. */
  sharedObjects?: SharedObjects;
  /** Host CA bundle to copy; `null` for none; default Debian's when present. */
  caBundle?: string | null;
}

/** What {@link buildNodeImage} made. */
export interface BuiltNodeImage {
  tag: string;
  /** Docker's image id (it covers the import time too, so it differs between builds; `diffId` does not). */
  imageId: string;
  /** sha256 of the root file system layer: equal for equal inputs. */
  diffId: string;
  /** The root file system's paths, sorted (directories included). */
  files: string[];
  /** Bytes of the root file system layer (the image's size unpacked). */
  layerBytes: number;
  /** Bytes of the bundle. */
  bundleBytes: number;
  /** The `docker save` tarball and its size, when `out` was given. */
  tarball?: { path: string; bytes: number };
  /** Wall time of the whole build, in milliseconds. */
  elapsedMs: number;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Builds the image: bundle, root file system, `docker import` with the entry point and user set, a check that the
 * engine kept the layer byte for byte, and optionally `docker save`. Needs the docker CLI and a running engine.
 */
export async function buildNodeImage(options: BuildNodeImageOptions): Promise<BuiltNodeImage> {
  const started = performance.now();
  for (const name of Object.keys(options.env ?? {})) {
    if (!ENV_NAME.test(name)) throw new Error(`env: ${JSON.stringify(name)} is not an environment variable name`);
  }
  if (options.tag.trim() === "" || /\s/.test(options.tag))
    throw new Error(`tag: ${JSON.stringify(options.tag)} is not an image tag`);

  const bundle = await bundleEntry(options.entry);
  const entries = planRootfs({
    bundle: bundle.code,
    nodeBinary: options.nodeBinary,
    sharedObjects: options.sharedObjects,
    caBundle: options.caBundle,
  });
  const imported = await importRootfsImage({
    entries,
    tag: options.tag,
    out: options.out,
    changes: [
      `ENTRYPOINT ${JSON.stringify([IMAGE_NODE_PATH, IMAGE_BUNDLE_PATH])}`,
      "CMD []",
      `USER ${APP_UID}:${APP_UID}`,
      "WORKDIR /app",
      "ENV PATH=/usr/bin",
      "ENV NODE_ENV=production",
      ...Object.entries(options.env ?? {}).map(([name, value]) => `ENV ${name}=${JSON.stringify(value)}`),
    ],
  });
  return {
    ...imported,
    files: entries.map((e) => e.path),
    bundleBytes: bundle.code.length,
    elapsedMs: Math.round(performance.now() - started),
  };
}

/** What {@link importRootfsImage} made. */
export interface ImportedImage {
  tag: string;
  imageId: string;
  diffId: string;
  layerBytes: number;
  tarball?: { path: string; bytes: number };
}

/**
 * Writes the planned root file system as one layer, `docker import`s it with the given Dockerfile instructions
 * (`--change`), checks that the engine kept the layer byte for byte, and optionally `docker save`s the image to `out`.
 */
export async function importRootfsImage(options: {
  entries: RootfsEntry[];
  tag: string;
  changes: string[];
  out?: string;
}): Promise<ImportedImage> {
  const layer = await writeRootfsTar(options.entries);
  const imported = await docker(
    ["import", ...options.changes.flatMap((c) => ["--change", c]), "-", options.tag],
    layer.tar,
  );
  const imageId = imported.toString().trim();
  const layers = JSON.parse(
    (await docker(["image", "inspect", "--format", "{{json .RootFS.Layers}}", imageId])).toString(),
  );
  if (layers.length !== 1 || layers[0] !== layer.diffId) {
    throw new Error(
      `docker import changed the layer: expected [${layer.diffId}], the image has ${JSON.stringify(layers)}`,
    );
  }
  let tarball: ImportedImage["tarball"];
  if (options.out !== undefined) {
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(options.out, await docker(["save", options.tag]));
    tarball = { path: options.out, bytes: statSync(options.out).size };
  }
  return { tag: options.tag, imageId, diffId: layer.diffId, layerBytes: layer.tar.length, tarball };
}

/** Runs the docker CLI, feeding `input` on stdin; resolves with stdout, rejects with its stderr. */
function docker(args: string[], input?: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", (error) => reject(new Error(`docker ${args[0]}: ${error.message}`)));
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`docker ${args[0]} exited with ${code}: ${Buffer.concat(err).toString().trim()}`));
    });
    child.stdin.on("error", () => {}); // a docker that exits early reports through its exit code
    child.stdin.end(input);
  });
}
