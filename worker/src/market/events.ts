import { podnetMarketAbi } from "@podnet/sdk/protocol";
import { isAddressEqual } from "viem";
import { alertOnLeaseClosed } from "../admin/alerts.js";
import type { ChainEvent } from "../chain/follower.js";
import type { WorkerContext } from "../context.js";
import { releaseBid } from "./bidding.js";
import { notTakingWorkReason } from "./liveness.js";
import { openOrderJson } from "./open-orders.js";

/**
 * Applies followed chain events to the worker's state. Each handler sets state from the event (never adds to it), so
 * replaying a batch after a crash changes nothing. Side effects that cost gas (bids, releases) check the chain first.
 */
export async function applyChainEvents(ctx: WorkerContext, events: ChainEvent[]): Promise<void> {
  for (const event of events) await applyChainEvent(ctx, event);
}

const self = (ctx: WorkerContext, address: string) =>
  isAddressEqual(address as `0x${string}`, ctx.chain.account.address);

async function applyChainEvent(ctx: WorkerContext, event: ChainEvent): Promise<void> {
  const { state } = ctx;
  switch (event.eventName) {
    case "LeaseCreated": {
      const a = event.args;
      const id = a.leaseId.toString();
      if (!self(ctx, a.provider)) {
        noteLeaseId(ctx, a.leaseId);
        return;
      }
      await recordLease(ctx, a, event.blockNumber);
      // After the record: the API takes an id up to lastLeaseId that it has no record of for another provider's.
      noteLeaseId(ctx, a.leaseId);
      if (a.orderId !== 0n) {
        const bid = state.data.bids[a.orderId.toString()];
        if (bid) bid.status = "done";
      }
      await refreshRunsOut(ctx, id);
      state.save();
      ctx.adminEvents.publish("leases", { leaseId: id, status: "active" });
      void ctx.reconcileLease(id).catch(() => undefined);
      return;
    }
    case "LeaseSpecUpdated": {
      const lease = state.data.leases[event.args.leaseId.toString()];
      if (!lease || lease.specHash === event.args.specHash) return;
      lease.specHash = event.args.specHash;
      state.recordEvent(lease.id, "spec-updated", `spec changed to ${event.args.specHash}, waiting for its manifest`);
      void ctx.reconcileLease(lease.id).catch(() => undefined);
      return;
    }
    case "LeaseToppedUp":
    case "LeaseSettled": {
      const id = event.args.leaseId.toString();
      const lease = state.data.leases[id];
      if (lease?.status === "active") {
        // Set from the event, not added: a replayed batch changes nothing.
        if (event.eventName === "LeaseSettled") lease.settledAt = Number(event.args.settledAt);
        await refreshRunsOut(ctx, id);
        if (event.eventName === "LeaseToppedUp") state.recordEvent(id, "topped-up", `${event.args.amount} added`);
        state.save();
        ctx.adminEvents.publish("leases", { leaseId: id, runsOutAt: lease.runsOutAt ?? null });
      }
      return;
    }
    case "LeaseClosed": {
      const id = event.args.leaseId.toString();
      const lease = state.data.leases[id];
      if (!lease || lease.status === "closed") return;
      const podDeployed = ctx.manifests.get(id, lease.specHash) !== undefined;
      lease.status = "closed";
      lease.closedAt = Number(event.args.endedAt);
      lease.owed = event.args.owed.toString();
      // Held for the dispute window after the end; the money loop releases it from releasableAt on (collateral.ts).
      if (event.args.collateralHeld > 0n) {
        lease.collateral = {
          held: event.args.collateralHeld.toString(),
          releasableAt: Number(event.args.releasableAt),
        };
      }
      state.recordEvent(id, "closed", `lease closed (reason ${event.args.reason}), refund ${event.args.refund}`);
      state.save();
      alertOnLeaseClosed(ctx, id, event.args.closedBy, event.args.reason, podDeployed);
      ctx.adminEvents.publish("leases", { leaseId: id, status: "closed" });
      void ctx.reconcileLease(id).catch(() => undefined);
      return;
    }
    case "CollateralReleased": {
      const lease = state.data.leases[event.args.leaseId.toString()];
      if (!lease?.collateral) return;
      delete lease.collateral;
      state.save();
      return;
    }
    case "DisputeSettled": {
      // A ruling on a closed lease releases what it did not slash: nothing stays held. (A ruling on a running lease
      // leaves its collateral with it; LeaseClosed records it later.)
      const lease = state.data.leases[event.args.leaseId.toString()];
      if (lease?.status !== "closed" || !lease.collateral) return;
      delete lease.collateral;
      state.save();
      return;
    }
    case "DarkGapRecorded": {
      if (!self(ctx, event.args.provider)) return;
      state.data.liveness.darkGap = { from: Number(event.args.from), until: Number(event.args.until) };
      state.save();
      ctx.log.warn("a late heartbeat recorded a dark gap: no quotes or bids while it is reportable", {
        from: event.args.from,
        until: event.args.until,
        reportableUntil: event.args.reportableUntil,
      });
      return;
    }
    case "ProviderUnjailed": {
      if (!self(ctx, event.args.provider)) return;
      // The market clears the gap of the ended epoch with the jail.
      state.data.liveness = {};
      state.save();
      ctx.log.info("this provider left jail", { epoch: event.args.epoch });
      return;
    }
    case "ParamsUpdated":
      ctx.params = { ...event.args.params };
      return;
    case "OrderCreated":
      // The worker does not decide prices: it keeps the order for the bidder addon (or the console) until its
      // bidding closes and tells them it is there; a bid comes back through POST /admin/v1/bids.
      if (ctx.openOrders.add(event.args, ctx.chainNow())) {
        ctx.adminEvents.publish("orders", openOrderJson(event.args, ctx.profile.pricing));
        // Not debug: an operator must see why a healthy-looking worker stopped bidding, whatever the addon does.
        const away = notTakingWorkReason(ctx);
        if (away) ctx.log.info("not bidding", { orderId: event.args.orderId.toString(), reason: away });
      }
      return;
    case "BidPlaced": {
      if (!self(ctx, event.args.provider)) return;
      const bid = state.data.bids[event.args.orderId.toString()];
      if (bid && bid.status === "pending") bid.status = "placed";
      state.save();
      ctx.adminEvents.publish("bids", { orderId: event.args.orderId.toString() });
      return;
    }
    case "OrderMatched":
    case "OrderCancelled": {
      const orderId = event.args.orderId.toString();
      ctx.openOrders.remove(orderId);
      const bid = state.data.bids[orderId];
      if (!bid || bid.status === "done") return;
      const won = event.eventName === "OrderMatched" && self(ctx, event.args.provider);
      if (won) {
        bid.status = "done";
      } else {
        bid.status = "lost";
        await releaseBid(ctx, orderId);
      }
      state.save();
      ctx.adminEvents.publish("bids", { orderId, status: bid.status });
      return;
    }
    case "BidReleased": {
      if (!self(ctx, event.args.provider)) return;
      const bid = state.data.bids[event.args.orderId.toString()];
      if (bid) bid.status = "done";
      state.save();
      ctx.adminEvents.publish("bids", { orderId: event.args.orderId.toString(), status: "done" });
      return;
    }
    case "ProviderReportedDark": {
      if (!self(ctx, event.args.provider)) return;
      state.data.liveness.jailedUntil = Number(event.args.jailedUntil);
      state.save();
      ctx.log.error(
        "this provider was reported dark: its leases ended and it is jailed; from jailedUntil on, run `podnet-worker register` (tops the stake up to the minimum if needed and calls unjail)",
        { darkAt: event.args.darkAt, slashed: event.args.slashed, jailedUntil: event.args.jailedUntil },
      );
      return;
    }
    case "DisputeOpened": {
      if (!self(ctx, event.args.provider)) return;
      const id = event.args.disputeId.toString();
      if (state.data.disputes[id]) return;
      state.data.disputes[id] = {
        id,
        leaseId: event.args.leaseId.toString(),
        publisher: event.args.publisher,
        evidenceURI: event.args.evidenceURI,
        answerBy: Number(event.args.answerBy),
        status: "open",
      };
      state.recordEvent(
        event.args.leaseId.toString(),
        "dispute-opened",
        `dispute ${id} opened by the publisher with a bond of ${event.args.bond} (evidence ${event.args.evidenceURI})`,
      );
      return;
    }
    case "DisputeAnswered": {
      const dispute = state.data.disputes[event.args.disputeId.toString()];
      if (dispute && dispute.status === "open") {
        dispute.status = "answered";
        state.save();
      }
      return;
    }
    case "DisputeSlashed":
    case "DisputeDismissed":
    case "DisputeLapsed": {
      // Only the court's own events name the dispute, not the provider: the state knows which are ours.
      const dispute = state.data.disputes[event.args.disputeId.toString()];
      if (!dispute || dispute.status === "ruled") return;
      dispute.status = "ruled";
      const outcome =
        event.eventName === "DisputeSlashed"
          ? `the arbiter slashed ${event.args.slashed} of the lease's collateral`
          : event.eventName === "DisputeDismissed"
            ? "the arbiter dismissed it"
            : "it lapsed without a ruling";
      state.recordEvent(dispute.leaseId, "dispute-ruled", `dispute ${dispute.id}: ${outcome}`);
      return;
    }
    case "ProviderUpdated":
    case "ProviderPaused":
    case "ProviderResumed":
      if (self(ctx, event.args.provider)) await ctx.refreshProfile();
      return;
    default:
      return;
  }
}

interface LeaseCreatedArgs {
  leaseId: bigint;
  publisher: `0x${string}`;
  orderId: bigint;
  specHash: `0x${string}`;
  resources: { cpuMillis: number; memoryMiB: number; storageMiB: number };
  pricePerSecond: bigint;
}

/** Adds a lease of this provider to the state from its LeaseCreated event (no-op when known). */
async function recordLease(ctx: WorkerContext, a: LeaseCreatedArgs, blockNumber: bigint) {
  const id = a.leaseId.toString();
  if (ctx.state.data.leases[id]) return;
  const block = await ctx.chain.publicClient.getBlock({ blockNumber });
  ctx.state.data.leases[id] = {
    id,
    publisher: a.publisher,
    orderId: a.orderId.toString(),
    specHash: a.specHash,
    resources: { ...a.resources },
    pricePerSecond: a.pricePerSecond.toString(),
    startedAt: Number(block.timestamp),
    status: "active",
  };
  ctx.state.recordEvent(
    id,
    "lease-created",
    `lease started at ${a.pricePerSecond} per second, waiting for the manifest`,
  );
  ctx.metrics.leasesCreated.inc();
}

/** Remembers the newest lease id created on chain (see WorkerStateData.lastLeaseId); replays change nothing. */
function noteLeaseId(ctx: WorkerContext, leaseId: bigint) {
  const known = ctx.state.data.lastLeaseId;
  if (known === undefined || leaseId > BigInt(known)) ctx.state.data.lastLeaseId = leaseId.toString();
}

/**
 * The state's record of a lease of this provider, read from the chain when the follower has not reached it yet: a
 * publisher may send its manifest one block after createLease, before the next poll.
 */
export async function ensureLeaseRecord(ctx: WorkerContext, leaseId: bigint) {
  const known = ctx.state.data.leases[leaseId.toString()];
  if (known) return known;
  const [log] = await ctx.chain.publicClient.getContractEvents({
    address: ctx.chain.deployment.contracts.podnetMarket.address,
    abi: podnetMarketAbi,
    eventName: "LeaseCreated",
    args: { leaseId },
    fromBlock: BigInt(ctx.chain.deployment.deployBlock),
    strict: true,
  });
  if (!log || !self(ctx, log.args.provider)) return undefined;
  await recordLease(ctx, log.args, log.blockNumber);
  await refreshRunsOut(ctx, leaseId.toString());
  ctx.state.save();
  return ctx.state.data.leases[leaseId.toString()];
}

/** Reads when the lease's escrow runs dry; the money loop tears the pod down a grace period after that. */
export async function refreshRunsOut(ctx: WorkerContext, leaseId: string) {
  const lease = ctx.state.data.leases[leaseId];
  if (!lease) return;
  const runsOutAt = await ctx.chain.publicClient.readContract({
    address: ctx.chain.deployment.contracts.podnetMarket.address,
    abi: podnetMarketAbi,
    functionName: "leaseRunsOutAt",
    args: [BigInt(leaseId)],
  });
  lease.runsOutAt = Number(runsOutAt);
}
