/**
 * Volume size limits on a btrfs data-root. Docker's local volume driver caps sizes only on XFS with project quotas
 * (which the kernels of our machines lack), so the worker turns a new volume's empty `_data` directory into a btrfs
 * subvolume with a qgroup limit of the manifest's `sizeMiB`: a pod that writes past it gets EDQUOT, the host's disk
 * does not fill. Needs root, the `btrfs` tool and the engine's data-root on this machine.
 */
import { execFile } from "node:child_process";
import { chmod, chown, readdir, rmdir, stat } from "node:fs/promises";
import { promisify } from "node:util";

const exec = promisify(execFile);
/** The inode number of every btrfs subvolume's root directory. */
const SUBVOLUME_ROOT_INODE = 256;

/** Whether volume quotas can work here: the `btrfs` tool runs and the data-root is a btrfs file system we can reach. */
export async function volumeQuotasAvailable(dockerRootDir: string): Promise<boolean> {
  try {
    await exec("btrfs", ["filesystem", "df", dockerRootDir]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Caps the volume at `mountpoint` (Docker's `.../volumes/<name>/_data`) to `sizeMiB`. A new, empty directory becomes a
 * subvolume first, keeping its owner and mode (with userns-remap the pod's root owns it); an existing subvolume only
 * gets its limit (re)set, so this is safe to repeat.
 * @throws {Error} naming the volume when its directory already holds data it cannot cap.
 */
export async function limitVolume(mountpoint: string, sizeMiB: number): Promise<void> {
  const info = await stat(mountpoint);
  if (info.ino !== SUBVOLUME_ROOT_INODE) {
    if ((await readdir(mountpoint)).length > 0) {
      throw new Error(`volume ${mountpoint}: holds data from before quotas, cannot cap it at ${sizeMiB} MiB`);
    }
    await rmdir(mountpoint);
    await exec("btrfs", ["subvolume", "create", mountpoint]);
    await chown(mountpoint, info.uid, info.gid);
    await chmod(mountpoint, info.mode & 0o7777);
  }
  await exec("btrfs", ["qgroup", "limit", `${sizeMiB}M`, mountpoint]);
}
