import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writePrivateFile } from "./secrets.js";

/**
 * `<dataDir>/admin/origin`: the origin the running worker's admin API answers on (not a secret). With `adminPort` 0
 * the port is known only once bound; `podnet-worker console` and tests read it from here.
 */
export function adminOriginFile(dataDir: string) {
  return join(dataDir, "admin", "origin");
}

export function writeAdminOrigin(dataDir: string, origin: string) {
  writePrivateFile(adminOriginFile(dataDir), `${origin}\n`);
}

export function readAdminOrigin(dataDir: string): string | undefined {
  try {
    return readFileSync(adminOriginFile(dataDir), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}
