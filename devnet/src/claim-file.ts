/**
 * The harness's claims on shared resources of the machine (provider accounts, free ports): a file per resource in the
 * temporary folder, created exclusively, so that of all the processes running tests only one holds each.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Creates `file` holding `content` unless it exists and is not `stale()`; a stale claim is removed and created anew.
 * Returns whether this call created it. Two processes that find one claim stale at the same moment both remove it,
 * but only one of their exclusive creates succeeds (unless the second removes the first's new claim in between).
 */
export function claimFile(file: string, content: string, stale: () => boolean): boolean {
  mkdirSync(dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, content, { flag: "wx" });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (!stale()) return false;
      rmSync(file, { force: true });
    }
  }
  return false;
}
