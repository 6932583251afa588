import { type Hex, keccak256, stringToBytes } from "viem";
import { z } from "zod";
import { isLocalHostName } from "./addresses.js";
import { canonicalJson } from "./canonical-json.js";
import { isContentId } from "./content-id.js";
import { PodnetError } from "./errors.js";
import type { Resources } from "./types.js";

/**
 * The pod manifest (pod.yaml / pod.json), version 1: what a publisher asks a provider to run.
 *
 * One schema serves the publisher (validation before anything is signed or paid), the worker (validation of every
 * upload, the sandbox rules) and editors (the JSON Schema from {@link podManifestJsonSchema}). The hash of its
 * canonical form is the lease's `specHash`, so every default is written out before hashing: two files that mean the
 * same pod hash the same.
 */

/** Largest canonical manifest accepted, in bytes. Manifests carry references, not payloads. */
export const MAX_MANIFEST_BYTES = 64 * 1024;
/** Largest decrypted secret file, in bytes. */
export const MAX_SECRET_FILE_BYTES = 1024 * 1024;
/** Processes per container when the manifest does not say; also what any container may have whatever its memory. */
export const DEFAULT_PIDS_LIMIT = 256;
/**
 * Processes a container may have per MiB of memory beyond {@link DEFAULT_PIDS_LIMIT}: every process costs the host
 * kernel memory, so processes are priced through the memory the lease pays for.
 */
export const PIDS_PER_MEMORY_MIB = 16;
/** Most open files (`ulimits.nofile`) a container may ask for. */
export const MAX_NOFILE = 65536;

const UINT32_MAX = 2 ** 32 - 1;

// DNS-label names: they become parts of Docker container, network and volume names and of pod host names.
const name = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, "must be 1-32 lowercase letters, digits or '-', not at either end");

// Registry images must be pinned by digest: a tag can change under a running lease, a digest cannot.
const REGISTRY_IMAGE = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*@sha256:[0-9a-f]{64}$/;
const image = z
  .string()
  .max(512)
  .refine(
    (ref) => REGISTRY_IMAGE.test(ref) || (ref.startsWith("blob:") && isContentId(ref.slice(5))),
    "must be a registry image pinned by digest (name@sha256:<64 hex>) or an encrypted image blob (blob:<content id>)",
  )
  .refine(
    (ref) => ref.startsWith("blob:") || !isLocalHostName(registryHost(ref) ?? ""),
    "must not name a registry on loopback or a private address (the provider would fetch from its own network)",
  );

/** The registry host of an image reference (`host[:port]/...`, without the port), or undefined for Docker Hub. */
export function registryHost(ref: string): string | undefined {
  const slash = ref.indexOf("/");
  if (slash < 0) return undefined;
  const first = ref.slice(0, slash);
  // Docker's rule: the first component is a registry when it has a dot or a port, or is localhost.
  if (!first.includes(".") && !first.includes(":") && first !== "localhost") return undefined;
  return first.replace(/:\d+$/, "");
}

const blobId = z.string().refine(isContentId, "must be a content id (CIDv1, raw, sha2-256)");

const absolutePath = z
  .string()
  .max(256)
  .regex(/^\/[^\0]*$/, "must be an absolute path")
  .refine((path) => !path.split("/").some((part) => part === ".." || part === "."), "must not contain '.' or '..'")
  .refine((path) => path !== "/" && !/\/\/|\/$/.test(path), "must be normalised (no '//', no trailing '/')")
  .refine(
    (path) => !/^\/(proc|sys|dev)(\/|$)/.test(path),
    "must not shadow /proc, /sys or /dev (they belong to the runtime)",
  );

const relativeFilePath = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, "must be a relative file path of letters, digits, '.', '_', '-'")
  .refine((path) => !path.split("/").some((part) => part === ".." || part === "."), "must not contain '.' or '..'");

const port = z.int().min(1).max(65535);

/** The Docker Engine refuses a memory limit under 6 MB ("Minimum memory limit allowed is 6MB"). */
export const MIN_MEMORY_MIB = 6;

const resources = z.strictObject({
  /** CPU in thousandths of a core; becomes the container's NanoCpus. */
  cpuMillis: z.int().min(1).max(UINT32_MAX),
  /** Memory limit in MiB (no swap on top). At least Docker's floor: the engine refuses a smaller limit, so a lease
   *  for less could never start. */
  memoryMiB: z
    .int()
    .min(MIN_MEMORY_MIB, `must be at least ${MIN_MEMORY_MIB} (the smallest memory limit the Docker Engine runs)`)
    .max(UINT32_MAX),
  /** Writable-layer storage in MiB, paid for on chain. */
  storageMiB: z.int().min(0).max(UINT32_MAX).default(0),
  /** Process limit. Not priced, but always set so a fork bomb stays inside its pod. */
  pids: z.int().min(1).max(65536).default(DEFAULT_PIDS_LIMIT),
});

const mount = z.strictObject({
  volume: name,
  path: absolutePath,
  readOnly: z.boolean().default(false),
});

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "must be a valid environment variable name");

const container = z.strictObject({
  name,
  image,
  command: z.array(z.string().max(4096)).max(64).optional(),
  args: z.array(z.string().max(4096)).max(64).optional(),
  /** Plain configuration. Secrets belong in `secret` volumes: env values are stored and shown to the provider. */
  env: z.record(envName, z.string().max(32 * 1024)).default({}),
  resources,
  mounts: z.array(mount).max(16).default([]),
  /** Process limits beyond the defaults; `nofile` caps open files (default 4096). */
  ulimits: z.strictObject({ nofile: z.int().min(64).max(MAX_NOFILE) }).optional(),
  /** Mount the image's file system read-only (writes only to volumes). */
  readOnlyRootfs: z.boolean().optional(),
});

const sizedVolume = { name, sizeMiB: z.int().min(1).max(UINT32_MAX) };
const volume = z.discriminatedUnion("type", [
  /** Scratch space, emptied when the pod is replaced. */
  z.strictObject({ type: z.literal("empty"), ...sizedVolume }),
  /** Kept across updates of the pod; removed when the lease ends. */
  z.strictObject({ type: z.literal("persistent"), ...sizedVolume }),
  /** Files decrypted by the provider into memory (tmpfs) and mounted read-only. */
  z.strictObject({
    type: z.literal("secret"),
    name,
    files: z
      .array(z.strictObject({ path: relativeFilePath, blob: blobId }))
      .min(1)
      .max(32),
  }),
]);

const hostname = z
  .string()
  .max(253)
  .regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be a lowercase DNS name");

const expose = z.strictObject({
  /** HTTP ports served through the provider's ingress; `host` asks for a custom host name besides the generated one. */
  http: z
    .array(z.strictObject({ container: name, port, host: hostname.optional() }))
    .max(16)
    .default([]),
  /** Raw TCP ports, each mapped to a host port the provider allocates. */
  tcp: z
    .array(z.strictObject({ container: name, port }))
    .max(16)
    .default([]),
});

/** Longest idle time scale-to-zero accepts: a day (a pod idle longer might as well be a closed lease). */
export const MAX_IDLE_SECONDS = 86_400;

/**
 * Scale-to-zero: the provider stops the pod's containers after `idleSeconds` without a request through its ingress
 * and starts them again on the next one. Left out: the pod always runs (and the manifest hashes as it did before the
 * option existed: absent members are not part of the canonical JSON).
 */
const scaleToZero = z.strictObject({
  idleSeconds: z.int().min(1).max(MAX_IDLE_SECONDS),
});

const manifestShape = z
  .strictObject({
    version: z.literal(1),
    replicas: z.int().min(1).max(16).default(1),
    containers: z.array(container).min(1).max(16),
    volumes: z.array(volume).max(16).default([]),
    // A function, so each parse gets its own arrays: zod copies an object default only shallowly.
    expose: expose.default(() => ({ http: [], tcp: [] })),
    scaleToZero: scaleToZero.optional(),
  })
  .superRefine((manifest, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
    const duplicates = <T>(items: T[], key: (item: T) => string, path: (i: number) => (string | number)[]) => {
      const seen = new Set<string>();
      items.forEach((item, i) => {
        const k = key(item);
        if (seen.has(k)) issue(path(i), `duplicate ${k}`);
        seen.add(k);
      });
    };
    duplicates(
      manifest.containers,
      (c) => c.name,
      (i) => ["containers", i, "name"],
    );
    duplicates(
      manifest.volumes,
      (v) => v.name,
      (i) => ["volumes", i, "name"],
    );
    const volumes = new Map(manifest.volumes.map((v) => [v.name, v]));
    manifest.containers.forEach((c, ci) => {
      const allowed = Math.max(DEFAULT_PIDS_LIMIT, PIDS_PER_MEMORY_MIB * c.resources.memoryMiB);
      if (c.resources.pids > allowed) {
        issue(
          ["containers", ci, "resources", "pids"],
          `${c.resources.pids} processes need ${Math.ceil(c.resources.pids / PIDS_PER_MEMORY_MIB)} MiB of memory (${PIDS_PER_MEMORY_MIB} per MiB beyond ${DEFAULT_PIDS_LIMIT}); this container has ${c.resources.memoryMiB}`,
        );
      }
      duplicates(
        c.mounts,
        (m) => m.path,
        (mi) => ["containers", ci, "mounts", mi, "path"],
      );
      c.mounts.forEach((m, mi) => {
        if (!volumes.has(m.volume)) issue(["containers", ci, "mounts", mi, "volume"], `no volume named ${m.volume}`);
      });
    });
    const containers = new Set(manifest.containers.map((c) => c.name));
    for (const kind of ["http", "tcp"] as const) {
      manifest.expose[kind].forEach((e, i) => {
        if (!containers.has(e.container)) issue(["expose", kind, i, "container"], `no container named ${e.container}`);
      });
      duplicates(
        manifest.expose[kind],
        (e) => `${e.container}:${e.port}`,
        (i) => ["expose", kind, i, "port"],
      );
    }
    // A sleeping pod is woken by an HTTP request its ingress holds; a raw TCP connection goes straight to a host port
    // Docker publishes, which nobody answers while the container is stopped, so such a pod could never wake.
    if (manifest.scaleToZero) {
      if (manifest.expose.tcp.length > 0) {
        issue(["scaleToZero"], "cannot be used with expose.tcp (a raw TCP connection cannot wake a sleeping pod)");
      }
      if (manifest.expose.http.length === 0) {
        issue(["scaleToZero"], "needs an expose.http port (only an HTTP request through the ingress wakes a pod)");
      }
    }
    // Not `duplicates` over a filtered list: the issue must carry the index in `expose.http` itself.
    const hosts = new Set<string>();
    manifest.expose.http.forEach((e, i) => {
      if (e.host === undefined) return;
      if (hosts.has(e.host)) issue(["expose", "http", i, "host"], `duplicate host ${e.host}`);
      hosts.add(e.host);
    });
  });

/** A validated manifest with every default written out. */
export type PodManifest = z.output<typeof manifestShape>;
/** What a publisher may write: defaults may be left out. */
export type PodManifestInput = z.input<typeof manifestShape>;
export type PodContainer = PodManifest["containers"][number];
export type PodVolume = PodManifest["volumes"][number];

/** One bad field: `path` in JavaScript notation (`containers[0].resources.cpuMillis`). */
export interface ManifestIssue {
  path: string;
  message: string;
}

export type ManifestErrorType = ManifestError & { name: "ManifestError" };

/** A manifest failed validation; `issues` names every bad field. */
export class ManifestError extends PodnetError {
  override name = "ManifestError";
  readonly issues: ManifestIssue[];
  /** @param shortMessage the issues in words; default `path: message` per issue, joined by "; ". */
  constructor(issues: ManifestIssue[], shortMessage = issues.map((i) => `${i.path}: ${i.message}`).join("; ")) {
    super("MANIFEST", shortMessage, { docsPath: "docs/pod-spec.md#errors" });
    this.issues = issues;
  }
}

/** Formats a validation path the way a publisher reads it in their file. */
export function formatPath(path: readonly PropertyKey[], root = "manifest"): string {
  let text = "";
  for (const part of path) {
    if (typeof part === "number") text += `[${part}]`;
    else text += text === "" ? String(part) : `.${String(part)}`;
  }
  return text === "" ? root : text;
}

/**
 * Validates a manifest (parsed JSON or YAML) and writes out its defaults.
 *
 * @throws {ManifestError} naming each bad field, e.g. `containers[0].resources.cpuMillis: Too small: expected number to be >=1`.
 * @example
 * const manifest = parseManifest({ version: 1, containers: [{ name: "web", image: "blob:bafkrei...",
 *   resources: { cpuMillis: 250, memoryMiB: 64 } }] });
 */
export function parseManifest(input: unknown): PodManifest {
  const result = manifestShape.safeParse(input);
  if (!result.success) {
    throw new ManifestError(result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })));
  }
  const size = stringToBytes(canonicalJson(result.data)).length;
  if (size > MAX_MANIFEST_BYTES) {
    throw new ManifestError([{ path: "manifest", message: `is ${size} bytes, the limit is ${MAX_MANIFEST_BYTES}` }]);
  }
  return result.data;
}

/** The canonical bytes' text of a manifest: what {@link manifestHash} hashes. */
export function canonicalManifest(manifest: PodManifest): string {
  return canonicalJson(manifest);
}

/**
 * The lease `specHash` of a manifest: keccak256 of its canonical JSON (defaults written out).
 * Accepts unvalidated input and validates it first, so a publisher cannot hash something a worker would refuse.
 */
export function manifestHash(input: unknown): Hex {
  return keccak256(stringToBytes(canonicalManifest(parseManifest(input))));
}

/**
 * What a pod consumes, as priced on chain: container CPU and memory summed, storage = writable layers plus empty
 * and persistent volumes; everything times the replica count.
 */
export function manifestResources(manifest: PodManifest): Resources {
  let cpuMillis = 0;
  let memoryMiB = 0;
  let storageMiB = 0;
  for (const c of manifest.containers) {
    cpuMillis += c.resources.cpuMillis;
    memoryMiB += c.resources.memoryMiB;
    storageMiB += c.resources.storageMiB;
  }
  for (const v of manifest.volumes) if (v.type !== "secret") storageMiB += v.sizeMiB;
  const total = {
    cpuMillis: cpuMillis * manifest.replicas,
    memoryMiB: memoryMiB * manifest.replicas,
    storageMiB: storageMiB * manifest.replicas,
  };
  for (const [field, value] of Object.entries(total)) {
    if (value > UINT32_MAX) throw new ManifestError([{ path: "containers", message: `total ${field} exceeds uint32` }]);
  }
  return total;
}

/** Content ids of every encrypted blob the manifest needs: image blobs and secret files. */
export function manifestBlobs(manifest: PodManifest): string[] {
  const ids = new Set<string>();
  for (const c of manifest.containers) if (c.image.startsWith("blob:")) ids.add(c.image.slice(5));
  for (const v of manifest.volumes) if (v.type === "secret") for (const f of v.files) ids.add(f.blob);
  return [...ids];
}

/** JSON Schema (draft 2020-12) of the manifest a publisher writes, for editors and other languages. */
export function podManifestJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(manifestShape, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}
