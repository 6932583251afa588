/**
 * `docker load` of a publisher's `docker save` tarball, made safe for a shared engine.
 *
 * A tarball names the tags it wants and `docker load` applies them, silently moving a tag that already points
 * elsewhere: a publisher could repoint another pod's image. So the tarball is rebuilt on its way to the daemon by
 * {@link rewriteImageArchive} (no tag in any spelling, clean names, no OCI index, bounded size), exactly one image is
 * required, and only then is it tagged with the name the worker chose. Should the daemon still report a tag it
 * applied ("Loaded image: name:tag"), that tag is put back as a snapshot taken before had it and the load fails. Only
 * the tags the daemon names are touched: other tags that changed meanwhile belong to whoever else shares the engine
 * (a build, another load). Nothing is buffered but manifest.json, and a bad tarball aborts the upload before the
 * daemon has loaded anything (it reads the whole archive before it imports).
 */
import { pipeline, Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type Dockerode from "dockerode";
import { pack as tarPack } from "tar-stream";
import { dockerMessage, jsonLines } from "./docker-util.js";
import { ImageArchiveError, rewriteImageArchive } from "./image-archive.js";

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
 * @param maxBytes most bytes the image may take unpacked (what the lease may use for it).
 * @returns the image id (`sha256:...`).
 * @throws {Error} for a tarball that breaks the archive rules (the message names the entry), holds no or several
 *   images, moved a tag on the engine, or that the daemon refuses (its `errorDetail` message).
 */
export async function loadImageTarball(
  docker: Dockerode,
  tar: NodeJS.ReadableStream | AsyncIterable<Uint8Array>,
  tag: string,
  maxBytes: number = Number.MAX_SAFE_INTEGER,
  signal?: AbortSignal,
): Promise<string> {
  const target = splitReference(tag);
  if (signal?.aborted) throw new Error(`docker load of ${tag} stopped: ${String(signal.reason)}`);
  const upload = tarPack();
  const abort = new AbortController();
  let tarError: Error | undefined;
  // The image job's deadline: a daemon that stops reading (or a source that stops producing) must not hold the job
  // and its image slot forever. The upload is cut like a bad archive's, so nothing gets loaded.
  const onAbort = () => {
    tarError ??= new Error(`docker load of ${tag} stopped: ${String(signal?.reason)}`);
    abort.abort(tarError);
    upload.destroy();
    // The rewriter may be waiting on the source itself: a stream is destroyed so that wait ends too.
    (tar as { destroy?: (error?: Error) => void }).destroy?.(tarError);
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  const before = await tagTargets(docker);
  const rewriting = rewriteImageArchive(decompressed(tar as AsyncIterable<Uint8Array>, maxBytes), upload, {
    maxBytes,
  }).catch((error: unknown) => {
    const reason = error instanceof ImageArchiveError ? error.message : `archive: ${(error as Error).message ?? error}`;
    tarError ??= new Error(`not a loadable docker save archive: ${reason}`);
    // Cut the upload short: the daemon only imports a complete archive, so nothing gets loaded.
    abort.abort(tarError);
    upload.destroy();
  });

  const ids = new Set<string>();
  /** Tags the daemon says it applied from the archive: the rewrite must make that impossible. */
  const applied: string[] = [];
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
      const named = /^Loaded image: (\S+)\s*$/.exec(message.stream ?? "");
      if (named?.[1] !== undefined) applied.push(named[1]);
    }
  } catch (error) {
    if (tarError !== undefined) throw tarError;
    throw error instanceof Error && error.message.startsWith("docker load") ? error : new Error(dockerMessage(error));
  } finally {
    signal?.removeEventListener("abort", onAbort);
    // Whatever happened to the request, do not leave the rewriter blocked on a stream nobody reads.
    upload.destroy();
    // After a deadline, a source that cannot be destroyed may never settle the rewriter: it is left behind.
    await (signal?.aborted
      ? Promise.race([rewriting, new Promise((resolve) => setTimeout(resolve, 1_000))])
      : rewriting);
  }
  if (tarError !== undefined) throw tarError;
  if (applied.length > 0) {
    await restoreTags(docker, before, applied);
    throw new Error(`docker load applied the archive's tags ${applied.join(", ")}; restored, image refused`);
  }
  const [id, ...others] = [...ids];
  if (id === undefined || others.length > 0) {
    throw new Error(`docker load reported ${ids.size} images, expected exactly one`);
  }
  await docker.getImage(id).tag(target);
  return id;
}

/** Every tag on the engine and the image it points at. */
async function tagTargets(docker: Dockerode): Promise<Map<string, string>> {
  const targets = new Map<string, string>();
  for (const image of await docker.listImages()) {
    for (const tag of image.RepoTags ?? []) if (tag !== "<none>:<none>") targets.set(tag, image.Id);
  }
  return targets;
}

/** Points each of `tags` back where `before` had it, or removes it when it did not exist then. */
async function restoreTags(docker: Dockerode, before: Map<string, string>, tags: readonly string[]): Promise<void> {
  for (const tag of tags) {
    const previous = before.get(tag);
    if (previous !== undefined) await docker.getImage(previous).tag(splitReference(tag));
    else
      await docker
        .getImage(tag)
        .remove({ noprune: true })
        .catch(() => undefined);
  }
}

/**
 * The tarball's bytes, gunzipped when they start with the gzip magic number (`docker save | gzip`), cut off past
 * `maxBytes` plus room for tar headers so a gzip bomb never inflates further than the archive rules would accept.
 */
async function* decompressed(source: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<Uint8Array> {
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
  let inflated = 0;
  const limit = maxBytes + 64 * 1024 * 1024;
  for await (const chunk of pipeline(Readable.from(rest), createGunzip(), () => {})) {
    inflated += (chunk as Buffer).length;
    if (inflated > limit) throw new ImageArchiveError(`archive: inflates past ${maxBytes} bytes`);
    yield chunk as Buffer;
  }
}
