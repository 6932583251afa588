import { mkdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { stringify } from "yaml";
import { prepareSecret } from "../../actions/prepare-secret.js";
import type { PodnetClient } from "../../client.js";
import { importCompose } from "../../import/compose.js";
import {
  ImportError,
  type ImportPlaceholder,
  type ImportResult,
  PLACEHOLDER_DIGEST,
  PLACEHOLDER_SECRET_BLOB,
  placeholderKeys,
} from "../../import/shared.js";
import { isContentId, MAX_SECRET_FILE_BYTES, type PodManifest, parseManifest } from "../../protocol/index.js";
import { type OptionSpec, type ParsedArgs, UsageError } from "../args.js";
import type { Context } from "../config.js";
import { ensureLocalImage } from "../docker-image.js";
import { encryptImage } from "../encrypt-image.js";
import { CliError } from "../errors.js";
import { readPodFile, writeFileAtomic } from "../pod-file.js";
import { deployManifest, options as deployOptions, deployPlan } from "./deploy.js";
import { topProvider } from "./shared.js";

export const options: OptionSpec = deployOptions;

export const help = `From a folder (default: the current one) or a file: deploys pod.yaml, or, when the folder has
none, the Compose file (compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml, in docker compose's
order). A Compose file is converted like podnet import compose (warnings printed with their lines); each image not
pinned by digest is taken from the local Docker (pulled first when missing), encrypted into the blob cache and
uploaded to the provider; each secret declared with file: is encrypted from that file. The pod.yaml it deployed is
written to .podnet/pod.yaml beside the Compose file, for podnet update. Then it deploys like podnet deploy (same
options: --provider, --market, --duration ...), waits for the pod and prints its URLs. Every check (options, the
file, secrets' files) runs before an image is encrypted or a token is spent.

examples:
  podnet up
  podnet up ./shop --duration 2h
  podnet up docker-compose.yml --market --bid-window 30s`;

/** docker compose's own search order. */
export const COMPOSE_FILES = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];

interface Source {
  kind: "pod" | "compose";
  path: string;
  /** As the user should see it (relative to the working directory). */
  shown: string;
}

export async function run(ctx: Context, args: ParsedArgs): Promise<void> {
  if (args.positionals.length > 1) throw new UsageError(`up: takes one folder or file, got ${args.positionals.length}`);
  const plan = deployPlan(args);
  const source = findSource(ctx, args.positionals[0] ?? ".");
  if (source.kind === "pod") {
    const { manifest } = readPodFile(source.path, source.shown);
    refuseFilePlaceholders(manifest, source.shown);
    ctx.out.progress(`${source.shown}: deploying`);
    await deployManifest(ctx, plan, manifest, source.shown, { source: source.shown });
    return;
  }

  const imported = importFile(ctx, source);
  const secrets = readSecretFiles(source, imported.placeholders);
  // The chain, the key and a provider answer before minutes go into encrypting images. The search needs only the
  // pod's resources, which the placeholders do not change; the provider found is the one leased.
  const client = await ctx.client("required");
  if (!plan.market && plan.provider === undefined) {
    plan.provider = (
      await topProvider(ctx, client, parseManifest(imported.podYaml), {
        attributes: plan.attributes,
        ...(plan.maxPrice !== undefined ? { maxPricePerSecond: plan.maxPrice } : {}),
      })
    ).address;
  }
  const pod = structuredClone(imported.podYaml);
  const sources = [...new Set(imported.placeholders.filter((p) => p.kind === "image").map((p) => p.source))];
  // Every image is found (or pulled) before the first is encrypted: a missing one leaves nothing behind.
  const ids: Record<string, string> = {};
  for (const source of sources) ids[source] = await ensureLocalImage(source, (line) => ctx.out.progress(line));
  const memo = new ImageMemo(join(dirname(source.path), ".podnet", "images.json"), await ctx.blobClient());
  const images: Record<string, string> = {};
  for (const source of sources) {
    const id = ids[source] as string;
    const known = memo.blobOf(id);
    if (known) {
      images[source] = known;
      ctx.out.progress(`${source}: unchanged since the last podnet up (${id.slice(7, 19)}), reusing ${known}`);
      continue;
    }
    images[source] = (await encryptImage(ctx, source, { fromDocker: true })).image;
    memo.remember(id, images[source]);
  }
  for (const placeholder of imported.placeholders) {
    if (placeholder.kind === "image") setAt(pod, placeholder.path, images[placeholder.source] as string);
  }
  if (secrets.size > 0) {
    const client = await ctx.blobClient();
    // One blob per secret, however many services mount it.
    const blobs = new Map<string, string>();
    for (const placeholder of imported.placeholders) {
      const value = secrets.get(placeholder);
      if (value === undefined) continue;
      let blob = blobs.get(placeholder.source);
      if (blob === undefined) {
        blob = (await prepareSecret(client, { value })).blob;
        blobs.set(placeholder.source, blob);
        ctx.out.progress(`secret ${placeholder.source}: encrypted from ${placeholder.file}`);
      }
      setAt(pod, placeholder.path, blob);
    }
  }
  const manifest = parseManifest(pod);
  const podFile = join(dirname(source.path), ".podnet", "pod.yaml");
  mkdirSync(dirname(podFile), { recursive: true });
  writeFileAtomic(
    podFile,
    `# Written by podnet up from ${basename(source.path)}: what was deployed. podnet update <lease> <this file> redeploys it.\n${stringify(pod, { lineWidth: 0 })}`,
  );
  const shownPod = relative(ctx.cwd, podFile) || podFile;
  ctx.out.progress(`${shownPod}: written (images and secrets filled in)`);
  await deployManifest(ctx, plan, manifest, shownPod, { source: source.shown, podFile: shownPod, images });
}

/** The file to deploy: the one given, or pod.yaml in the folder, else its Compose file. */
function findSource(ctx: Context, given: string): Source {
  const path = ctx.path(given);
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new UsageError(`up: ${given}: no such file or folder`);
  }
  const shown = (p: string) => relative(ctx.cwd, p) || ".";
  if (!isDir) {
    const kind = COMPOSE_FILES.includes(basename(path)) || /compose/i.test(basename(path)) ? "compose" : "pod";
    return { kind, path, shown: shown(path) };
  }
  const candidates = ["pod.yaml", ...COMPOSE_FILES].map((name) => join(path, name)).filter(isFile);
  const [first, ...others] = candidates;
  if (!first) {
    throw new UsageError(
      `up: ${shown(path)}: no pod.yaml and no Compose file (${COMPOSE_FILES.join(", ")}); podnet init writes a pod.yaml`,
    );
  }
  if (others.length > 0) {
    ctx.out.progress(`using ${shown(first)} (${others.map(shown).join(", ")} left alone)`);
  }
  return { kind: basename(first) === "pod.yaml" ? "pod" : "compose", path: first, shown: shown(first) };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The Compose file converted, its warnings printed; refused (exit 2) when it has errors or asks for replicas. */
function importFile(ctx: Context, source: Source): ImportResult {
  let text: string;
  try {
    text = readFileSync(source.path, "utf8");
  } catch (error) {
    throw new CliError(`${source.shown}: cannot read it (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`);
  }
  let result: ImportResult;
  try {
    // env_file paths come joined to the Compose file's folder as shown, so relative to the working directory.
    result = importCompose(text, { file: source.shown, readFile: (p) => readFileSync(ctx.path(p), "utf8") });
  } catch (error) {
    if (!(error instanceof ImportError)) throw error;
    throw new CliError(`${source.shown}: cannot be deployed:\n${error.message}`, 2);
  }
  for (const w of result.warnings) {
    // The placeholders are filled here: their "run podnet image add" advice does not apply.
    if (result.placeholders.some((p) => p.line === w.line && w.message.includes("placeholder"))) continue;
    ctx.out.progress(`warning: ${w.file}:${w.line}:${w.column} ${w.path}: ${w.message}`);
  }
  if (result.appYaml) {
    const instances = (result.appYaml as { instances?: { target?: number } }).instances?.target;
    throw new CliError(
      `${source.shown}: asks for ${instances ?? "several"} instances (deploy.replicas); podnet up deploys one pod. For an autoscaled app: podnet import compose ${source.shown}, then podnet app create`,
      2,
    );
  }
  return result;
}

/** Each secret placeholder's value, read from the file its Compose declaration names; refused when it has none. */
function readSecretFiles(source: Source, placeholders: ImportPlaceholder[]): Map<ImportPlaceholder, Uint8Array> {
  const values = new Map<ImportPlaceholder, Uint8Array>();
  for (const p of placeholders) {
    if (p.kind !== "secret") continue;
    const where = `${source.shown}:${p.line}: secret ${p.source}`;
    if (p.file === undefined) {
      throw new CliError(
        `${where}: declared without file:, so podnet up cannot read it; give it a file, or import the Compose file and ${p.fix}`,
        2,
      );
    }
    let value: Uint8Array;
    try {
      value = readFileSync(join(dirname(source.path), p.file));
    } catch (error) {
      throw new CliError(`${where}: cannot read ${p.file} (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`);
    }
    if (value.length === 0) throw new CliError(`${where}: ${p.file} is empty`);
    if (value.length > MAX_SECRET_FILE_BYTES) {
      throw new CliError(
        `${where}: ${p.file} is ${value.length} bytes; a secret file holds at most ${MAX_SECRET_FILE_BYTES}`,
      );
    }
    values.set(p, value);
  }
  return values;
}

/** A pod.yaml that still has importer placeholders would fail at the pull, after the lease is paid: refused first. */
function refuseFilePlaceholders(manifest: PodManifest, shown: string) {
  for (const c of manifest.containers) {
    if (c.image.endsWith(`@${PLACEHOLDER_DIGEST}`)) {
      throw new CliError(
        `${shown}: container ${c.name}: the image is podnet import's placeholder; run podnet image add <image> --set ${shown} --container ${c.name}`,
        2,
      );
    }
  }
  for (const v of manifest.volumes) {
    if (v.type !== "secret") continue;
    for (const f of v.files) {
      if (f.blob === PLACEHOLDER_SECRET_BLOB) {
        throw new CliError(
          `${shown}: volume ${v.name}: ${f.path} is podnet import's placeholder; run podnet secret add ${f.path} --value-file <file> and put its blob id there`,
          2,
        );
      }
    }
  }
}

/** Sets `containers[0].image`-style paths in a plain object. */
function setAt(target: Record<string, unknown>, path: string, value: string) {
  const keys = placeholderKeys(path);
  let node = target as Record<string | number, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[keys[keys.length - 1] as string | number] = value;
}

/**
 * `.podnet/images.json`: which blob each local Docker image (by image id, so a rebuilt tag counts as new) was encrypted
 * to, and for which publisher key. A rerun of `podnet up` with unchanged images encrypts nothing: the blob is taken
 * from the cache when it is still there and was made with the current key (its content key is wrapped to that key).
 */
class ImageMemo {
  private readonly entries: Record<string, { image: string; publisher: string }>;

  constructor(
    private readonly file: string,
    private readonly client: PodnetClient,
  ) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      parsed = undefined;
    }
    // A missing, unreadable or hand-edited file only means encrypting again.
    this.entries =
      parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as typeof this.entries) : {};
  }

  private get publisher(): string {
    return this.client.walletClient?.account?.address ?? "";
  }

  /** The remembered `blob:` reference of image `id`, when its ciphertext is still in the cache for this key. */
  blobOf(id: string): string | undefined {
    const entry = this.entries[id];
    if (typeof entry?.image !== "string" || entry.publisher !== this.publisher) return undefined;
    const cid = /^blob:(\S+)$/.exec(entry.image)?.[1];
    return cid && isContentId(cid) && this.client.blobCache.has(cid) ? entry.image : undefined;
  }

  remember(id: string, image: string): void {
    this.entries[id] = { image, publisher: this.publisher };
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileAtomic(this.file, `${JSON.stringify(this.entries, null, 2)}\n`);
  }
}
