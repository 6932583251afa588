import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Address, getAddress } from "viem";

/**
 * Where a node keeps an app handed to it: `<dataDir>/apps/<vault>/` with pod.yaml, app.yaml, `blobs/` (the blob cache:
 * ciphertext and the content keys wrapped to the node's own X25519 key) and `bundle.json`, written last by the
 * handover, so its presence means the rest is complete. The app's runner keeps its `state.json` there too.
 */
export interface AppBundle {
  dir: string;
  podYaml: string;
  appYaml: string;
  blobs: string;
  marker: string;
}

export function appBundle(dataDir: string, vault: Address): AppBundle {
  // Lowercase, unless a handover wrote the checksummed spelling (a case-sensitive file system tells them apart).
  const checksummed = join(dataDir, "apps", getAddress(vault));
  const dir = existsSync(checksummed) ? checksummed : join(dataDir, "apps", vault.toLowerCase());
  return {
    dir,
    podYaml: join(dir, "pod.yaml"),
    appYaml: join(dir, "app.yaml"),
    blobs: join(dir, "blobs"),
    marker: join(dir, "bundle.json"),
  };
}

/** Whether the handover finished writing the app's bundle. */
export function bundleComplete(bundle: AppBundle): boolean {
  return existsSync(bundle.marker);
}
