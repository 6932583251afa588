/**
 * `docker load` of a publisher's `docker save` tarball, made safe for a shared engine.
 *
 * A tarball names the tags it wants (`RepoTags` in manifest.json, the legacy `repositories` file) and `docker load`
 * applies them, silently moving a tag that already points elsewhere. A publisher could thereby repoint another pod's
 * tag at their own image. So the tarball is rewritten on its way to the daemon: tags stripped, exactly one image
 * required, and only then tagged with the name the worker chose. Nothing is buffered but manifest.json: the rest
 * streams through, and a bad tarball aborts the upload before the daemon has loaded anything (it reads the whole
 * archive before it imports).
 */
import { pipeline, Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type Dockerode from "dockerode";
import { type Header, type Pack, extract as tarExtract, pack as tarPack } from "tar-stream";
import { dockerMessage, jsonLines } from "./docker-util.js";

/** manifest.json lists images and layer paths; anything near this size is not a one-image tarball. */
const MAX_MANIFEST_JSON_BYTES = 1024 * 1024;

/** A docker reference `name[:tag]` split the way the tag endpoint wants it. */
export function splitReference(reference: string): { repo: string; tag: string } {
  if (!/^[a-z0-9]+([._/:-][a-zA-Z0-9]+)*$/.test(reference) || reference.includes("@")) {
    throw new Error(`not a docker image reference: ${JSON.stringify(reference)}`);
  }
  const colon = reference.lastIndexOf(":");
  // A colon before the last slash belongs to a registry host:port, not to the tag.
  if (colon < 0 || reference.indexOf("/", colon) >= 0) return { repo: reference, tag: "latest" };
  return { repo: reference.slice(0, colon), tag: reference.slice(colon + 1) };
}

/**
 * Loads a `docker save` tarball (plain or gzip) holding exactly one image and tags it `tag`.
 *
 * @returns the image id (`sha256:...`).
 * @throws {Error} for a tarball that is not a docker save archive, holds no or several images, or that the daemon
 *   refuses (its `errorDetail` message).
 */
export async function loadImageTarball(
  docker: Dockerode,
  tar: NodeJS.ReadableStream | AsyncIterable<Uint8Array>,
  tag: string,
): Promise<string> {
  const target = splitReference(tag);
  const upload = tarPack();
  const abort = new AbortController();
  let tarError: Error | undefined;
  const rewriting = rewriteTarball(decompressed(tar as AsyncIterable<Uint8Array>), upload).catch((error: unknown) => {
    tarError = new Error(`not a loadable docker save tarball: ${error instanceof Error ? error.message : error}`);
    // Cut the upload short: the daemon only imports a complete archive, so nothing gets loaded.
    abort.abort(tarError);
    upload.destroy();
  });

  const ids = new Set<string>();
  try {
    const output = await docker.loadImage(upload as unknown as NodeJS.ReadableStream, {
      quiet: true,
      abortSignal: abort.signal,
    });
    for await (const message of jsonLines(output)) {
      if (message.error !== undefined || message.errorDetail !== undefined) {
        throw new Error(`docker load failed: ${message.errorDetail?.message ?? message.error}`);
      }
      const loaded = /^Loaded image ID: (sha256:[0-9a-f]{64})\s*$/.exec(message.stream ?? "");
      if (loaded?.[1] !== undefined) ids.add(loaded[1]);
    }
  } catch (error) {
    if (tarError !== undefined) throw tarError;
    throw error instanceof Error && error.message.startsWith("docker load") ? error : new Error(dockerMessage(error));
  } finally {
    // Whatever happened to the request, do not leave the rewriter blocked on a stream nobody reads.
    upload.destroy();
    await rewriting;
  }
  if (tarError !== undefined) throw tarError;
  const [id, ...others] = [...ids];
  if (id === undefined || others.length > 0) {
    throw new Error(`docker load reported ${ids.size} images, expected exactly one`);
  }
  await docker.getImage(id).tag(target);
  return id;
}

/** The tarball's bytes, gunzipped when they start with the gzip magic number (`docker save | gzip`). */
async function* decompressed(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headBytes = 0;
  while (headBytes < 2) {
    const next = await iterator.next();
    if (next.done) break;
    head.push(next.value);
    headBytes += next.value.length;
  }
  const rest = (async function* () {
    yield* head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  })();
  const start = Buffer.concat(head);
  if (start[0] !== 0x1f || start[1] !== 0x8b) {
    yield* rest;
    return;
  }
  // pipeline destroys the gunzip stream with the source's error, so iterating it rejects instead of hanging.
  yield* pipeline(Readable.from(rest), createGunzip(), () => {});
}

/** Copies a docker save archive into `out` without its tags; rejects unless it holds exactly one image. */
async function rewriteTarball(source: AsyncIterable<Uint8Array>, out: Pack): Promise<void> {
  const extract = tarExtract();
  const feeding = new Promise<void>((resolve, reject) => {
    pipeline(Readable.from(source), extract, (error) => (error ? reject(error) : resolve()));
  });
  // Surfaced through the entry loop below; avoid an unhandled rejection when the loop throws first.
  feeding.catch(() => {});
  let sawManifest = false;
  for await (const entry of extract) {
    const name = entry.header.name.replace(/^\.\//, "");
    if (name === "repositories") {
      // Legacy tag file: dropped (docker reads manifest.json when both exist).
      entry.resume();
      continue;
    }
    if (name === "manifest.json") {
      const rewritten = withoutTags(await readAll(entry as AsyncIterable<Uint8Array>, MAX_MANIFEST_JSON_BYTES));
      await writeEntry(out, { ...entry.header, size: rewritten.length }, rewritten);
      sawManifest = true;
      continue;
    }
    await writeEntry(out, { ...entry.header }, entry as unknown as NodeJS.ReadableStream);
  }
  await feeding;
  if (!sawManifest) throw new Error("no manifest.json (only docker save archives are accepted)");
  out.finalize();
}

/** manifest.json with every image's `RepoTags` emptied; throws unless it lists exactly one image. */
function withoutTags(bytes: Buffer): Buffer {
  let images: unknown;
  try {
    images = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new Error("manifest.json is not JSON");
  }
  if (!Array.isArray(images)) throw new Error("manifest.json is not a list of images");
  if (images.length !== 1) throw new Error(`the archive holds ${images.length} images, expected exactly one`);
  const [image] = images as unknown[];
  if (typeof image !== "object" || image === null) throw new Error("manifest.json entry is not an object");
  return Buffer.from(JSON.stringify([{ ...image, RepoTags: [] }]));
}

async function readAll(entry: AsyncIterable<Uint8Array>, limit: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of entry) {
    size += chunk.length;
    if (size > limit) throw new Error(`manifest.json is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function writeEntry(out: Pack, header: Header, content: Buffer | NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    if (Buffer.isBuffer(content)) {
      out.entry(header, content, (error) => (error ? reject(error) : resolve()));
      return;
    }
    const sink = out.entry(header, (error) => (error ? reject(error) : resolve()));
    // streamx throws an 'error' nobody listens to: a truncated entry fails both ends, so both need a listener.
    sink.on("error", reject);
    content.on("error", reject);
    content.pipe(sink);
  });
}
