/**
 * The rules a publisher's `docker save` archive must meet before it reaches a shared Docker Engine, applied while it
 * streams through. `docker load` honours more than it shows: tags in `manifest.json` under any capitalisation (Go
 * matches JSON keys case-insensitively and the last one wins), entry names it cleans while unpacking (`x/../manifest.json`
 * lands on top of `manifest.json`), a legacy `repositories` file, an OCI `index.json` whose
 * `io.containerd.image.name` annotations name images, and compressed or sparse layers that unpack to far more than
 * was sent. So the archive is rebuilt from an allow-list instead of being patched:
 *
 * - every entry name must already be clean (what Docker's unpacking would make of it) and appear once;
 * - entries are plain files, directories, or symlinks that stay inside the archive;
 * - `manifest.json` is rewritten to exactly one image with only `Config` and `Layers` (no tags at all);
 *   `repositories` is dropped; `index.json` and `oci-layout` are refused;
 * - no file is compressed, no layer holds a sparse file, and the files add up to no more than the caller's budget,
 *   so what Docker unpacks is bounded by what was counted here.
 */
import { posix } from "node:path";
import { pipeline, Readable } from "node:stream";
import { type Pack, extract as tarExtract } from "tar-stream";

/** What `pack.entry` takes (the type package does not export it by name). */
type EntryHeader = Parameters<Pack["entry"]>[0];

/** An archive broke one of the rules; the message names the entry or field and the reason. */
export class ImageArchiveError extends Error {
  override name = "ImageArchiveError";
}

/** Options of {@link rewriteImageArchive}. */
export interface RewriteOptions {
  /** Most bytes the archive's files may add up to (what the image will take once unpacked). */
  maxBytes: number;
}

/** manifest.json lists images and layer paths; anything near this size is not a one-image archive. */
const MAX_MANIFEST_JSON_BYTES = 1024 * 1024;
/** Top-level files that name images by themselves: refused rather than dropped, since nothing legitimate needs them. */
const REFUSED = new Set(["index.json", "oci-layout"]);
/** Magic numbers of the compressions `docker load` undoes on a layer (gzip, bzip2, xz, zstd). */
const COMPRESSED = [
  [0x1f, 0x8b],
  [0x42, 0x5a, 0x68],
  [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
  [0x28, 0xb5, 0x2f, 0xfd],
];
const ALLOWED_TYPES = new Set(["file", "directory", "symlink"]);
/** Entry types a layer may hold; sparse files (GNU type S, or PAX GNU.sparse) are refused: they unpack to zeros. */
const LAYER_TYPES = new Set([
  "file",
  "contiguous-file",
  "directory",
  "symlink",
  "link",
  "character-device",
  "block-device",
  "fifo",
]);

/**
 * Copies a docker save archive from `source` into `out` under the rules above, then finalizes `out`.
 *
 * @throws {ImageArchiveError} naming the first entry or field that breaks a rule.
 */
export async function rewriteImageArchive(
  source: AsyncIterable<Uint8Array>,
  out: Pack,
  { maxBytes }: RewriteOptions,
): Promise<void> {
  // A broken entry destroys the pack with its error too; the returned promise is where that error is reported.
  out.on("error", () => {});
  const extract = tarExtract();
  const feeding = new Promise<void>((resolve, reject) => {
    pipeline(Readable.from(source), extract, (error) => (error ? reject(error) : resolve()));
  });
  // Surfaced through the entry loop below; avoid an unhandled rejection when the loop throws first.
  feeding.catch(() => {});
  const seen = new Set<string>();
  let sawManifest = false;
  let total = 0;
  for await (const entry of extract) {
    const header = entry.header;
    const name = cleanEntryName(header.name);
    if (seen.has(name)) throw new ImageArchiveError(`entry ${JSON.stringify(header.name)}: appears twice`);
    seen.add(name);
    if (!ALLOWED_TYPES.has(header.type ?? "")) {
      throw new ImageArchiveError(`entry ${JSON.stringify(header.name)}: type ${header.type} is not allowed`);
    }
    if (REFUSED.has(name)) {
      throw new ImageArchiveError(`entry ${name}: OCI index files are refused (they can name images on load)`);
    }
    if (header.type === "symlink") checkLinkTarget(name, header.linkname ?? "");
    if (name === "repositories") {
      // Legacy tag file: dropped (the rebuilt manifest.json is what Docker reads).
      entry.resume();
      continue;
    }
    if (name === "manifest.json") {
      if (header.type !== "file") throw new ImageArchiveError("entry manifest.json: must be a plain file");
      const rewritten = rebuildManifest(await readAll(entry as AsyncIterable<Uint8Array>, MAX_MANIFEST_JSON_BYTES));
      await writeEntry(out, { name, type: "file", mode: 0o644, size: rewritten.length }, [rewritten]);
      sawManifest = true;
      continue;
    }
    total += header.size ?? 0;
    if (total > maxBytes) {
      throw new ImageArchiveError(`archive: larger than ${maxBytes} bytes, what this lease may use for its image`);
    }
    const cleanHeader: EntryHeader = {
      name,
      type: header.type,
      mode: header.mode ?? 0o644,
      size: header.type === "file" ? header.size : 0,
      mtime: header.mtime,
      ...(header.type === "symlink" ? { linkname: header.linkname } : {}),
    };
    await writeEntry(
      out,
      cleanHeader,
      header.type === "file" ? checkedFile(name, entry as AsyncIterable<Uint8Array>) : [],
    );
  }
  await feeding;
  if (!sawManifest) throw new ImageArchiveError("archive: no manifest.json (only docker save archives are accepted)");
  out.finalize();
}

/**
 * The entry's name as Docker's unpacking would write it, refusing every name that would change on the way (`./x`,
 * `x//y`, `x/../y`), points outside the archive, or is empty.
 */
export function cleanEntryName(raw: string): string {
  const name = raw.endsWith("/") ? raw.slice(0, -1) : raw;
  const cleaned = posix.normalize(name);
  if (name === "" || name.startsWith("/") || cleaned !== name || cleaned === ".." || cleaned.startsWith("../")) {
    throw new ImageArchiveError(`entry ${JSON.stringify(raw)}: not a clean relative path (Docker would rename it)`);
  }
  return cleaned;
}

function checkLinkTarget(name: string, target: string): void {
  const resolved = posix.normalize(posix.join(posix.dirname(name), target));
  if (target.startsWith("/") || resolved === ".." || resolved.startsWith("../")) {
    throw new ImageArchiveError(`entry ${name}: symlink to ${JSON.stringify(target)} leaves the archive`);
  }
}

/**
 * manifest.json rebuilt from an allow-list: exactly one image, its `Config` and `Layers` (each key once under any
 * capitalisation, clean relative paths) and nothing else, so no tag of any spelling survives.
 */
export function rebuildManifest(bytes: Buffer): Buffer {
  let images: unknown;
  try {
    images = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new ImageArchiveError("manifest.json: not JSON");
  }
  if (!Array.isArray(images)) throw new ImageArchiveError("manifest.json: not a list of images");
  if (images.length !== 1) throw new ImageArchiveError(`manifest.json: ${images.length} images, expected exactly one`);
  const [image] = images as unknown[];
  if (typeof image !== "object" || image === null || Array.isArray(image)) {
    throw new ImageArchiveError("manifest.json: the image entry is not an object");
  }
  const field = (wanted: string): unknown => {
    const keys = Object.keys(image).filter((key) => key.toLowerCase() === wanted.toLowerCase());
    if (keys.length !== 1) throw new ImageArchiveError(`manifest.json: ${wanted} must appear exactly once`);
    return (image as Record<string, unknown>)[keys[0] as string];
  };
  const config = field("Config");
  const layers = field("Layers");
  if (typeof config !== "string") throw new ImageArchiveError("manifest.json: Config must be a path");
  if (!Array.isArray(layers) || !layers.every((layer) => typeof layer === "string")) {
    throw new ImageArchiveError("manifest.json: Layers must be a list of paths");
  }
  for (const path of [config, ...layers]) cleanEntryName(path);
  return Buffer.from(JSON.stringify([{ Config: config, Layers: layers }]));
}

/**
 * A file's bytes, passed through while checked: not compressed, and when it is a tar (a layer), no sparse file and no
 * exotic entry type inside it.
 */
async function* checkedFile(name: string, entry: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let head = Buffer.alloc(0);
  let inner: ReturnType<typeof layerChecker> | undefined;
  let decided = false;
  for await (const chunk of entry) {
    if (!decided) {
      head = Buffer.concat([head, chunk]);
      if (head.length < 512) continue;
      decided = true;
      if (COMPRESSED.some((magic) => magic.every((byte, i) => head[i] === byte))) {
        throw new ImageArchiveError(`entry ${name}: compressed; layers must be plain tar (docker save writes them so)`);
      }
      if (head.subarray(257, 262).toString("latin1") === "ustar") inner = layerChecker(name);
      if (inner) await inner.write(head);
      yield head;
      continue;
    }
    if (inner) await inner.write(chunk);
    yield chunk;
  }
  if (!decided && head.length > 0) {
    if (COMPRESSED.some((magic) => magic.every((byte, i) => head[i] === byte))) {
      throw new ImageArchiveError(`entry ${name}: compressed; layers must be plain tar (docker save writes them so)`);
    }
    yield head;
  }
  if (inner) await inner.end();
}

/** Parses a layer tar as it streams past and rejects sparse files and entry types a layer has no use for. */
function layerChecker(name: string) {
  const extract = tarExtract();
  let failure: Error | undefined;
  const done = new Promise<void>((resolve) => {
    extract.on("entry", (header, stream, next) => {
      const sparse = Object.keys(header.pax ?? {}).some((key) => key.startsWith("GNU.sparse"));
      if (sparse || !LAYER_TYPES.has(header.type ?? "")) {
        failure ??= new ImageArchiveError(
          `entry ${name}: layer file ${JSON.stringify(header.name)} is ${sparse ? "sparse" : `of type ${header.type}`}`,
        );
      }
      stream.on("end", next);
      stream.resume();
    });
    extract.on("finish", resolve);
    extract.on("error", (error: Error) => {
      failure ??= new ImageArchiveError(`entry ${name}: not a readable layer tar (${error.message})`);
      resolve();
    });
  });
  const check = () => {
    if (failure) throw failure;
  };
  return {
    async write(chunk: Uint8Array) {
      check();
      if (!extract.write(chunk)) await new Promise<void>((resolve) => extract.once("drain", resolve));
      check();
    },
    async end() {
      extract.end(Buffer.alloc(0));
      await done;
      check();
    },
  };
}

async function readAll(entry: AsyncIterable<Uint8Array>, limit: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of entry) {
    size += chunk.length;
    if (size > limit) throw new ImageArchiveError(`manifest.json: larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Writes one entry, its content pulled with backpressure; a failing content source fails the entry and the call. */
async function writeEntry(
  out: Pack,
  header: EntryHeader,
  content: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<void> {
  let sink: ReturnType<Pack["entry"]> | undefined;
  const done = new Promise<void>((resolve, reject) => {
    sink = out.entry(header, (error) => (error ? reject(error) : resolve()));
    // streamx throws an 'error' nobody listens to: a truncated entry fails both ends, so both need a listener.
    sink.on("error", reject);
  });
  done.catch(() => {});
  const entry = sink as ReturnType<Pack["entry"]>;
  try {
    for await (const chunk of content) {
      if (!entry.write(chunk))
        await Promise.race([new Promise<void>((resolve) => entry.once("drain", () => resolve())), done]);
    }
    entry.end(Buffer.alloc(0));
  } catch (error) {
    entry.destroy(error as Error);
    throw error;
  }
  await done;
}
