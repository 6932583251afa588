/**
 * `npm run build:autoscaler-image [-- --entry F --tag T --out F]`: builds the autoscaler's sidecar image from
 * autoscaler/src/bin.ts and saves it as a tarball for `podnet image add`. Prints what went in, the sizes and the
 * time it took.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildNodeImage } from "./build-node-image.js";

const autoscalerDir = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The autoscaler workspace's version, or `dev` while it has no package.json. */
function autoscalerVersion(): string {
  const file = join(autoscalerDir, "package.json");
  if (!existsSync(file)) return "dev";
  const version = (JSON.parse(readFileSync(file, "utf8")) as { version?: unknown }).version;
  return typeof version === "string" && version !== "" ? version : "dev";
}

const size = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;

/** A path as the user would type it: relative when inside the current folder. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith("..") ? path : rel;
}

async function main() {
  const { values } = parseArgs({
    options: {
      entry: { type: "string", default: join(autoscalerDir, "src", "bin.ts") },
      tag: { type: "string", default: `podnet/autoscaler:${autoscalerVersion()}` },
      out: { type: "string", default: join(autoscalerDir, "image", "dist", "autoscaler-image.tar") },
    },
    strict: true,
  });
  const entry = values.entry as string;
  if (!existsSync(entry)) {
    throw new Error(`--entry: ${entry} does not exist (build another program with --entry <file>)`);
  }
  const built = await buildNodeImage({ entry, tag: values.tag as string, out: values.out as string });
  console.log(`image     ${built.tag} (${built.imageId})`);
  console.log(`layer     ${built.diffId}  ${size(built.layerBytes)} unpacked, ${built.files.length} paths`);
  console.log(`bundle    ${size(built.bundleBytes)} at /app/main.js`);
  if (built.tarball) console.log(`tarball   ${shown(built.tarball.path)}  ${size(built.tarball.bytes)}`);
  console.log(`built in  ${(built.elapsedMs / 1000).toFixed(1)} s`);
  console.log(
    `next      podnet image add ${built.tarball ? shown(built.tarball.path) : built.tag} --set pod.yaml --container autoscaler`,
  );
}

main().catch((error: Error) => {
  console.error(`build:autoscaler-image: ${error.message}`);
  process.exit(1);
});
