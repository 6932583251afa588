import { podnetMarketAbi } from "@podnet/sdk/protocol";
import { revertName, sendContract } from "../chain/tx-queue.js";
import type { WorkerContext } from "../context.js";
import type { LeaseRecord } from "../store/worker-state.js";
import { finalizeWonOrders } from "./bidding.js";
import { releaseHeldCollateral } from "./collateral.js";
import { answerDisputes } from "./disputes.js";
import { withdrawEarnings } from "./withdrawal.js";

/**
 * The worker's money duties, checked every few seconds against chain time:
 * - heartbeats, so the provider is never reportable as dark while it runs;
 * - a lease whose escrow ran dry is torn down after `outOfFundsGraceSec` and closed (pods never run for free long);
 * - a lease whose manifest never came is closed after `manifestTimeoutSec`, so its publisher gets the rest back;
 * - disputes on its leases are answered with an evidence document within the court's window (market/disputes.ts);
 * - the collateral of its closed leases is released once their dispute window is over (market/collateral.ts);
 * - earnings are withdrawn in one batch every `withdrawIntervalSec` (one transaction for all leases).
 */
export class MoneyLoop {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private lastHeartbeatAt = 0;
  private readonly finalizeTried = new Set<string>();
  /** Leases whose run-out the chain could not confirm (logged once per outage). */
  private readonly unproven = new Set<string>();
  private lastTickError: string | undefined;
  heartbeatIntervalSec = 0;

  constructor(private readonly ctx: WorkerContext) {}

  async start() {
    const { params } = this.ctx;
    const stake = await this.ctx.chain.publicClient.readContract({
      address: this.market,
      abi: podnetMarketAbi,
      functionName: "stakeOf",
      args: [this.ctx.chain.account.address],
    });
    this.lastHeartbeatAt = Number(stake.lastHeartbeat);
    this.heartbeatIntervalSec =
      this.ctx.config.heartbeatIntervalSec || Math.max(1, Math.floor(Number(params.heartbeatThreshold) / 3));
    const tick = async () => {
      await this.tick().then(
        () => {
          this.lastTickError = undefined;
        },
        (error) => {
          // Once per kind of failure, not once a second through an outage.
          const message = (error as Error).message;
          if (message !== this.lastTickError) this.ctx.log.warn("money tick failed", { error: message });
          this.lastTickError = message;
        },
      );
      this.timer = setTimeout(tick, 1000);
    };
    this.timer = setTimeout(tick, 0);
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
  }

  private get market() {
    return this.ctx.chain.deployment.contracts.podnetMarket.address;
  }

  async tick() {
    if (this.busy) return;
    this.busy = true;
    try {
      const now = this.ctx.chainNow();
      // Each duty on its own: an RPC error in one (a heartbeat during an outage) must not skip the others.
      const duties: [string, () => Promise<unknown>][] = [
        ["heartbeat", () => this.heartbeat(now)],
        ["end unpaid leases", () => this.endUnpaidLeases(now)],
        ["finalize won orders", () => finalizeWonOrders(this.ctx, this.finalizeTried)],
        ["answer disputes", () => answerDisputes(this.ctx, now)],
        ["release collateral", () => releaseHeldCollateral(this.ctx, now)],
        ["withdraw", () => this.withdraw(now)],
      ];
      const failed: string[] = [];
      for (const [name, duty] of duties) {
        await duty().catch((error) => failed.push(`${name}: ${(error as Error).message.split("\n")[0]}`));
      }
      if (failed.length > 0) throw new Error(failed.join("; "));
    } finally {
      this.busy = false;
    }
  }

  private async heartbeat(now: number) {
    if (!this.ctx.profile.registered || now - this.lastHeartbeatAt < this.heartbeatIntervalSec) return;
    const stake = await this.ctx.chain.publicClient.readContract({
      address: this.market,
      abi: podnetMarketAbi,
      functionName: "stakeOf",
      args: [this.ctx.chain.account.address],
    });
    if (stake.free + stake.locked === 0n || stake.jailed) return;
    try {
      await sendContract(this.ctx.chain, this.ctx.txs, "heartbeat", {
        address: this.market,
        abi: podnetMarketAbi,
        functionName: "heartbeat",
      });
      this.lastHeartbeatAt = now;
      this.ctx.metrics.heartbeats.inc();
    } catch (error) {
      this.ctx.log.warn("heartbeat failed", { error: revertName(error) });
    }
  }

  private async endUnpaidLeases(now: number) {
    const { ctx } = this;
    for (const lease of Object.values(ctx.state.data.leases)) {
      if (lease.status !== "active") continue;
      // Read once per lease and tick: the manifest store lists a directory.
      const manifestless = ctx.manifests.list(lease.id).length === 0;
      const noManifest = manifestless && now >= lease.startedAt + ctx.config.manifestTimeoutSec;
      const outOfFunds = lease.runsOutAt !== undefined && now >= lease.runsOutAt + ctx.config.outOfFundsGraceSec;
      const noRoom = manifestless && lease.refusedAt !== undefined;
      // A lease already ending (the provider stopped it from the console, or a close that failed) is closed again.
      if (!noManifest && !outOfFunds && !noRoom && !lease.ending) continue;
      // What the state says about the escrow may be stale (a top-up the follower has not seen: an RPC outage, a
      // reorg): a pod is torn down for its funds only when the chain confirms they ran out.
      if (!lease.ending && !noManifest && !noRoom && !(await this.provenOutOfFunds(lease))) continue;
      if (!lease.ending) {
        lease.ending = noRoom ? "no-room" : outOfFunds ? "out-of-funds" : "no-manifest";
        ctx.state.recordEvent(
          lease.id,
          lease.ending,
          noRoom
            ? "no room for this lease (leases made before it hold the capacity): lease closing, the rest is refunded"
            : outOfFunds
              ? "escrow ran out: pod torn down, lease closing"
              : "no manifest arrived in time: lease closing, the rest is refunded",
        );
        ctx.state.saveNow();
        // Tear down before closing: the pod stops being served even if the close transaction is slow.
        await ctx.reconcileLease(lease.id).catch(() => undefined);
      }
      try {
        await sendContract(ctx.chain, ctx.txs, `closeLease ${lease.id}`, {
          address: this.market,
          abi: podnetMarketAbi,
          functionName: "closeLease",
          args: [BigInt(lease.id)],
        });
        ctx.log.child({ lease: lease.id }).info("lease closed by the provider", { reason: lease.ending });
      } catch (error) {
        const name = revertName(error);
        // Someone else closed it first: the LeaseClosed event will update the state.
        if (name !== "MarketLeaseNotActive")
          ctx.log.child({ lease: lease.id }).warn("closeLease failed", { error: name });
      }
    }
  }

  /**
   * Reads the lease's run-out time from the chain again (a top-up the follower has not seen yet moves it) and updates
   * the cached one; true only when that read worked, the chain is not stalled, and chain time is past the run-out plus
   * `outOfFundsGraceSec`. Chain time is the newest block's timestamp plus the wall time since (a dev chain mines only
   * on demand); while blocks stop coming nobody can top up, so a stalled chain proves nothing either. A read that fails
   * proves nothing: the pod is kept and the check comes back next tick.
   */
  private async provenOutOfFunds(lease: LeaseRecord): Promise<boolean> {
    const { ctx } = this;
    try {
      const runsOutAt = await ctx.chain.publicClient.readContract({
        address: this.market,
        abi: podnetMarketAbi,
        functionName: "leaseRunsOutAt",
        args: [BigInt(lease.id)],
      });
      lease.runsOutAt = Number(runsOutAt);
      this.unproven.delete(lease.id);
      if (ctx.follower.chainState === "stalled") return false;
      return ctx.chainNow() >= lease.runsOutAt + ctx.config.outOfFundsGraceSec;
    } catch (error) {
      if (!this.unproven.has(lease.id)) {
        this.unproven.add(lease.id);
        ctx.log.warn("escrow looks spent but the chain cannot confirm it now: pod kept", {
          leaseId: lease.id,
          error: (error as Error).message.split("\n")[0],
        });
      }
      return false;
    }
  }

  private async withdraw(now: number) {
    const { ctx } = this;
    if (now - ctx.state.data.lastWithdrawAt < ctx.config.withdrawIntervalSec) return;
    await this.withdrawNow();
  }

  /** Withdraws the earnings of every active lease and every closed lease still owing. Returns the net amount. */
  async withdrawNow(): Promise<bigint> {
    try {
      const withdrawal = await withdrawEarnings(this.ctx);
      return BigInt(withdrawal?.net ?? 0);
    } catch (error) {
      this.ctx.log.warn("withdraw failed", { error: revertName(error) });
      return 0n;
    }
  }
}
