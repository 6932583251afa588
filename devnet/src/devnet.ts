/**
 * A whole local marketplace under one owner: a chain with the contracts, provider workers, an indexer, and the
 * Docker objects they make, all stopped by one {@link Devnet.stop}. What a test file's beforeAll/afterAll, the demo
 * and the benchmarks set up and tear down.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { HDAccount } from "viem/accounts";
import { releaseProviderAccount } from "./account-claims.js";
import { type LocalChain, type NetworkClock, startLocalChain } from "./chain.js";
import { type CleanupStep, runCleanup } from "./cleanup.js";
import { localDocker, removeProviderFirewall, removeProviderLeftovers, untagImages } from "./docker.js";
import { type Indexer, type IndexerOptions, startIndexer } from "./indexer.js";
import { type ProviderOptions, type RunningProvider, startProvider } from "./provider.js";
import { type PublisherClientOptions, publisherClient } from "./publisher.js";

/** Options of {@link Devnet.start}. */
export type DevnetOptions = {
  /** Its working directory: the chain's deployment and log (`chain/`), the workers' data dirs and logs. */
  dir: string;
  /** Extra anvil flags, e.g. a larger block gas limit. */
  anvilArgs?: string[];
  /** Remove `dir` on stop (the demo and benchmarks do; tests keep theirs, logs included, for a failure's story). */
  removeDir?: boolean;
  /**
   * The address anvil, the indexer and the workers' APIs and ingresses listen on and register (default 127.0.0.1).
   * Inside a pod 127.0.0.1 is the pod itself: a host bridge address outside the pod pool (docker0's 172.17.0.1)
   * lets a pod reach them through the workers' `podEgressAllow` (an autoscaler sidecar; docs/autoscaler-sidecar.md).
   */
  host?: string;
  /** A faster autoscaler-network clock for tests ({@link NetworkClock}); default the launch one. */
  networkClock?: NetworkClock;
};

/** A local marketplace; start one with {@link Devnet.start}. */
export class Devnet {
  readonly docker = localDocker();
  /** The providers {@link Devnet.startProvider} started, in order. */
  readonly providers: RunningProvider[] = [];
  /** The indexer {@link Devnet.startIndexer} started, if any. */
  indexer: Indexer | undefined;
  private readonly imageTags = new Set<string>();
  private readonly extraSteps: CleanupStep[] = [];
  private stopped: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    readonly chain: LocalChain,
    private readonly removeDir: boolean,
    /** Where its services listen and are registered ({@link DevnetOptions.host}). */
    readonly host: string,
  ) {}

  /** anvil with the contracts deployed (the deployment in `<dir>/chain`). */
  static async start({
    dir,
    anvilArgs,
    removeDir = false,
    host = "127.0.0.1",
    networkClock,
  }: DevnetOptions): Promise<Devnet> {
    const chain = await startLocalChain(join(dir, "chain"), { anvilArgs, host, networkClock });
    return new Devnet(dir, chain, removeDir, host);
  }

  /** Funds, registers and runs a provider (data dir `<dir>/provider-<index>` unless given); stopped with the devnet. */
  async startProvider(opts: Omit<ProviderOptions, "dataDir"> & { dataDir?: string }): Promise<RunningProvider> {
    const provider = await startProvider(this.chain, {
      host: this.host,
      ...opts,
      dataDir: opts.dataDir ?? join(this.dir, `provider-${opts.index}`),
    });
    this.providers.push(provider);
    return provider;
  }

  /** Starts the indexer on this chain (log and PGlite in `<dir>/indexer`) and waits until it is ready. */
  async startIndexer(opts: Omit<IndexerOptions, "chain">): Promise<Indexer> {
    this.indexer = await startIndexer({
      chain: this.chain,
      dir: join(this.dir, "indexer"),
      host: this.host,
      ...opts,
    });
    return this.indexer;
  }

  /** An SDK client for `account` with its blob cache in `<dir>/blobs-<address>`, unless given. */
  publisherClient(account: HDAccount, opts: Partial<PublisherClientOptions> = {}) {
    const blobCacheDir = join(this.dir, `blobs-${account.address.slice(2, 10).toLowerCase()}`);
    return publisherClient(this.chain, account, { blobCacheDir, ...opts });
  }

  /** Untags the image a worker loaded from blob `cid` when the devnet stops (the test image it came from stays). */
  untagBlobOnStop(cid: string): void {
    // The worker's tag of a loaded blob (worker/src/pods/images.ts blobImageTag).
    this.imageTags.add(`podnet-blob/${cid}:latest`);
  }

  /** One more step for {@link Devnet.stop}, run after the workers and their Docker objects are gone. */
  onStop(what: string, step: CleanupStep[1]): void {
    this.extraSteps.push([what, step]);
  }

  /**
   * Stops everything in order: the workers, their containers, networks and volumes, the blob images, the extra
   * steps, the indexer, anvil, and the directory when asked. A step that fails is reported and the rest still run.
   * Calling it again waits for the first call.
   */
  stop(): Promise<void> {
    this.stopped ??= runCleanup([
      ["stop the workers", () => Promise.all(this.providers.map((p) => p.worker.stop()))],
      [
        "remove the pods",
        () => Promise.all(this.providers.map((p) => removeProviderLeftovers(this.docker, p.address))),
      ],
      [
        "remove the pods' firewall rules",
        () => Promise.all(this.providers.map((p) => removeProviderFirewall(p.address))),
      ],
      [
        "release the provider accounts",
        () => {
          for (const p of this.providers) releaseProviderAccount(p.index);
        },
      ],
      ["untag the blob images", () => untagImages(this.docker, this.imageTags)],
      ...this.extraSteps,
      ["stop the indexer", () => this.indexer?.stop()],
      ["stop anvil", () => this.chain.stop()],
      [
        "remove the working directory",
        () => (this.removeDir ? rmSync(this.dir, { recursive: true, force: true }) : undefined),
      ],
    ]);
    return this.stopped;
  }
}
