import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { open, unlink } from "node:fs/promises";

/**
 * Writes a file so that a crash (kill -9, power loss) leaves either the old or the new content, never half of it:
 * write a temporary sibling, fsync it, rename it over the target (atomic on POSIX file systems).
 */
export function writeFileAtomic(path: string, content: string | Uint8Array, mode = 0o600): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", mode);
  try {
    writeSync(fd, typeof content === "string" ? Buffer.from(content) : content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * {@link writeFileAtomic} with the write and the fsync off the event loop (libuv's thread pool), for a file written
 * often while the process serves requests. `commit` is asked on the event loop once the content is on disk: false
 * leaves the target as it is (a newer write already replaced it) and removes the temporary file; the rename itself
 * runs on the event loop, so a synchronous write of the same target can never land between the answer and the rename.
 * At most one call per target may be in flight: the temporary file's name is fixed per process (`.async.tmp`), apart
 * from {@link writeFileAtomic}'s. Resolves with whether the target now holds `content`.
 */
export async function writeFileAtomicAsync(
  path: string,
  content: string | Uint8Array,
  { mode = 0o600, commit = () => true }: { mode?: number; commit?: () => boolean } = {},
): Promise<boolean> {
  const tmp = `${path}.${process.pid}.async.tmp`;
  try {
    const handle = await open(tmp, "w", mode);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    // A full disk: no half-written temporary file stays behind.
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  if (!commit()) {
    await unlink(tmp).catch(() => undefined);
    return false;
  }
  renameSync(tmp, path);
  return true;
}
