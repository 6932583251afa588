import { existsSync } from "node:fs";
import type { Address } from "viem";
import { appLayout } from "./handover/app-layout.js";

/**
 * Where a node keeps an app handed to it (the one definition is the handover's {@link appLayout}): pod.yaml,
 * app.yaml, `blobs/` (the blob cache: ciphertext and the content keys wrapped to the node's own X25519 key) and
 * `bundle.json`, written last by the handover, so its presence means the rest is complete. The app's runner keeps its
 * `state.json` there too.
 */
export interface AppBundle {
  dir: string;
  podYaml: string;
  appYaml: string;
  blobs: string;
  marker: string;
}

export function appBundle(dataDir: string, vault: Address): AppBundle {
  const layout = appLayout(dataDir, vault);
  return {
    dir: layout.dir,
    podYaml: layout.podYaml,
    appYaml: layout.appYaml,
    blobs: layout.blobs,
    marker: layout.bundle,
  };
}

/** Whether the handover finished writing the app's bundle. */
export function bundleComplete(bundle: AppBundle): boolean {
  return existsSync(bundle.marker);
}
