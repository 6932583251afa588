/**
 * An app in an AppVault, ready for `podnet-autoscaler run`: its image sealed into the controller's blob cache, pod.yaml
 * and app.yaml written, the vault created by the owner with the controller(s), funded, and the controller's key in a
 * 0600 file. What the autoscaler end-to-end tests set up before they start the daemon.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PodnetClientWithActions } from "@podnet/sdk";
import {
  appConfigHash,
  appConfigLimits,
  manifestHash,
  manifestResources,
  type PodManifestInput,
  parseAppConfig,
  parseManifest,
} from "@podnet/sdk/protocol";
import { type Address, type Hex, keccak256, stringToHex } from "viem";
import type { HDAccount } from "viem/accounts";
import type { Devnet } from "./devnet.js";
import { ensureGas, mint } from "./funds.js";
import { waitFor } from "./net.js";

export interface AutoscaledAppOptions {
  /** Where pod.yaml, app.yaml, the key file and the autoscaler's data dir (`autoscaler/`) go. */
  dir: string;
  owner: HDAccount;
  controller: { account: HDAccount; privateKey: Hex };
  /** More controllers the vault accepts (a second autoscaler). */
  otherControllers?: Address[];
  /** A `docker save` tarball of the app's image, sealed into the controller's cache. */
  tarball: string;
  /** The pod manifest for the image reference the sealed image got. */
  manifest: (image: string) => PodManifestInput;
  appYaml: Record<string, unknown>;
  /** Token base units the owner mints and funds the vault with. */
  funded: bigint;
  /** The vault's salt (hashed): one per app on a chain. */
  salt: string;
  /**
   * Providers the indexer's search must list (registered, staked, a fresh heartbeat, indexed) before this returns:
   * a test that expects the cheapest ones picked must not start the autoscaler while one is not searchable yet.
   */
  searchable?: Address[];
}

export interface AutoscaledApp {
  vault: Address;
  ownerClient: PodnetClientWithActions;
  manifest: PodManifestInput;
  /** The sealed image's content id. */
  imageCid: string;
  /** The autoscaler's data dir (its blob cache is `blobs/` in it). */
  dataDir: string;
  /** PODNET_AUTOSCALER_* for `startAutoscalerProcess` (reconcile every second, a 120 s startup grace). */
  env: Record<string, string>;
}

export async function createAutoscaledApp(devnet: Devnet, opts: AutoscaledAppOptions): Promise<AutoscaledApp> {
  const dataDir = join(opts.dir, "autoscaler");
  mkdirSync(dataDir, { recursive: true });
  // The autoscaler's blob cache holds the app's content keys wrapped to the controller's own key only.
  const controllerClient = devnet.publisherClient(opts.controller.account, { blobCacheDir: join(dataDir, "blobs") });
  const image = await controllerClient.prepareImage({ tarball: opts.tarball });
  devnet.untagBlobOnStop(image.cid);
  const manifest = opts.manifest(image.image);
  writeFileSync(join(opts.dir, "pod.yaml"), JSON.stringify(manifest, null, 2));
  writeFileSync(join(opts.dir, "app.yaml"), JSON.stringify(opts.appYaml, null, 2));
  const config = parseAppConfig(opts.appYaml);

  await mint(devnet.chain, opts.owner, opts.funded);
  await ensureGas(devnet.chain, opts.controller.account.address);
  const ownerClient = devnet.publisherClient(opts.owner);
  const { vault } = await ownerClient.createApp({
    salt: keccak256(stringToHex(opts.salt)),
    specHash: manifestHash(parseManifest(manifest)),
    configHash: appConfigHash(config),
    limits: appConfigLimits(config),
    controllers: [opts.controller.account.address, ...(opts.otherControllers ?? [])],
  });
  await ownerClient.fundApp({ vault, amount: opts.funded });

  const keyFile = join(opts.dir, "controller.key");
  writeFileSync(keyFile, `${opts.controller.privateKey}\n`, { mode: 0o600 });
  const env = {
    PODNET_AUTOSCALER_RPC_URL: devnet.chain.rpcUrl,
    PODNET_AUTOSCALER_DEPLOYMENTS_FILE: devnet.chain.deploymentsFile,
    PODNET_AUTOSCALER_INDEXER_URL: devnet.indexer?.url as string,
    PODNET_AUTOSCALER_CONTROLLER_KEY_FILE: keyFile,
    PODNET_AUTOSCALER_VAULT: vault,
    PODNET_AUTOSCALER_APP_YAML: join(opts.dir, "app.yaml"),
    PODNET_AUTOSCALER_POD_YAML: join(opts.dir, "pod.yaml"),
    PODNET_AUTOSCALER_DATA_DIR: dataDir,
    PODNET_AUTOSCALER_RECONCILE_INTERVAL_SEC: "1",
    PODNET_AUTOSCALER_STARTUP_GRACE_SEC: "120",
  };
  if (opts.searchable?.length) {
    const resources = manifestResources(parseManifest(manifest));
    const wanted = opts.searchable.map((address) => address.toLowerCase());
    const searcher = devnet.publisherClient(opts.owner, { indexerUrl: devnet.indexer?.url as string });
    await waitFor(
      `the indexer's search to list ${wanted.length} providers`,
      async () => {
        const found = await searcher.findProviders({ resources });
        const listed = new Set(found.map((p) => p.address.toLowerCase()));
        const missing = wanted.filter((address) => !listed.has(address));
        // Thrown, so a timeout names who was missing and what the search did list.
        if (missing.length > 0) throw new Error(`missing ${missing.join(", ")}; listed ${[...listed].join(", ")}`);
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  }
  return { vault, ownerClient, manifest, imageCid: image.cid, dataDir, env };
}
