import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalJson, disputeCourtAbi, providerApiPaths } from "@podnet/sdk/protocol";
import { keccak256, toBytes } from "viem";
import { revertName, sendContract } from "../chain/tx-queue.js";
import { apiEndpoint } from "../config.js";
import type { WorkerContext } from "../context.js";
import { writeFileAtomic } from "../store/atomic-file.js";
import type { DisputeRecord } from "../store/worker-state.js";

/**
 * Answers disputes opened on this provider's leases, within the court's answer window, so the arbiter hears the
 * provider before ruling instead of waiting for the window to end. The answer is an evidence document the worker
 * writes from what it knows of the lease (its on-chain terms, the pod's containers, the lease's event log) and serves
 * publicly on its API; the on-chain URI carries the document's keccak256 as its fragment, so anyone can check the
 * document they fetch is the one the provider committed to. The document holds no secret: the event log is what the
 * publisher already sees, and container states and image references are not confidential.
 *
 * Closed leases are answered the same way: the court accepts disputes on a lease that ended within the market's
 * dispute window (its collateral is still held), and the lease record, its event log and its last manifest's hash
 * outlive the pod.
 */
export async function answerDisputes(ctx: WorkerContext, now: number): Promise<void> {
  for (const dispute of Object.values(ctx.state.data.disputes)) {
    if (dispute.status !== "open") continue;
    if (now > dispute.answerBy) {
      dispute.status = "missed";
      ctx.log.warn("a dispute's answer window closed before the worker answered", { dispute: dispute.id });
      ctx.state.save();
      continue;
    }
    await answer(ctx, dispute);
  }
}

async function answer(ctx: WorkerContext, dispute: DisputeRecord) {
  const document = await evidenceDocument(ctx, dispute);
  const body = canonicalJson(document);
  // Written before the transaction: the URI on chain must resolve the moment it is there.
  writeFileAtomic(evidenceFile(ctx, dispute.id), body, 0o644);
  const uri = `${apiEndpoint(ctx.config).replace(/\/+$/, "")}${providerApiPaths.disputeEvidence(BigInt(dispute.id))}#keccak256=${keccak256(toBytes(body))}`;
  try {
    await sendContract(ctx.chain, ctx.txs, `answerDispute ${dispute.id}`, {
      address: ctx.chain.deployment.contracts.disputeCourt.address,
      abi: disputeCourtAbi,
      functionName: "answerDispute",
      args: [BigInt(dispute.id), uri],
    });
  } catch (error) {
    const reason = revertName(error);
    // Answered already (by the provider by hand, or before a crash) or too late: nothing left to do for it.
    if (reason === "CourtAlreadyAnswered") dispute.status = "answered";
    else if (reason === "CourtAnswerWindowClosed" || reason === "CourtDisputeNotOpen") dispute.status = "missed";
    else throw error;
    ctx.log.warn("dispute not answered", { dispute: dispute.id, reason });
    ctx.state.save();
    return;
  }
  dispute.status = "answered";
  dispute.answerURI = uri;
  ctx.state.recordEvent(dispute.leaseId, "dispute-answered", `dispute ${dispute.id} answered with ${uri}`);
  ctx.log.info("dispute answered", { dispute: dispute.id, lease: dispute.leaseId, uri });
}

/** What the provider states about the lease: its terms as this worker knows them, the pod's containers, the log. */
async function evidenceDocument(ctx: WorkerContext, dispute: DisputeRecord) {
  const lease = ctx.state.data.leases[dispute.leaseId];
  const containers = (await ctx.runtime.listContainers()).filter((c) => c.leaseId.toString() === dispute.leaseId);
  return {
    version: 1,
    kind: "podnet-dispute-answer",
    chainId: ctx.chain.deployment.chainId,
    court: ctx.chain.deployment.contracts.disputeCourt.address,
    disputeId: dispute.id,
    leaseId: dispute.leaseId,
    provider: ctx.chain.account.address,
    publisher: dispute.publisher,
    publisherEvidence: dispute.evidenceURI,
    writtenAt: ctx.chainNow(),
    lease: lease
      ? {
          specHash: lease.specHash,
          pricePerSecond: lease.pricePerSecond,
          startedAt: lease.startedAt,
          status: lease.status,
          /** When it ended (a closed lease stays disputable for the market's dispute window); null while it runs. */
          closedAt: lease.closedAt ?? null,
          /** The newest manifest the publisher sent for the lease (none: it never sent one). A closed lease's
           *  manifests are deleted with its pod; the lease record keeps the hash. */
          manifestSpecHash: ctx.manifests.list(dispute.leaseId)[0]?.specHash ?? lease.manifestSpecHash ?? null,
        }
      : null,
    containers: containers.map((c) => ({
      name: c.container,
      replica: c.replica,
      specHash: c.specHash,
      image: c.image,
      state: c.state,
    })),
    events: ctx.state.data.events[dispute.leaseId] ?? [],
  };
}

function evidenceFile(ctx: WorkerContext, disputeId: string): string {
  const dir = join(ctx.config.dataDir, "evidence");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return join(dir, `${disputeId}.json`);
}

/** The evidence document the worker answered dispute `disputeId` with, exactly as hashed; undefined when none. */
export function readEvidence(ctx: WorkerContext, disputeId: string): string | undefined {
  if (!/^[1-9][0-9]{0,30}$/.test(disputeId)) return undefined;
  const file = join(ctx.config.dataDir, "evidence", `${disputeId}.json`);
  return existsSync(file) ? readFileSync(file, "utf8") : undefined;
}
