// App vaults: AppCreated from the deployment's factory, then each vault's own events (Ponder follows the vaults the
// factory announced; see ponder.config.ts). Money the market moves for an app is recorded in PodnetMarket.ts.
import { ponder } from "ponder:registry";
import { app, appController, appSlot, autoscalerNode } from "ponder:schema";
import { erc20Abi } from "viem";
import { findApp, recordAppEvent } from "./apps.js";

const vaultTokenAbi = [
  { type: "function", name: "token", stateMutability: "view", inputs: [], outputs: [{ type: "address" }] },
] as const;

ponder.on("AppVaultFactory:AppCreated", async ({ event, context }) => {
  const { vault, owner, salt, specHash, configHash } = event.args;
  // The vault's token is immutable: read once. A transfer to the predicted address before the app existed counts.
  const token = await context.client.readContract({ address: vault, abi: vaultTokenAbi, functionName: "token" });
  const balance = await context.client.readContract({
    address: token,
    abi: erc20Abi,
    functionName: "balanceOf",
    args: [vault],
    blockNumber: event.block.number,
  });
  await context.db.insert(app).values({
    vault,
    owner,
    salt,
    specHash,
    configHash,
    // LimitsSet and ControllerSet follow in the same transaction (the vault's initialize).
    maxPricePerSecond: 0n,
    maxDepositPerLease: 0n,
    maxInstances: 0,
    token,
    balance,
    balanceBlock: event.block.number,
    fundedTotal: 0n,
    withdrawnTotal: 0n,
    spentTotal: 0n,
    returnedTotal: 0n,
    createdBlock: event.block.number,
    createdAt: event.block.timestamp,
    createdTransaction: event.transaction.hash,
  });
  await recordAppEvent(context, event, vault, { kind: "created", account: owner });
});

// ---------------------------------------------------------------- the owner's settings

ponder.on("AppVault:OwnershipTransferStarted", async ({ event, context }) => {
  const vault = event.log.address;
  if (!(await findApp(context, vault))) return;
  await context.db.update(app, { vault }).set({ pendingOwner: event.args.newOwner });
  await recordAppEvent(context, event, vault, { kind: "ownership_transfer_started", account: event.args.newOwner });
});

ponder.on("AppVault:OwnershipTransferred", async ({ event, context }) => {
  const vault = event.log.address;
  if (!(await findApp(context, vault))) return;
  await context.db.update(app, { vault }).set({ owner: event.args.newOwner, pendingOwner: null });
  // The first one (from address 0) is the vault's initialize: "created" already says who owns it.
  if (event.args.previousOwner !== "0x0000000000000000000000000000000000000000") {
    await recordAppEvent(context, event, vault, { kind: "ownership_transferred", account: event.args.newOwner });
  }
});

ponder.on("AppVault:ControllerSet", async ({ event, context }) => {
  const vault = event.log.address;
  if (!(await findApp(context, vault))) return;
  const { controller, allowed } = event.args;
  const values = { enabled: allowed, updatedBlock: event.block.number, updatedAt: event.block.timestamp };
  await context.db
    .insert(appController)
    .values({ app: vault, controller, ...values })
    .onConflictDoUpdate(values);
  await recordAppEvent(context, event, vault, { kind: "controller_set", account: controller });
});

ponder.on("AppVault:LimitsSet", async ({ event, context }) => {
  const vault = event.log.address;
  if (!(await findApp(context, vault))) return;
  const { maxPricePerSecond, maxDepositPerLease, maxInstances } = event.args;
  await context.db.update(app, { vault }).set({ maxPricePerSecond, maxDepositPerLease, maxInstances });
  await recordAppEvent(context, event, vault, { kind: "limits_set" });
});

ponder.on("AppVault:SpecUpdated", async ({ event, context }) => {
  const vault = event.log.address;
  if (!(await findApp(context, vault))) return;
  await context.db.update(app, { vault }).set({ specHash: event.args.specHash });
  await recordAppEvent(context, event, vault, { kind: "spec_updated" });
});

ponder.on("AppVault:ConfigUpdated", async ({ event, context }) => {
  const vault = event.log.address;
  if (!(await findApp(context, vault))) return;
  await context.db.update(app, { vault }).set({ configHash: event.args.configHash });
  await recordAppEvent(context, event, vault, { kind: "config_updated" });
});

ponder.on("AppVault:NetworkTermsSet", async ({ event, context }) => {
  const vault = event.log.address;
  if (!(await findApp(context, vault))) return;
  const { enabled, feePerReplacement, maxFeesPerDay } = event.args;
  await context.db.update(app, { vault }).set({ networkEnabled: enabled, feePerReplacement, maxFeesPerDay });
  await recordAppEvent(context, event, vault, { kind: "network_terms_set" });
});

// ---------------------------------------------------------------- money in and out

ponder.on("AppVault:NodeFeePaid", async ({ event, context }) => {
  const vault = event.log.address;
  if (!(await findApp(context, vault))) return;
  const { node, slot, newLease, amount } = event.args;
  await recordAppEvent(context, event, vault, {
    kind: "node_fee",
    amount,
    account: node,
    slot: Number(slot),
    leaseId: newLease,
  });
  // The vault pays only live nodes, which are registered: the row exists.
  await context.db
    .update(autoscalerNode, { address: node })
    .set((row) => ({ feesEarned: row.feesEarned + amount, replacements: row.replacements + 1 }));
});

ponder.on("AppVault:Funded", async ({ event, context }) => {
  const vault = event.log.address;
  if (!(await findApp(context, vault))) return;
  await recordAppEvent(context, event, vault, { kind: "funded", amount: event.args.amount, account: event.args.from });
});

ponder.on("AppVault:Withdrawn", async ({ event, context }) => {
  const vault = event.log.address;
  if (!(await findApp(context, vault))) return;
  await recordAppEvent(context, event, vault, { kind: "withdrawn", amount: event.args.amount, account: event.args.to });
});

// ---------------------------------------------------------------- instance slots

ponder.on("AppVault:SlotReplaced", async ({ event, context }) => {
  const vault = event.log.address;
  if (!(await findApp(context, vault))) return;
  const { slot, oldLease, newLease, by } = event.args;
  const values = {
    leaseId: newLease,
    updatedBy: by,
    updatedBlock: event.block.number,
    updatedAt: event.block.timestamp,
  };
  await context.db
    .insert(appSlot)
    .values({ app: vault, slot: Number(slot), ...values })
    .onConflictDoUpdate(values);
  await recordAppEvent(context, event, vault, {
    kind: "slot_replaced",
    account: by,
    slot: Number(slot),
    leaseId: newLease,
    previousLeaseId: oldLease === 0n ? undefined : oldLease,
  });
});

ponder.on("AppVault:SlotCleared", async ({ event, context }) => {
  const vault = event.log.address;
  if (!(await findApp(context, vault))) return;
  const { slot, lease, by } = event.args;
  const values = { leaseId: null, updatedBy: by, updatedBlock: event.block.number, updatedAt: event.block.timestamp };
  await context.db
    .insert(appSlot)
    .values({ app: vault, slot: Number(slot), ...values })
    .onConflictDoUpdate(values);
  await recordAppEvent(context, event, vault, {
    kind: "slot_cleared",
    account: by,
    slot: Number(slot),
    previousLeaseId: lease,
  });
});
