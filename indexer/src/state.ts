// Shared writes of the event handlers: the protocol totals row and a provider's stake ledger.
import type { Context } from "ponder:registry";
import { protocol, provider, stakeChange } from "ponder:schema";
import { decodeAttribute } from "@podnet/sdk/protocol";
import type { Address, Hex } from "viem";

export const PROTOCOL_ID = "podnet";

/** Creates the protocol row, with zeros, once before indexing starts (the registry's setup), so that handlers
 *  only ever update it. */
export async function createProtocolRow(context: Context) {
  await context.db.insert(protocol).values({
    id: PROTOCOL_ID,
    providers: 0,
    leases: 0,
    orders: 0,
    totalStaked: 0n,
    totalDeposited: 0n,
    totalPaidToProviders: 0n,
    totalRefunded: 0n,
    feesAccrued: 0n,
    feesWithdrawn: 0n,
    totalSlashed: 0n,
    totalCompensation: 0n,
    feeBps: 0,
    collateralSeconds: 0n,
    heartbeatThreshold: 0n,
    minProviderStake: 0n,
    maxBidsPerOrder: 0,
    jailCooldown: 0n,
    disputeWindow: 0n,
    minBidCollateralBps: 0,
    disputeBond: 0n,
    disputeAnswerWindow: 0n,
    disputeRulingWindow: 0n,
  });
}

type Totals = Partial<Omit<typeof protocol.$inferSelect, "id">>;

/** Adds `delta` to protocol totals (numbers and bigints). */
export async function addToProtocol(context: Context, delta: Totals) {
  await context.db.update(protocol, { id: PROTOCOL_ID }).set((row) => {
    const next: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(delta)) {
      const current = row[key as keyof typeof row];
      next[key] = typeof value === "bigint" ? (current as bigint) + value : (current as number) + (value as number);
    }
    return next;
  });
}

export type StakeDelta = { free?: bigint; locked?: bigint; unbonding?: bigint };
export type StakeRecord = { kind: string; amount: bigint; leaseId?: bigint; orderId?: bigint };
type StakeBuckets = Pick<typeof provider.$inferSelect, "stakeFree" | "stakeLocked" | "stakeUnbonding">;

/** A provider's stake buckets after `delta`: for a handler that writes the provider row once, stake and the rest
 *  together (each store call costs, even against Ponder's in-memory cache). */
export function stakeMoved(row: StakeBuckets, delta: StakeDelta): StakeBuckets {
  return {
    stakeFree: row.stakeFree + (delta.free ?? 0n),
    stakeLocked: row.stakeLocked + (delta.locked ?? 0n),
    stakeUnbonding: row.stakeUnbonding + (delta.unbonding ?? 0n),
  };
}

/** Records a movement of a provider's stake (its ledger row); a zero amount records nothing. */
export async function recordStakeChange(
  context: Context,
  event: { id: string; block: { timestamp: bigint } },
  address: Address,
  record: StakeRecord,
) {
  if (record.amount === 0n) return;
  await context.db.insert(stakeChange).values({
    id: `${event.id}-${record.kind}`,
    provider: address,
    kind: record.kind,
    amount: record.amount,
    leaseId: record.leaseId,
    orderId: record.orderId,
    timestamp: event.block.timestamp,
  });
}

type ProviderRow = typeof provider.$inferSelect;
type ProviderChange = Partial<Omit<ProviderRow, "address" | "changedBlock">>;

/**
 * The one way handlers write an existing provider row: it stamps `changedBlock` with the event's block, which is
 * how the search index (api/provider-index.ts) finds the rows that changed since it last looked. Returns the row
 * as written.
 */
export function updateProvider(
  context: Context,
  event: { block: { number: bigint } },
  address: Address,
  change: ProviderChange | ((row: ProviderRow) => ProviderChange),
) {
  return context.db.update(provider, { address }).set((row) => ({
    ...(typeof change === "function" ? change(row) : change),
    changedBlock: event.block.number,
  }));
}

/** Moves a provider's stake between its buckets and records the movement. */
export async function moveStake(
  context: Context,
  event: { id: string; block: { timestamp: bigint; number: bigint } },
  address: Address,
  delta: StakeDelta,
  record: StakeRecord,
) {
  await updateProvider(context, event, address, (row) => stakeMoved(row, delta));
  await recordStakeChange(context, event, address, record);
}

/** A bytes32 attribute as "key=value"; anything that does not decode is kept as hex rather than dropped. */
export function attributeText(attribute: Hex): string {
  try {
    const { key, value } = decodeAttribute(attribute);
    return `${key}=${value}`;
  } catch {
    return attribute;
  }
}
