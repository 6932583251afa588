import { mkdirSync, readFileSync, renameSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { decodeWrappedKey, decryptBytes, MAX_SECRET_FILE_BYTES, unwrapKey } from "@podnet/sdk/protocol";
import type { WorkerContext } from "../context.js";
import type { StoredManifest } from "../store/manifest-store.js";

const TMPFS_MAGIC = 0x01021994;

/**
 * Decrypted secret files live only on a tmpfs (memory), under `<secretsDir>/<provider>/l<lease>/<spec>/<volume>/`,
 * and are bind-mounted read-only into the pod. They never touch the worker's data dir, the image or the environment.
 */
export function assertTmpfs(dir: string) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
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

/** Decrypts every secret volume of a manifest into memory-backed files; returns volume name → host directory. */
export async function writeSecrets(ctx: WorkerContext, stored: StoredManifest): Promise<Record<string, string>> {
  const dirs: Record<string, string> = {};
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
