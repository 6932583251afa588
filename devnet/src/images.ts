/**
 * Test images built locally: no registry is reachable on the CI machines, so every image the tests, the demo and the
 * benchmarks run is built `FROM scratch` around the host's static busybox.
 */
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { type PodManifestInput, sealBlob } from "@podnet/sdk/protocol";
import type Dockerode from "dockerode";
import { pack } from "tar-stream";

/** The host's static busybox: the whole userland of the test images. */
export const HOST_BUSYBOX = "/bin/busybox";

/** What `buildTestImage` serves when no page or files are given. */
export const DEFAULT_TEST_PAGE = "hello from podnet";

/** Label holding the hash of everything that went into a test image, so an unchanged image is reused. */
const CONTENT_LABEL = "podnet.test-image";

/** Options of {@link buildTestImage}. */
export interface TestImageOptions {
  /** The page the image serves (`/www/index.html`); default {@link DEFAULT_TEST_PAGE}. */
  page?: string;
  /** Files to add, absolute path in the image → content (text or bytes); replaces `page`. */
  files?: Record<string, string | Uint8Array>;
  /** Paths among `files` made executable (CGI scripts for busybox httpd's `/www/cgi-bin/`). */
  executables?: string[];
}

/**
 * Builds (or reuses) a busybox image tagged `tag`: `/bin` holds the busybox applets (`sh`, `httpd`, `wget`, ...),
 * `/tmp` exists, the given files are added and the default command serves `/www` over HTTP on port 8080.
 * An image already tagged `tag` with the same content is reused: building takes seconds, tests should not.
 *
 * @returns the image id (`sha256:...`).
 */
export async function buildTestImage(docker: Dockerode, tag: string, opts: TestImageOptions = {}): Promise<string> {
  const files = opts.files ?? { "/www/index.html": opts.page ?? DEFAULT_TEST_PAGE };
  const busybox = await readFile(HOST_BUSYBOX);
  const contextFiles = new Map<string, Buffer>();
  for (const [path, content] of Object.entries(files)) {
    if (!/^\/[^\0]+$/.test(path) || path.split("/").some((part) => part === ".." || part === ".")) {
      throw new Error(`test image file ${JSON.stringify(path)} must be an absolute path without '.' or '..'`);
    }
    contextFiles.set(`files${path}`, Buffer.from(content));
  }

  const hash = createHash("sha256").update(busybox);
  for (const [path, content] of [...contextFiles].sort(([a], [b]) => a.localeCompare(b))) {
    hash.update(`\0${path}\0${content.length}\0`).update(content);
  }
  for (const path of [...(opts.executables ?? [])].sort()) hash.update(`\0x\0${path}`);
  const contentHash = hash.digest("hex");
  const existing = await docker
    .getImage(tag)
    .inspect()
    .catch(() => undefined);
  if (existing?.Config.Labels?.[CONTENT_LABEL] === contentHash) return existing.Id;

  const dockerfile = [
    "FROM scratch",
    "COPY busybox /bin/busybox",
    // One RUN: the applet links, and a sticky /tmp as every Unix userland has.
    'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && /bin/busybox mkdir -m 1777 /tmp"]',
    ...(contextFiles.size > 0 ? ["COPY files/ /"] : []),
    `LABEL ${CONTENT_LABEL}=${contentHash}`,
    'CMD ["httpd", "-f", "-v", "-p", "8080", "-h", "/www"]',
    "",
  ].join("\n");

  const context = pack();
  context.entry({ name: "Dockerfile", mode: 0o644 }, dockerfile);
  context.entry({ name: "busybox", mode: 0o755 }, busybox);
  const executable = new Set((opts.executables ?? []).map((path) => `files${path}`));
  for (const [path, content] of contextFiles) {
    context.entry({ name: path, mode: executable.has(path) ? 0o755 : 0o644 }, content);
  }
  context.finalize();

  const output = await docker.buildImage(context as unknown as NodeJS.ReadableStream, {
    t: tag,
    rm: true,
    forcerm: true,
  });
  for await (const message of jsonLines(output)) {
    if (message.error !== undefined || message.errorDetail !== undefined) {
      throw new Error(`building test image ${tag} failed: ${message.errorDetail?.message ?? message.error}`);
    }
  }
  const built = await docker.getImage(tag).inspect();
  if (built.Config.Labels?.[CONTENT_LABEL] !== contentHash)
    throw new Error(`building test image ${tag} produced no image`);
  // The image this build took the tag from would stay behind untagged: test files build the same tags with other
  // content, run after run. Docker refuses while a container uses it or another tag names it; it then stays.
  if (existing !== undefined && existing.Id !== built.Id && existing.Config.Labels?.[CONTENT_LABEL] !== undefined) {
    await docker
      .getImage(existing.Id)
      .remove()
      .catch(() => undefined);
  }
  return built.Id;
}

/** `docker save` of one image: the tarball `docker load` (and the worker's `loadImage`) takes. */
export async function saveImage(docker: Dockerode, tag: string): Promise<Buffer> {
  const stream = await docker.getImage(tag).get();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** An image sealed as a blob: its content id (over the ciphertext), content key and ciphertext. */
export type SealedBlob = { cid: string; key: Uint8Array; ciphertext: Uint8Array };

/**
 * A test image as a publisher ships it: built (or reused), saved, and sealed as an encrypted blob (content id, key,
 * ciphertext) for a worker to fetch, decrypt and `docker load`.
 */
export async function sealTestImage(docker: Dockerode, tag: string, opts: TestImageOptions = {}): Promise<SealedBlob> {
  await buildTestImage(docker, tag, opts);
  return sealBlob(new Uint8Array(await saveImage(docker, tag)));
}

/** A test image saved to `file` as a tarball: what a publisher hands to the SDK's prepareImage or the CLI. */
export async function testImageTarball(
  docker: Dockerode,
  tag: string,
  file: string,
  opts: TestImageOptions = {},
): Promise<string> {
  await buildTestImage(docker, tag, opts);
  await writeFile(file, await saveImage(docker, tag));
  return file;
}

interface ProgressMessage {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** The JSON messages of a Docker progress stream (one object per line). */
async function* jsonLines(stream: NodeJS.ReadableStream): AsyncGenerator<ProgressMessage> {
  let buffered = "";
  for await (const chunk of stream) {
    buffered += chunk.toString();
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line !== "") yield JSON.parse(line) as ProgressMessage;
      newline = buffered.indexOf("\n");
    }
  }
  if (buffered.trim() !== "") yield JSON.parse(buffered) as ProgressMessage;
}

/**
 * The one-container web app the autoscaler tests and the failover bench deploy: the test image's busybox httpd on
 * port 8080 (its page in /www), 250 mCPU / 64 MiB unless `resources` says otherwise, exposed over HTTP. `image` is a
 * sealed blob reference. `command`: another start of the same server (a shell around httpd), which must still serve
 * on 8080.
 */
export function webAppManifest(
  image: string,
  resources: { cpuMillis: number; memoryMiB: number; pids: number } = { cpuMillis: 250, memoryMiB: 64, pids: 64 },
  { command = ["httpd", "-f", "-p", "8080", "-h", "/www"] }: { command?: string[] } = {},
): PodManifestInput {
  return {
    version: 1,
    containers: [
      {
        name: "web",
        image,
        command,
        resources,
      },
    ],
    expose: { http: [{ container: "web", port: 8080 }] },
  };
}
