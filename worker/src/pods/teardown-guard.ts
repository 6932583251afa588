import { podnetMarketAbi } from "@podnet/sdk/protocol";
import { isAddressEqual } from "viem";
import type { WorkerContext } from "../context.js";
import type { LeaseRecord } from "../store/worker-state.js";

/**
 * What to do with a pod whose lease the worker's state no longer wants:
 * - `stop` with `confirmed`: the chain says nobody pays for it (closed, another provider's lease) or the money loop
 *   proved its escrow ran dry;
 * - `stop` without `confirmed`: the chain has no such lease (another or a reset chain, a node far behind): no proof
 *   either way, so the guard limits how many such pods one pass may stop;
 * - `keep`: the lease is active on chain (the state was wrong: a reorged-out close, a lagging node);
 * - `defer`: the chain could not be asked; a pod is never stopped on a guess.
 */
export type StopVerdict =
  | { action: "stop"; confirmed: boolean; reason: string }
  | { action: "keep" | "defer"; reason: string };

/** LeaseStatus of the market (contracts/src/types/MarketTypes.sol). */
const LEASE_ACTIVE = 1;
const LEASE_CLOSED = 2;
/** A lease the chain showed active is not asked about again for this long (its pod is kept meanwhile). */
const KEEP_RECHECK_MS = 30_000;
/** The chain read behind a verdict gives up after this long (a blackholed RPC must not hold the pass). */
const VERDICT_TIMEOUT_MS = 10_000;

/**
 * Decides whether a pod may be torn down, and refuses mass teardowns that the chain does not back. Providers elsewhere
 * have torn down dozens of paying deployments at once when their RPC failed; here a pod stops only for a reason read
 * from the chain just now, and a pass that would stop more than `maxUnconfirmedTeardownShare` of the pods without
 * such a reason stops none of them and says so loudly.
 */
export class TeardownGuard {
  private readonly keptUntil = new Map<string, number>();
  private readonly logged = new Map<string, string>();
  deferred = 0;
  refused = 0;

  constructor(private readonly ctx: WorkerContext) {}

  /** The verdict for lease `leaseId`'s pod, read from the chain (nothing is cached but a recent `keep`). */
  async verdict(leaseId: string, lease: LeaseRecord | undefined): Promise<StopVerdict> {
    // The money loop sets `ending` only after reading the escrow's run-out time from the chain (or, for a lease that
    // never got a manifest, when there is no pod to lose).
    if (lease?.status === "active" && lease.ending) return { action: "stop", confirmed: true, reason: lease.ending };
    if ((this.keptUntil.get(leaseId) ?? 0) > Date.now()) return { action: "keep", reason: "active on chain" };
    const { ctx } = this;
    let onChain: { provider: `0x${string}`; status: number };
    try {
      onChain = await ctx.chain.publicClient.readContract({
        address: ctx.chain.deployment.contracts.podnetMarket.address,
        abi: podnetMarketAbi,
        functionName: "getLease",
        args: [BigInt(leaseId)],
      });
    } catch (error) {
      return this.note(leaseId, {
        action: "defer",
        reason: `chain unreachable (${(error as Error).message.split("\n")[0]})`,
      });
    }
    if (onChain.status === LEASE_CLOSED) return this.note(leaseId, stopConfirmed("lease closed on chain"));
    if (onChain.status === LEASE_ACTIVE) {
      if (!isAddressEqual(onChain.provider, ctx.chain.account.address)) {
        return this.note(leaseId, stopConfirmed("lease of another provider on chain"));
      }
      this.keptUntil.set(leaseId, Date.now() + KEEP_RECHECK_MS);
      return this.note(leaseId, {
        action: "keep",
        reason: `active on chain although the worker's state says ${lease ? lease.status : "nothing of it"}`,
      });
    }
    return this.note(leaseId, { action: "stop", confirmed: false, reason: "no such lease on chain" });
  }

  /** {@link verdict}, given up as `defer` after {@link VERDICT_TIMEOUT_MS}. */
  verdictWithin(leaseId: string, lease: LeaseRecord | undefined): Promise<StopVerdict> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<StopVerdict>((resolve) => {
      timer = setTimeout(
        () => resolve({ action: "defer", reason: `chain did not answer within ${VERDICT_TIMEOUT_MS} ms` }),
        VERDICT_TIMEOUT_MS,
      );
    });
    return Promise.race([this.verdict(leaseId, lease), late]).finally(() => clearTimeout(timer));
  }

  /**
   * Of one pass's planned stops (`verdicts` of the `pods` leases that have containers), the leases that may stop: every
   * confirmed one, and the unconfirmed ones only while they are at most `maxUnconfirmedTeardownShare` of the pods (at
   * least one, so a stray pod of a vanished lease still goes); past that, none of the unconfirmed ones.
   */
  allowedStops(verdicts: Map<string, StopVerdict>, pods: number): Set<string> {
    const allowed = new Set<string>();
    const unconfirmed: string[] = [];
    for (const [leaseId, verdict] of verdicts) {
      if (verdict.action !== "stop") continue;
      if (verdict.confirmed) allowed.add(leaseId);
      else unconfirmed.push(leaseId);
    }
    const limit = Math.max(1, Math.floor(this.ctx.config.maxUnconfirmedTeardownShare * pods));
    if (unconfirmed.length <= limit) {
      for (const leaseId of unconfirmed) allowed.add(leaseId);
    } else {
      this.refused += unconfirmed.length;
      this.ctx.metrics.teardownsRefused.inc(unconfirmed.length);
      this.ctx.log.error(
        "TEARDOWN GUARD: refusing to stop pods without a confirmed on-chain reason; they keep running. Check the RPC (right chain? synced?) and the worker's state; raise maxUnconfirmedTeardownShare only if these pods must go",
        { pods, wouldStop: unconfirmed.length, limit, leases: unconfirmed.slice(0, 20) },
      );
    }
    return allowed;
  }

  /** Counts a deferred stop (the pod kept because the chain could not be asked). */
  countDeferred() {
    this.deferred++;
    this.ctx.metrics.teardownsDeferred.inc();
  }

  /** Logs a lease's verdict when it changed (a pass runs every few seconds; an outage must not flood the log). */
  private note(leaseId: string, verdict: StopVerdict): StopVerdict {
    const key = `${verdict.action}:${verdict.reason.split(" (")[0]}`;
    if (this.logged.get(leaseId) !== key) {
      this.logged.set(leaseId, key);
      if (verdict.action === "defer") {
        this.ctx.log.warn("pod kept: cannot prove its lease unpaid now, will ask the chain again", {
          leaseId,
          reason: verdict.reason,
        });
      } else if (verdict.action === "keep") {
        this.ctx.log.warn("pod kept: its lease is active on chain", { leaseId, reason: verdict.reason });
      }
    }
    return verdict;
  }
}

const stopConfirmed = (reason: string): StopVerdict => ({ action: "stop", confirmed: true, reason });
