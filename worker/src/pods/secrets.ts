import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  decodeWrappedKey,
  decryptBytes,
  MAX_SECRET_FILE_BYTES,
  type PodManifest,
  unwrapKey,
} from "@podnet/sdk/protocol";
import type { WorkerContext } from "../context.js";
import type { StoredManifest } from "../store/manifest-store.js";

const TMPFS_MAGIC = 0x01021994;

/**
 * Decrypted secret files live only on a tmpfs (memory), under `<secretsDir>/<provider>/l<lease>/<spec>/<volume>/`,
 * and are bind-mounted read-only into the pod. They never touch the worker's data dir, the image or the environment.
 */
export function assertSecretsDir(dir: string) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // A directory someone else made first (/dev/shm is world-writable) could be read, or have files planted, by them.
  const info = lstatSync(dir);
  const uid = process.getuid?.() ?? info.uid;
  if (!info.isDirectory() || info.uid !== uid || (info.mode & 0o077) !== 0) {
    throw new Error(
      `secretsDir: ${dir} must be a directory owned by this user (uid ${uid}) and closed to others (mode 0700); it is ${
        info.isSymbolicLink() ? "a symlink" : `owned by uid ${info.uid} with mode 0${(info.mode & 0o777).toString(8)}`
      }: remove it or fix it`,
    );
  }
  const type = statfsSync(dir).type;
  if (type !== TMPFS_MAGIC) {
    throw new Error(
      `secretsDir: ${dir} is not on a tmpfs (file system type 0x${type.toString(16)}); secrets must never reach a disk`,
    );
  }
}

export function leaseSecretsDir(ctx: WorkerContext, leaseId: string) {
  const providerDir = join(ctx.config.secretsDir, ctx.chain.account.address.slice(2, 10).toLowerCase());
  mkdirSync(providerDir, { recursive: true, mode: 0o700 });
  return join(providerDir, `l${leaseId}`);
}

/**
 * The secrets' budget: their files live in the host's memory (tmpfs), so they count against the memory the pod pays
 * for, file by file (the same blob in two files is two copies).
 */
export function secretsBudget(manifest: PodManifest): number {
  return manifest.containers.reduce((sum, c) => sum + c.resources.memoryMiB, 0) * 1024 * 1024;
}

/** Bytes the manifest's secret files take (each file's stored ciphertext, a bound on its plaintext); unknown sizes skipped. */
export function secretsSize(manifest: PodManifest, blobSize: (cid: string) => number | undefined): number {
  let total = 0;
  for (const volume of manifest.volumes) {
    if (volume.type !== "secret") continue;
    for (const file of volume.files) total += blobSize(file.blob) ?? 0;
  }
  return total;
}

/** Decrypts every secret volume of a manifest into memory-backed files; returns volume name → host directory. */
export async function writeSecrets(ctx: WorkerContext, stored: StoredManifest): Promise<Record<string, string>> {
  const dirs: Record<string, string> = {};
  for (const volume of stored.manifest.volumes) {
    if (volume.type !== "secret") continue;
    for (const file of volume.files) await ctx.blobs.fetch(file.blob, stored.sources[file.blob] ?? []);
  }
  const size = secretsSize(stored.manifest, (cid) => ctx.blobs.size(cid));
  if (size > secretsBudget(stored.manifest)) {
    throw new Error(
      `volumes: secret files take ${size} bytes of the host's memory, more than the pod's ${secretsBudget(stored.manifest)}`,
    );
  }
  for (const volume of stored.manifest.volumes) {
    if (volume.type !== "secret") continue;
    const dir = join(leaseSecretsDir(ctx, stored.leaseId), stored.specHash.slice(2, 10), volume.name);
    for (const file of volume.files) {
      await ctx.blobs.fetch(file.blob, stored.sources[file.blob] ?? []);
      const wrapped = stored.keys[file.blob];
      if (!wrapped) throw new Error(`volumes.${volume.name}: no content key was sent for secret blob ${file.blob}`);
      if (ctx.blobs.size(file.blob) > MAX_SECRET_FILE_BYTES + 64 * 1024) {
        throw new Error(`volumes.${volume.name}: secret ${file.path} is larger than ${MAX_SECRET_FILE_BYTES} bytes`);
      }
      const key = unwrapKey(decodeWrappedKey(wrapped), ctx.encryption.privateKey);
      const plaintext = decryptBytes(readFileSync(ctx.blobs.path(file.blob)), key);
      const target = join(dir, file.path);
      mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
      // World-readable inside the pod (its processes may run as any user); the tree above is 0700 on the host.
      const tmp = `${target}.tmp`;
      writeFileSync(tmp, plaintext, { mode: 0o444 });
      renameSync(tmp, target);
      plaintext.fill(0);
    }
    dirs[volume.name] = dir;
  }
  return dirs;
}

export function removeSecrets(ctx: WorkerContext, leaseId: string, specHash?: string) {
  const dir = leaseSecretsDir(ctx, leaseId);
  rmSync(specHash ? join(dir, specHash.slice(2, 10)) : dir, { recursive: true, force: true });
}
