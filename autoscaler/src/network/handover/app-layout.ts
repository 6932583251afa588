import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HandoverRecord } from "@podnet/sdk";
import { type Address, getAddress } from "viem";

/**
 * Where a node keeps an app handed to it, the contract between the handover routes (which write it) and the node's
 * per-app runner (which reads it):
 *
 * - `<dataDir>/apps/<vault>/pod.yaml`, `app.yaml`: as the owner wrote them;
 * - `blobs/`: a blob cache (index.json + ciphertext files named by content id) whose content keys are wrapped to the
 *   node's X25519 key, the format `shareBlobKeys` writes for a recipient; ciphertext may arrive before its bundle, an
 *   index entry only with one;
 * - `bundle.json` ({@link HandoverRecord}) written last, atomically: its presence means the app is complete. A newer
 *   bundle replaces pod.yaml, app.yaml and the index (each atomically) before its bundle.json; a reader that finds
 *   pod.yaml or app.yaml not hashing to bundle.json's specHash / configHash is reading mid-update and reads again.
 *
 * `<vault>` is the checksummed address (EIP-55), so one app has one folder whatever case a request used.
 */
export function appLayout(dataDir: string, vault: Address) {
  const dir = join(dataDir, "apps", getAddress(vault));
  return {
    dir,
    podYaml: join(dir, "pod.yaml"),
    appYaml: join(dir, "app.yaml"),
    blobs: join(dir, "blobs"),
    bundle: join(dir, "bundle.json"),
  };
}

/** The bundle a node holds for `vault`, or undefined when it holds none (an unreadable file counts as none). */
export function readHandoverRecord(dataDir: string, vault: Address): HandoverRecord | undefined {
  const file = appLayout(dataDir, vault).bundle;
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as HandoverRecord;
  } catch {
    return undefined;
  }
}

/** Writes `text` to `file` through a temporary file and a rename: a reader sees the old file or the new one. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}
