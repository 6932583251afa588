import { ponder } from "ponder:registry";
import { dispute, protocol, provider } from "ponder:schema";
import { PROTOCOL_ID } from "./state.js";

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
  await context.db.update(provider, { address: a.provider }).set((row) => ({ disputesTotal: row.disputesTotal + 1 }));
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
  await context.db.update(provider, { address: row.provider }).set((p) => ({ disputesLost: p.disputesLost + 1 }));
});

ponder.on("DisputeCourt:DisputeDismissed", async ({ event, context }) => {
  await context.db
    .update(dispute, { id: event.args.disputeId })
    .set({ status: "dismissed", arbiter: event.args.arbiter, closedAt: event.block.timestamp });
});

ponder.on("DisputeCourt:DisputeLapsed", async ({ event, context }) => {
  await context.db
    .update(dispute, { id: event.args.disputeId })
    .set({ status: "lapsed", closedAt: event.block.timestamp });
});

ponder.on("DisputeCourt:AuthorityUpdated", async ({ event, context }) => {
  await context.db.update(protocol, { id: PROTOCOL_ID }).set({ courtAuthority: event.args.authority });
});
