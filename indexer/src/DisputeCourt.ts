import { type Context, ponder } from "ponder:registry";
import { dispute, protocol } from "ponder:schema";
import { type EventInfo, findApp, recordAppEvent } from "./apps.js";
import { PROTOCOL_ID, updateProvider } from "./state.js";

ponder.on("DisputeCourt:CourtParamsUpdated", async ({ event, context }) => {
  const { params } = event.args;
  await context.db.update(protocol, { id: PROTOCOL_ID }).set({
    disputeBond: params.disputeBond,
    disputeAnswerWindow: BigInt(params.answerWindow),
    disputeRulingWindow: BigInt(params.rulingWindow),
  });
});

ponder.on("DisputeCourt:DisputeOpened", async ({ event, context }) => {
  const a = event.args;
  await context.db.insert(dispute).values({
    id: a.disputeId,
    leaseId: a.leaseId,
    publisher: a.publisher,
    provider: a.provider,
    bond: a.bond,
    evidenceUri: a.evidenceURI,
    answerBy: BigInt(a.answerBy),
    ruleBy: BigInt(a.ruleBy),
    status: "open",
    openedAt: event.block.timestamp,
  });
  await updateProvider(context, event, a.provider, (row) => ({ disputesTotal: row.disputesTotal + 1 }));
  // An app's owner opens disputes through its vault, which pays the bond.
  if (a.bond > 0n && (await findApp(context, a.publisher))) {
    await recordAppEvent(context, event, a.publisher, { kind: "dispute_bond", amount: a.bond, leaseId: a.leaseId });
  }
});

ponder.on("DisputeCourt:DisputeAnswered", async ({ event, context }) => {
  await context.db.update(dispute, { id: event.args.disputeId }).set({ answerUri: event.args.evidenceURI });
});

ponder.on("DisputeCourt:DisputeSlashed", async ({ event, context }) => {
  const { disputeId, arbiter, requested, slashed } = event.args;
  const row = await context.db.update(dispute, { id: disputeId }).set({
    status: "slashed",
    arbiter,
    slashRequested: requested,
    slashed,
    closedAt: event.block.timestamp,
  });
  await updateProvider(context, event, row.provider, (p) => ({ disputesLost: p.disputesLost + 1 }));
  await bondReturned(context, event, row);
});

ponder.on("DisputeCourt:DisputeDismissed", async ({ event, context }) => {
  await context.db
    .update(dispute, { id: event.args.disputeId })
    .set({ status: "dismissed", arbiter: event.args.arbiter, closedAt: event.block.timestamp });
});

ponder.on("DisputeCourt:DisputeLapsed", async ({ event, context }) => {
  const row = await context.db
    .update(dispute, { id: event.args.disputeId })
    .set({ status: "lapsed", closedAt: event.block.timestamp });
  await bondReturned(context, event, row);
});

/** A slash or a lapse pays the bond back to the publisher (a dismissal pays it to the provider). */
async function bondReturned(context: Context, event: EventInfo, row: typeof dispute.$inferSelect) {
  if (row.bond > 0n && (await findApp(context, row.publisher))) {
    await recordAppEvent(context, event, row.publisher, {
      kind: "dispute_bond_returned",
      amount: row.bond,
      leaseId: row.leaseId,
    });
  }
}

ponder.on("DisputeCourt:AuthorityUpdated", async ({ event, context }) => {
  await context.db.update(protocol, { id: PROTOCOL_ID }).set({ courtAuthority: event.args.authority });
});
