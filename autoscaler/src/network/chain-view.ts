import {
  type AutoscalerNodeProfile,
  getAppNetworkTerms,
  getAutoscalerNode,
  getLiveAutoscalerNodes,
  type PodnetClient,
} from "@podnet/sdk";
import { appVaultFactoryAbi } from "@podnet/sdk/protocol";
import { type Address, getAddress } from "viem";
import type { Logger } from "../log.js";

/** The network's state a node acts on, read at one moment. */
export interface NetworkSnapshot {
  /**
   * The live nodes now: `liveNodes()` at the latest block, less those whose last heartbeat is older than the liveness
   * window at the wall clock (when it is ahead of the latest block).
   */
  live: Address[];
  /** Each live node's published profile (endpoint, DNS addresses), read with its liveness: the app zone needs it. */
  profiles: Map<Address, AutoscalerNodeProfile>;
  heartbeatPeriod: number;
  livenessWindow: number;
  /** The apps in network mode with our network: terms enabled, `network()` is ours. */
  apps: Address[];
}

/**
 * What the chain says about the network: its live nodes and the apps that opted into it. The apps are the vaults the
 * deployment's AppVaultFactory created (its `AppCreated` logs, filtered on the factory's address, read incrementally
 * from its deploy block: a contract that merely looks like a vault, made elsewhere, never counts), kept while their
 * `networkTerms().enabled` is true and their `network()` is this deployment's network, both read on chain each time.
 */
export class NetworkView {
  private readonly vaults = new Set<Address>();
  /** The next block whose AppCreated logs are not read yet. */
  private nextBlock: bigint;

  constructor(
    private readonly client: PodnetClient,
    private readonly network: Address,
    private readonly log: Logger,
  ) {
    this.nextBlock = BigInt(client.deployment.contracts.appVaultFactory.blockNumber);
  }

  async snapshot(): Promise<NetworkSnapshot> {
    const block = await this.client.publicClient.getBlock();
    const latest = block.number;
    const [{ nodes: atBlock, params }] = await Promise.all([
      getLiveAutoscalerNodes(this.client, { blockNumber: latest }),
      this.readNewVaults(latest),
    ]);
    // A dev chain mines only on transactions, and any chain's latest block is seconds old: judged at the latest block
    // alone, a dead node would stay "live" until the next block. The vault judges at the block that mines the next
    // transaction, which is about now, so the assignment is judged at now too (the later of the wall clock and the
    // block's time). Nodes whose clocks differ by a second may briefly disagree; the slot compare-and-swap settles it.
    const now = Math.max(Math.floor(Date.now() / 1000), Number(block.timestamp));
    const records = await Promise.all(atBlock.map((node) => getAutoscalerNode(this.client, { node })));
    const liveRecords = records.filter((r) => r.status === "active" && r.lastHeartbeat + params.livenessWindow >= now);
    const apps: Address[] = [];
    await Promise.all(
      [...this.vaults].map(async (vault) => {
        try {
          const terms = await getAppNetworkTerms(this.client, { vault });
          if (terms.enabled && terms.network.toLowerCase() === this.network.toLowerCase()) apps.push(vault);
        } catch (error) {
          // One unreadable vault must not hide the others; it is read again next time.
          this.log.warn("network terms unreadable", { vault, error: (error as Error).message });
        }
      }),
    );
    apps.sort();
    return {
      live: liveRecords.map((r) => getAddress(r.node)),
      profiles: new Map(liveRecords.map((r) => [getAddress(r.node), r.profile])),
      heartbeatPeriod: params.heartbeatPeriod,
      livenessWindow: params.livenessWindow,
      apps,
    };
  }

  private async readNewVaults(latest: bigint): Promise<void> {
    if (latest < this.nextBlock) return;
    const factory = this.client.deployment.contracts.appVaultFactory.address;
    const logs = await this.client.publicClient.getContractEvents({
      address: factory,
      abi: appVaultFactoryAbi,
      eventName: "AppCreated",
      fromBlock: this.nextBlock,
      toBlock: latest,
    });
    for (const log of logs) if (log.args.vault) this.vaults.add(getAddress(log.args.vault));
    this.nextBlock = latest + 1n;
  }
}
