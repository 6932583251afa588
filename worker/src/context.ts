import type { AdminAlerts } from "./admin/alert-store.js";
import type { AdminEventBus } from "./admin/event-bus.js";
import type { ChainContext } from "./chain/connect.js";
import type { ChainFollower } from "./chain/follower.js";
import type { TxQueue } from "./chain/tx-queue.js";
import type { WorkerConfig } from "./config.js";
import type { Logger } from "./log.js";
import type { OpenOrders } from "./market/open-orders.js";
import type { MarketParams, ProviderProfile } from "./market/provider-profile.js";
import type { Metrics } from "./metrics.js";
import type { HostProofs } from "./pods/host-proofs.js";
import type { DockerRuntime } from "./runtime/docker-runtime.js";
import type { SandboxStatus } from "./runtime/sandbox.js";
import type { BlobStore } from "./store/blob-store.js";
import type { ManifestStore } from "./store/manifest-store.js";
import type { WorkerState } from "./store/worker-state.js";

/** Everything a worker module may use. One object, built once in worker.ts, so modules stay plain functions. */
export interface WorkerContext {
  config: WorkerConfig;
  chain: ChainContext;
  state: WorkerState;
  manifests: ManifestStore;
  blobs: BlobStore;
  runtime: DockerRuntime;
  /** What of the pod sandbox this machine enforces (found at start). */
  sandbox: SandboxStatus;
  /** Custom hosts proven by DNS, and their checks. */
  hostProofs: HostProofs;
  txs: TxQueue;
  log: Logger;
  /** What changed, for the console's live updates and addons (admin/event-bus.ts). */
  adminEvents: AdminEventBus;
  /** What needs the provider's attention (admin/alerts.ts). */
  alerts: AdminAlerts;
  metrics: Metrics;
  /** The open orders seen on chain, until their bidding closes: what the bidder addon bids on (market/open-orders.ts). */
  openOrders: OpenOrders;
  follower: ChainFollower;
  profile: ProviderProfile;
  /** The market's governed parameters (read at start, replaced on ParamsUpdated). */
  params: MarketParams;
  /** The provider's X25519 key pair (derived from its Ethereum key): unwraps publishers' content keys. */
  encryption: { privateKey: Uint8Array; publicKey: Uint8Array };
  /** Chain time in seconds: the newest block's timestamp (wall time before the first block is seen). */
  chainNow(): number;
  /** Re-reads the provider's registration (pricing, capacity, attributes) after it changed on chain. */
  refreshProfile(): Promise<void>;
  /** Asks the reconciler to bring one lease's pod to its desired state soon; resolves when it has. */
  reconcileLease(leaseId: string): Promise<void>;
}
