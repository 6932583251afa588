import { ponder } from "ponder:registry";
import {
  bid,
  darkGap,
  darkReport,
  heartbeatDay,
  lease,
  order,
  protocol,
  provider,
  quoteNonceInvalidation,
  withdrawal,
} from "ponder:schema";
import { and, eq } from "ponder";
import type { Address } from "viem";
import { findApp, recordAppEvent } from "./apps.js";
import {
  addToProtocol,
  attributeText,
  moveStake,
  PROTOCOL_ID,
  recordStakeChange,
  stakeMoved,
  updateProvider,
} from "./state.js";

/** CloseReason enum of the contracts, by value. */
const closeReasons = ["none", "publisher", "provider", "out_of_funds", "provider_dark"] as const;

const darkReportId = (address: Address, epoch: number) => `${address.toLowerCase()}-${epoch}`;

// ---------------------------------------------------------------- governance and fees

ponder.on("PodnetMarket:ParamsUpdated", async ({ event, context }) => {
  const { params } = event.args;
  await context.db.update(protocol, { id: PROTOCOL_ID }).set({
    feeBps: params.feeBps,
    collateralSeconds: BigInt(params.collateralSeconds),
    heartbeatThreshold: BigInt(params.heartbeatThreshold),
    minProviderStake: params.minProviderStake,
    maxBidsPerOrder: params.maxBidsPerOrder,
    jailCooldown: BigInt(params.jailCooldown),
    disputeWindow: BigInt(params.disputeWindow),
    minBidCollateralBps: params.minBidCollateralBps,
  });
});

ponder.on("PodnetMarket:TreasuryUpdated", async ({ event, context }) => {
  await context.db.update(protocol, { id: PROTOCOL_ID }).set({ treasury: event.args.treasury });
});

ponder.on("PodnetMarket:FeesWithdrawn", async ({ event, context }) => {
  await addToProtocol(context, { feesWithdrawn: event.args.amount });
});

// ---------------------------------------------------------------- stake and liveness

ponder.on("PodnetMarket:Staked", async ({ event, context }) => {
  const { provider: address, amount } = event.args;
  // The market takes stakes only from providers its registry knows (the one indexed), so the row exists. A stake
  // does not end a jail (ProviderUnjailed does).
  await updateProvider(context, event, address, (row) => ({
    firstStakedAt: row.firstStakedAt ?? event.block.timestamp,
    ...stakeMoved(row, { free: amount }),
  }));
  await recordStakeChange(context, event, address, { kind: "staked", amount });
  await addToProtocol(context, { totalStaked: amount });
});

ponder.on("PodnetMarket:UnstakeRequested", async ({ event, context }) => {
  const { provider: address, amount, releaseAt } = event.args;
  await updateProvider(context, event, address, (row) => ({
    unbondingReleaseAt: BigInt(releaseAt),
    ...stakeMoved(row, { free: -amount, unbonding: amount }),
  }));
  await recordStakeChange(context, event, address, { kind: "unstake_requested", amount });
});

ponder.on("PodnetMarket:StakeWithdrawn", async ({ event, context }) => {
  const { provider: address, amount } = event.args;
  await updateProvider(context, event, address, (row) => ({
    unbondingReleaseAt: 0n,
    ...stakeMoved(row, { unbonding: -amount }),
  }));
  await recordStakeChange(context, event, address, { kind: "withdrawn", amount });
  await addToProtocol(context, { totalStaked: -amount });
});

ponder.on("PodnetMarket:Heartbeat", async ({ event, context }) => {
  const { provider: address, at } = event.args;
  const timestamp = BigInt(at);
  await updateProvider(context, event, address, (row) => ({
    lastHeartbeat: timestamp,
    heartbeatCount: row.heartbeatCount + 1,
  }));
  const day = Math.floor(at / 86_400);
  await context.db
    .insert(heartbeatDay)
    .values({ provider: address, day, count: 1, first: timestamp, last: timestamp })
    .onConflictDoUpdate((row) => ({ count: row.count + 1, last: timestamp }));
});

ponder.on("PodnetMarket:ProviderReportedDark", async ({ event, context }) => {
  const { provider: address, reporter, epoch, darkAt, slashed, reward, returned, jailedUntil } = event.args;
  await context.db.insert(darkReport).values({
    id: darkReportId(address, epoch),
    provider: address,
    reporter,
    epoch,
    darkAt: BigInt(darkAt),
    slashed,
    reward,
    returned,
    compensationPaid: 0n,
    swept: 0n,
    reportedAt: event.block.timestamp,
    jailedUntil: BigInt(jailedUntil),
  });
  const row = await context.db.find(provider, { address });
  // A report through a recorded dark gap starts its dark period where the gap began: the gap, counted as dark time
  // when it was recorded, is now part of the jail's period and must not count twice.
  const throughGap = row?.lastDarkGapFrom === BigInt(darkAt) && row.lastDarkGapUntil !== null;
  if (throughGap) {
    await context.db.update(darkGap, { id: row.lastDarkGapId ?? "" }).set({ reported: true });
  }
  // All locked stake leaves the locked bucket: `slashed` to the pool and reporter, `returned` back to free.
  await updateProvider(context, event, address, (p) => ({
    ...stakeMoved(p, { locked: -(slashed + returned), free: returned }),
    epoch: epoch + 1,
    jailed: true,
    jailedUntil: BigInt(jailedUntil),
    darkSince: BigInt(darkAt),
    darkReports: p.darkReports + 1,
    darkSeconds:
      throughGap && p.lastDarkGapUntil !== null && p.lastDarkGapFrom !== null
        ? p.darkSeconds - (p.lastDarkGapUntil - p.lastDarkGapFrom)
        : p.darkSeconds,
  }));
  await recordStakeChange(context, event, address, { kind: "slashed", amount: slashed });
  await addToProtocol(context, { totalSlashed: slashed });
});

ponder.on("PodnetMarket:DarkGapRecorded", async ({ event, context }) => {
  const { provider: address, from, until, reportableUntil } = event.args;
  await context.db.insert(darkGap).values({
    id: event.id,
    provider: address,
    from: BigInt(from),
    until: BigInt(until),
    reportableUntil: BigInt(reportableUntil),
    reported: false,
  });
  // The provider was dark for the gap (a Heartbeat event follows and sets lastHeartbeat).
  await updateProvider(context, event, address, (row) => ({
    darkGaps: row.darkGaps + 1,
    lastDarkGapId: event.id,
    lastDarkGapFrom: BigInt(from),
    lastDarkGapUntil: BigInt(until),
    darkSeconds: row.darkSeconds + BigInt(until - from),
  }));
});

ponder.on("PodnetMarket:ProviderUnjailed", async ({ event, context }) => {
  // The jail ends: the dark period closes now (a Heartbeat event follows and sets lastHeartbeat). The market
  // clears the provider's dark gap.
  await updateProvider(context, event, event.args.provider, (row) => ({
    jailed: false,
    jailedUntil: null,
    lastDarkGapId: null,
    lastDarkGapFrom: null,
    lastDarkGapUntil: null,
    darkSince: null,
    darkSeconds: row.darkSince !== null ? row.darkSeconds + (event.block.timestamp - row.darkSince) : row.darkSeconds,
  }));
});

ponder.on("PodnetMarket:DarkPoolSwept", async ({ event, context }) => {
  const { provider: address, epoch, amount } = event.args;
  await context.db
    .update(darkReport, { id: darkReportId(address, epoch) })
    .set((row) => ({ swept: row.swept + amount }));
  await addToProtocol(context, { feesAccrued: amount });
});

ponder.on("PodnetMarket:QuoteNoncesInvalidated", async ({ event, context }) => {
  await context.db.insert(quoteNonceInvalidation).values({
    id: event.id,
    provider: event.args.provider,
    wordPos: event.args.wordPos,
    mask: event.args.mask,
    timestamp: event.block.timestamp,
  });
});

// ---------------------------------------------------------------- leases

ponder.on("PodnetMarket:LeaseCreated", async ({ event, context }) => {
  const a = event.args;
  const direct = a.orderId === 0n;
  // One write of the provider row: its lease counts and, for a direct lease, the collateral locked from free stake
  // now (a matched order's was reserved when the bid was placed). The row it returns gives the lease its epoch.
  const providerRow = await updateProvider(context, event, a.provider, (row) => ({
    leasesTotal: row.leasesTotal + 1,
    leasesActive: row.leasesActive + 1,
    ...(direct ? stakeMoved(row, { free: -a.collateral, locked: a.collateral }) : {}),
  }));
  const appRow = await findApp(context, a.publisher);
  await context.db.insert(lease).values({
    id: a.leaseId,
    publisher: a.publisher,
    provider: a.provider,
    orderId: direct ? null : a.orderId,
    specHash: a.specHash,
    cpuMillis: a.resources.cpuMillis,
    memoryMiB: a.resources.memoryMiB,
    storageMiB: a.resources.storageMiB,
    pricePerSecond: a.pricePerSecond,
    deposited: a.deposit,
    paid: 0n,
    refunded: 0n,
    compensation: 0n,
    balance: a.deposit,
    collateral: a.collateral,
    epoch: providerRow.epoch,
    status: "active",
    startedAt: event.block.timestamp,
    settledAt: event.block.timestamp,
    attestationHash: a.attestationHash,
    disputed: false,
    app: appRow?.vault ?? null,
  });
  // A direct lease's deposit left the app's vault; a matched order's left it with the order.
  if (appRow) {
    await recordAppEvent(context, event, appRow.vault, {
      kind: direct ? "lease_deposit" : "lease_matched",
      amount: direct ? a.deposit : undefined,
      account: a.provider,
      leaseId: a.leaseId,
      orderId: direct ? undefined : a.orderId,
    });
  }
  if (direct) {
    await recordStakeChange(context, event, a.provider, { kind: "locked", amount: a.collateral, leaseId: a.leaseId });
  }
  await addToProtocol(context, { leases: 1, totalDeposited: direct ? a.deposit : 0n });
});

ponder.on("PodnetMarket:LeaseToppedUp", async ({ event, context }) => {
  const { leaseId, payer, amount, balance } = event.args;
  const row = await context.db
    .update(lease, { id: leaseId })
    .set((row) => ({ deposited: row.deposited + amount, balance }));
  // Anyone may top a lease up: only a top-up the vault paid is the app's money. Whether the publisher is an app was
  // looked up when the lease was created (`app`); any other payer is looked up now.
  const paidByApp =
    payer.toLowerCase() === row.publisher.toLowerCase() ? row.app !== null : (await findApp(context, payer)) !== null;
  if (paidByApp) {
    await recordAppEvent(context, event, payer, { kind: "lease_top_up", amount, leaseId });
  }
  await addToProtocol(context, { totalDeposited: amount });
});

ponder.on("PodnetMarket:LeaseSpecUpdated", async ({ event, context }) => {
  await context.db.update(lease, { id: event.args.leaseId }).set({ specHash: event.args.specHash });
});

ponder.on("PodnetMarket:LeaseSettled", async ({ event, context }) => {
  const { leaseId, amount, settledAt } = event.args;
  await context.db.update(lease, { id: leaseId }).set((row) => ({
    paid: row.paid + amount,
    balance: row.balance - amount,
    settledAt,
  }));
  await addToProtocol(context, { totalPaidToProviders: amount });
});

ponder.on("PodnetMarket:LeaseClosed", async ({ event, context }) => {
  const { leaseId, closedBy, reason, endedAt, owed, refund, collateralHeld, releasableAt } = event.args;
  const closeReason = closeReasons[reason] ?? "none";
  // A close no longer releases collateral: it stays locked for the dispute window (CollateralReleased later, or at
  // once when the window is already over). A dark close paid it out as compensation (CompensationPaid). The market
  // emits LeaseClosed only for a lease it created, so the row exists; the updated row names its provider and app.
  const row = await context.db.update(lease, { id: leaseId }).set((row) => ({
    status: "closed",
    closeReason,
    closedBy,
    endedAt,
    balance: owed,
    refunded: row.refunded + refund,
    collateral: collateralHeld,
    collateralReleasableAt: collateralHeld > 0n ? releasableAt : null,
  }));
  await updateProvider(context, event, row.provider, (p) => ({ leasesActive: p.leasesActive - 1 }));
  await addToProtocol(context, { totalRefunded: refund });
  if (row.app !== null && refund > 0n) {
    await recordAppEvent(context, event, row.app, { kind: "lease_refund", amount: refund, leaseId, account: closedBy });
  }
});

ponder.on("PodnetMarket:CollateralReleased", async ({ event, context }) => {
  const { leaseId, provider: address, amount } = event.args;
  await context.db
    .update(lease, { id: leaseId })
    .set({ collateral: 0n, collateralReleasableAt: null, collateralReleasedAt: event.block.timestamp });
  // 0: the provider went dark since the close; the collateral was slashed and CompensationPaid follows.
  if (amount > 0n) {
    await moveStake(context, event, address, { locked: -amount, free: amount }, { kind: "released", amount, leaseId });
  }
});

ponder.on("PodnetMarket:CompensationPaid", async ({ event, context }) => {
  const { leaseId, amount } = event.args;
  const row = await context.db
    .update(lease, { id: leaseId })
    .set((row) => ({ compensation: row.compensation + amount }));
  await context.db
    .update(darkReport, { id: darkReportId(row.provider, row.epoch) })
    .set((r) => ({ compensationPaid: r.compensationPaid + amount }));
  await addToProtocol(context, { totalCompensation: amount });
  if (row.app !== null && amount > 0n) {
    await recordAppEvent(context, event, row.app, { kind: "compensation", amount, leaseId });
  }
});

ponder.on("PodnetMarket:ProviderWithdrew", async ({ event, context }) => {
  const { provider: address, gross, fee, net } = event.args;
  await context.db.insert(withdrawal).values({
    id: event.id,
    provider: address,
    gross,
    fee,
    net,
    blockNumber: event.block.number,
    timestamp: event.block.timestamp,
    transactionHash: event.transaction.hash,
  });
  await updateProvider(context, event, address, (row) => ({ earnedGross: row.earnedGross + gross }));
  await addToProtocol(context, { feesAccrued: fee });
});

ponder.on("PodnetMarket:CollateralHeld", async ({ event, context }) => {
  await context.db.update(lease, { id: event.args.leaseId }).set({ disputed: true });
});

ponder.on("PodnetMarket:DisputeSettled", async ({ event, context }) => {
  const { leaseId, slashed, released } = event.args;
  const row = await context.db.find(lease, { id: leaseId });
  if (!row) return;
  const providerRow = await context.db.find(provider, { address: row.provider });
  // Same epoch: the ruling slashed locked stake. Later epoch: the provider went dark and the payment came from
  // the dark pool, the collateral having left the locked stake with the report.
  const live = providerRow !== null && providerRow.epoch === row.epoch;
  // A running lease keeps its collateral minus a live ruling's slash; a running lease of a dark epoch keeps all of
  // it (the market zeroes it only when the dark close pays the compensation). A closed lease's is released or paid.
  const remaining = row.status === "active" ? row.collateral - (live ? slashed : 0n) : 0n;
  const closed = row.status !== "active";
  await context.db.update(lease, { id: leaseId }).set({
    disputed: false,
    collateral: remaining,
    compensation: row.compensation + slashed,
    // A ruling on a closed lease ends its dispute hold: what is left goes back now.
    ...(closed ? { collateralReleasableAt: null, collateralReleasedAt: event.block.timestamp } : {}),
  });
  if (live) {
    await moveStake(
      context,
      event,
      row.provider,
      { locked: -(slashed + released), free: released },
      { kind: "slashed", amount: slashed, leaseId },
    );
    if (released > 0n) {
      await recordStakeChange(context, { ...event, id: `${event.id}-r` }, row.provider, {
        kind: "released",
        amount: released,
        leaseId,
      });
    }
    await addToProtocol(context, { totalSlashed: slashed, totalCompensation: slashed });
  } else if (slashed > 0n) {
    await context.db
      .update(darkReport, { id: darkReportId(row.provider, row.epoch) })
      .set((r) => ({ compensationPaid: r.compensationPaid + slashed }));
    await addToProtocol(context, { totalCompensation: slashed });
  }
  // The slashed collateral went to the publisher.
  if (row.app !== null && slashed > 0n) {
    await recordAppEvent(context, event, row.app, { kind: "compensation", amount: slashed, leaseId });
  }
});

// ---------------------------------------------------------------- reverse market

ponder.on("PodnetMarket:OrderCreated", async ({ event, context }) => {
  const a = event.args;
  const appRow = await findApp(context, a.publisher);
  await context.db.insert(order).values({
    id: a.orderId,
    publisher: a.publisher,
    specHash: a.specHash,
    cpuMillis: a.resources.cpuMillis,
    memoryMiB: a.resources.memoryMiB,
    storageMiB: a.resources.storageMiB,
    maxPricePerSecond: a.maxPricePerSecond,
    deposit: a.deposit,
    bidDeadline: BigInt(a.bidDeadline),
    autoAccept: a.autoAccept,
    minStake: a.requirements.minStake,
    attributes: a.requirements.attributes.map(attributeText),
    status: "open",
    bidCount: 0,
    createdAt: event.block.timestamp,
    app: appRow?.vault ?? null,
  });
  await addToProtocol(context, { orders: 1, totalDeposited: a.deposit });
  if (appRow) {
    await recordAppEvent(context, event, appRow.vault, {
      kind: "order_deposit",
      amount: a.deposit,
      orderId: a.orderId,
    });
  }
});

ponder.on("PodnetMarket:BidPlaced", async ({ event, context }) => {
  const { orderId, provider: address, pricePerSecond, reserved } = event.args;
  const placed = { pricePerSecond, reserved, status: "active", placedAt: event.block.timestamp };
  // A provider whose bid was evicted may bid again: its row is overwritten.
  await context.db
    .insert(bid)
    .values({ orderId, provider: address, ...placed })
    .onConflictDoUpdate({ ...placed, evictedBy: null, evictedAt: null });
  await context.db.update(order, { id: orderId }).set((row) => {
    const better = row.bestPrice === null || pricePerSecond < row.bestPrice;
    return {
      bidCount: row.bidCount + 1,
      bestBidder: better ? address : row.bestBidder,
      bestPrice: better ? pricePerSecond : row.bestPrice,
      worstPrice: row.worstPrice === null || pricePerSecond > row.worstPrice ? pricePerSecond : row.worstPrice,
    };
  });
  await moveStake(
    context,
    event,
    address,
    { free: -reserved, locked: reserved },
    { kind: "locked", amount: reserved, orderId },
  );
});

ponder.on("PodnetMarket:BidEvicted", async ({ event, context }) => {
  const { orderId, provider: address, by, amount } = event.args;
  await context.db
    .update(bid, { orderId, provider: address })
    .set({ status: "evicted", evictedBy: by, evictedAt: event.block.timestamp });
  // The order's best and worst among the bids still standing (the evicting bid's BidPlaced follows), ranked as the
  // market ranks them: price, then placement time, then address.
  const standing = await context.db.sql
    .select()
    .from(bid)
    .where(and(eq(bid.orderId, orderId), eq(bid.status, "active")));
  standing.sort((a, b) =>
    a.pricePerSecond !== b.pricePerSecond
      ? Number(a.pricePerSecond - b.pricePerSecond)
      : a.placedAt !== b.placedAt
        ? Number(a.placedAt - b.placedAt)
        : a.provider.toLowerCase() < b.provider.toLowerCase()
          ? -1
          : 1,
  );
  const best = standing[0];
  const worst = standing.at(-1);
  await context.db.update(order, { id: orderId }).set((row) => ({
    bidCount: row.bidCount - 1,
    bestBidder: best?.provider ?? null,
    bestPrice: best?.pricePerSecond ?? null,
    worstPrice: worst?.pricePerSecond ?? null,
  }));
  // 0: a void bid (its provider went dark), slashed with the rest; its share of the pool went to the fees.
  if (amount > 0n) {
    await moveStake(context, event, address, { locked: -amount, free: amount }, { kind: "evicted", amount, orderId });
  }
});

ponder.on("PodnetMarket:OrderMatched", async ({ event, context }) => {
  const { orderId, provider: address, leaseId } = event.args;
  await context.db.update(order, { id: orderId }).set({ status: "matched", leaseId });
  await context.db.update(bid, { orderId, provider: address }).set({ status: "won" });
});

ponder.on("PodnetMarket:OrderCancelled", async ({ event, context }) => {
  const { orderId, refund } = event.args;
  const row = await context.db.update(order, { id: orderId }).set({ status: "cancelled" });
  await addToProtocol(context, { totalRefunded: refund });
  if (row.app !== null)
    await recordAppEvent(context, event, row.app, { kind: "order_refund", amount: refund, orderId });
});

ponder.on("PodnetMarket:BidReleased", async ({ event, context }) => {
  const { orderId, provider: address, amount } = event.args;
  await context.db.update(bid, { orderId, provider: address }).set({ status: "released" });
  if (amount > 0n) {
    await moveStake(context, event, address, { locked: -amount, free: amount }, { kind: "released", amount, orderId });
  }
});

ponder.on("PodnetMarket:AuthorityUpdated", async ({ event, context }) => {
  await context.db.update(protocol, { id: PROTOCOL_ID }).set({ marketAuthority: event.args.authority });
});
