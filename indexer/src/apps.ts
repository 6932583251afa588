// Shared writes for app vaults: the event log and the balance, from the vault's own handlers and from the market's
// and the court's when the vault is a lease's or an order's publisher.
import type { Context } from "ponder:registry";
import { app, appEvent } from "ponder:schema";
import { type Address, erc20Abi, type Hex } from "viem";

/** What a handler knows about the event it handles. */
export type EventInfo = {
  id: string;
  block: { number: bigint; timestamp: bigint };
  transaction: { hash: Hex };
};

/** The app whose vault is `address`, or null for any other address (an EOA publisher, another factory's vault). */
export async function findApp(context: Context, address: Address) {
  return context.db.find(app, { vault: address });
}

/** Which totals of the app a logged amount adds to. */
const totalOf: Record<
  string,
  "fundedTotal" | "withdrawnTotal" | "spentTotal" | "returnedTotal" | "nodeFeesTotal" | undefined
> = {
  funded: "fundedTotal",
  withdrawn: "withdrawnTotal",
  lease_deposit: "spentTotal",
  lease_top_up: "spentTotal",
  order_deposit: "spentTotal",
  dispute_bond: "spentTotal",
  lease_refund: "returnedTotal",
  order_refund: "returnedTotal",
  compensation: "returnedTotal",
  dispute_bond_returned: "returnedTotal",
  node_fee: "nodeFeesTotal",
};

export type AppEventRecord = {
  kind: string;
  amount?: bigint;
  account?: Address;
  slot?: number;
  leaseId?: bigint;
  previousLeaseId?: bigint;
  orderId?: bigint;
};

/**
 * Records what happened to the app at `vault` (one row per event and kind), adds a money kind's amount to its
 * totals, and when money moved reads the balance again. `suffix` keeps two rows of one event apart.
 */
export async function recordAppEvent(
  context: Context,
  event: EventInfo,
  vault: Address,
  record: AppEventRecord,
  suffix = "",
) {
  await context.db.insert(appEvent).values({
    id: `${event.id}${suffix}`,
    app: vault,
    kind: record.kind,
    amount: record.amount,
    account: record.account,
    slot: record.slot,
    leaseId: record.leaseId,
    previousLeaseId: record.previousLeaseId,
    orderId: record.orderId,
    blockNumber: event.block.number,
    timestamp: event.block.timestamp,
    transactionHash: event.transaction.hash,
  });
  const total = totalOf[record.kind];
  if (total === undefined) return;
  // Money moved: the total and the balance in one write of the app row.
  const row = await context.db.find(app, { vault });
  if (!row) return;
  const balance =
    row.balanceBlock === event.block.number ? undefined : await balanceAt(context, event, row.token, vault);
  if (record.amount === undefined && balance === undefined) return;
  await context.db.update(app, { vault }).set({
    ...(record.amount !== undefined ? { [total]: row[total] + record.amount } : {}),
    ...(balance !== undefined ? { balance, balanceBlock: event.block.number } : {}),
  });
}

/**
 * The token's balanceOf(vault) at the event's block (the state after that whole block). The balance is read rather
 * than summed from flows: tokens transferred to a vault directly count too (docs/contracts.md) and no event the
 * indexer follows announces them; a read catches them at the app's next money event. One read per block.
 */
async function balanceAt(context: Context, event: EventInfo, token: Address, vault: Address) {
  return context.client.readContract({
    address: token,
    abi: erc20Abi,
    functionName: "balanceOf",
    args: [vault],
    blockNumber: event.block.number,
  });
}
