import { getAddress, keccak256, toBytes } from "viem";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { ChainEvent } from "../chain/follower.js";
import type { ContractCall } from "../chain/tx-queue.js";
import { answerDisputes, readEvidence } from "./disputes.js";
import { applyChainEvents } from "./events.js";
import { type StubWorker, stubParams, stubProvider, stubWorker } from "./stub-worker.js";

// Disputes on a lease that already ended: the court accepts them within the dispute window, and the worker answers
// them like any other, with evidence that still states what the lease ran although its pod and manifests are gone.

const sent: ContractCall[] = [];

vi.mock("../chain/tx-queue.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../chain/tx-queue.js")>()),
  sendContract: async (_chain: unknown, _txs: unknown, _label: string, call: ContractCall) => {
    sent.push(call);
    return { logs: [] };
  },
}));

const publisher = getAddress("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
const specHash = `0x${"cd".repeat(32)}` as const;
let stub: StubWorker;

const event = (eventName: string, args: Record<string, unknown>) =>
  ({ eventName, args, blockNumber: 100n }) as unknown as ChainEvent;

beforeEach(() => {
  sent.length = 0;
  stub = stubWorker();
  stub.ctx.state.data.leases["3"] = {
    id: "3",
    publisher,
    orderId: "0",
    specHash,
    resources: { cpuMillis: 100, memoryMiB: 64, storageMiB: 0 },
    pricePerSecond: "10",
    startedAt: stub.now - 5000,
    status: "active",
    manifestSpecHash: specHash,
  };
});

describe("a dispute on a closed lease", () => {
  it("is answered within the answer window, with evidence stating the closed lease and the manifest it ran", async () => {
    const endedAt = stub.now - 100;
    await applyChainEvents(stub.ctx, [
      event("LeaseClosed", {
        leaseId: 3n,
        closedBy: publisher,
        reason: 1,
        endedAt: BigInt(endedAt),
        owed: 49_000n,
        refund: 1000n,
        collateralHeld: 864_000n,
        releasableAt: BigInt(endedAt + stubParams.disputeWindow),
      }),
      event("DisputeOpened", {
        disputeId: 9n,
        leaseId: 3n,
        publisher,
        provider: stubProvider.address,
        bond: 10n,
        evidenceURI: "ipfs://publisher-evidence",
        answerBy: BigInt(stub.now + 3600),
        ruleBy: BigInt(stub.now + 7200),
      }),
    ]);
    expect(stub.ctx.state.data.disputes["9"]?.status).toBe("open");
    await answerDisputes(stub.ctx, stub.now);
    expect(sent.map((c) => c.functionName)).toEqual(["answerDispute"]);
    const uri = String(sent[0]?.args?.[1]);
    const body = readEvidence(stub.ctx, "9") as string;
    expect(uri).toContain(`#keccak256=${keccak256(toBytes(body))}`);
    const document = JSON.parse(body);
    expect(document.lease).toMatchObject({ status: "closed", closedAt: endedAt, manifestSpecHash: specHash });
    expect(document.containers).toEqual([]);
    expect(stub.ctx.state.data.disputes["9"]?.status).toBe("answered");
  });
});
