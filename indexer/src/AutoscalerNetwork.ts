// The autoscaler network: nodes (profile, stake, heartbeats, exit) and its parameters. Fees apps pay the nodes are
// recorded from the vaults' NodeFeePaid (AppVault.ts).
import { ponder } from "ponder:registry";
import { autoscalerNode, networkParams } from "ponder:schema";

ponder.on("AutoscalerNetwork:NetworkParamsSet", async ({ event, context }) => {
  const { minStake, heartbeatPeriod, livenessWindow, exitDelay } = event.args;
  const values = { minStake, heartbeatPeriod, livenessWindow, exitDelay };
  await context.db
    .insert(networkParams)
    .values({ id: "network", ...values })
    .onConflictDoUpdate(values);
});

ponder.on("AutoscalerNetwork:NodeRegistered", async ({ event, context }) => {
  const { node, endpoint, encryptionKey, dnsIpv4, dnsIpv6, stake } = event.args;
  const values = {
    status: "active",
    endpoint,
    encryptionKey,
    dnsIpv4,
    dnsIpv6,
    stake,
    registeredAt: event.block.timestamp,
    // NodeHeartbeat follows in the same transaction.
    lastHeartbeat: event.block.timestamp,
    exitAt: null,
  };
  // A node that withdrew may register again: its fee history stays.
  await context.db
    .insert(autoscalerNode)
    .values({ address: node, ...values, heartbeats: 0, feesEarned: 0n, replacements: 0 })
    .onConflictDoUpdate(values);
});

ponder.on("AutoscalerNetwork:NodeUpdated", async ({ event, context }) => {
  const { node, endpoint, encryptionKey, dnsIpv4, dnsIpv6 } = event.args;
  await context.db.update(autoscalerNode, { address: node }).set({ endpoint, encryptionKey, dnsIpv4, dnsIpv6 });
});

ponder.on("AutoscalerNetwork:NodeHeartbeat", async ({ event, context }) => {
  const { node, at } = event.args;
  await context.db
    .update(autoscalerNode, { address: node })
    .set((row) => ({ lastHeartbeat: at, heartbeats: row.heartbeats + 1 }));
});

ponder.on("AutoscalerNetwork:NodeStakeAdded", async ({ event, context }) => {
  await context.db.update(autoscalerNode, { address: event.args.node }).set({ stake: event.args.stake });
});

ponder.on("AutoscalerNetwork:NodeExitStarted", async ({ event, context }) => {
  await context.db
    .update(autoscalerNode, { address: event.args.node })
    .set({ status: "exiting", exitAt: event.args.exitAt });
});

ponder.on("AutoscalerNetwork:NodeStakeWithdrawn", async ({ event, context }) => {
  await context.db
    .update(autoscalerNode, { address: event.args.node })
    .set({ status: "withdrawn", stake: 0n, exitAt: null });
});
