import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from "node:fs";
import { open, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

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

/**
 * Removes the temporary files {@link writeFileAtomic} and {@link writeFileAtomicAsync} left beside `path` in processes
 * that are gone (a kill -9 between the write and the rename): each is a whole copy of the file, and a process that
 * restarts under another pid never overwrites its predecessor's. A live process's file may be a write in flight and
 * stays.
 */
export function removeStaleTemporaries(path: string): void {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
    const pid = name.slice(prefix.length, -".tmp".length).replace(/\.async$/, "");
    if (/^\d+$/.test(pid) && !isAlive(Number(pid))) rmSync(join(dir, name), { force: true });
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, another user's.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
