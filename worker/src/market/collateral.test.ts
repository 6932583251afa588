import { podnetMarketAbi } from "@podnet/sdk/protocol";
import { getAddress } from "viem";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { ChainEvent } from "../chain/follower.js";
import type { LeaseRecord } from "../store/worker-state.js";
import { releaseHeldCollateral } from "./collateral.js";
import { applyChainEvents } from "./events.js";
import { revertError, type StubWorker, stubParams, stubProvider, stubTransactions, stubWorker } from "./stub-worker.js";

// Collateral a closed lease leaves held for the dispute window: recorded from LeaseClosed, released by the worker
// once releasable (never while a dispute holds it), forgotten once released by anyone.

const { sent } = stubTransactions;

vi.mock("../chain/tx-queue.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../chain/tx-queue.js")>()),
  sendContract: (await import("./stub-worker.js")).stubSendContract,
}));

const publisher = getAddress("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
let stub: StubWorker;

const event = (eventName: string, args: Record<string, unknown>) =>
  ({ eventName, args, blockNumber: 100n }) as unknown as ChainEvent;

function activeLease(id: string): LeaseRecord {
  return {
    id,
    publisher,
    orderId: "0",
    specHash: `0x${"cd".repeat(32)}`,
    resources: { cpuMillis: 100, memoryMiB: 64, storageMiB: 0 },
    pricePerSecond: "10",
    startedAt: stub.now - 1000,
    status: "active",
  };
}

const closed = (leaseId: bigint, endedAt: number, held: bigint) =>
  event("LeaseClosed", {
    leaseId,
    closedBy: publisher,
    reason: 1,
    endedAt: BigInt(endedAt),
    owed: 500n,
    refund: 100n,
    collateralHeld: held,
    releasableAt: held === 0n ? 0n : BigInt(endedAt + stubParams.disputeWindow),
  });

beforeEach(() => {
  stub = stubWorker();
  stub.ctx.state.data.leases["1"] = activeLease("1");
});

describe("held collateral", () => {
  it("is recorded from LeaseClosed and released with releaseCollateral from releasableAt on, not before", async () => {
    const endedAt = stub.now;
    await applyChainEvents(stub.ctx, [closed(1n, endedAt, 864_000n)]);
    expect(stub.ctx.state.data.leases["1"]?.collateral).toEqual({
      held: "864000",
      releasableAt: endedAt + stubParams.disputeWindow,
    });
    stub.now = endedAt + stubParams.disputeWindow - 1;
    await releaseHeldCollateral(stub.ctx, stub.now);
    expect(sent).toEqual([]);
    stub.now += 1;
    await releaseHeldCollateral(stub.ctx, stub.now);
    expect(sent.map((c) => [c.functionName, c.args])).toEqual([["releaseCollateral", [1n]]]);
    // The CollateralReleased event (the worker's own, or anyone's) ends it: nothing is sent again.
    await applyChainEvents(stub.ctx, [
      event("CollateralReleased", { leaseId: 1n, provider: stubProvider.address, amount: 864_000n }),
    ]);
    expect(stub.ctx.state.data.leases["1"]?.collateral).toBeUndefined();
    await releaseHeldCollateral(stub.ctx, stub.now + 10);
    expect(sent).toHaveLength(1);
  });

  it("judges the window with the disputeWindow in force, as the market does (a governance change moves it)", async () => {
    const endedAt = stub.now;
    await applyChainEvents(stub.ctx, [closed(1n, endedAt, 864_000n)]);
    await applyChainEvents(stub.ctx, [
      event("ParamsUpdated", { params: { ...stubParams, disputeWindow: stubParams.disputeWindow + 3600 } }),
    ]);
    stub.now = endedAt + stubParams.disputeWindow;
    await releaseHeldCollateral(stub.ctx, stub.now);
    expect(sent).toEqual([]);
    stub.now += 3600;
    await releaseHeldCollateral(stub.ctx, stub.now);
    expect(sent.map((c) => c.functionName)).toEqual(["releaseCollateral"]);
  });

  it("records nothing when the close released it already (held 0)", async () => {
    await applyChainEvents(stub.ctx, [closed(1n, stub.now - stubParams.disputeWindow - 5, 0n)]);
    expect(stub.ctx.state.data.leases["1"]?.status).toBe("closed");
    expect(stub.ctx.state.data.leases["1"]?.collateral).toBeUndefined();
  });

  it("is left alone while a dispute on the lease is not ruled, and forgotten when the ruling released it", async () => {
    await applyChainEvents(stub.ctx, [
      closed(1n, stub.now, 864_000n),
      event("DisputeOpened", {
        disputeId: 4n,
        leaseId: 1n,
        publisher,
        provider: stubProvider.address,
        bond: 10n,
        evidenceURI: "ipfs://evidence",
        answerBy: BigInt(stub.now + 3600),
        ruleBy: BigInt(stub.now + 7200),
      }),
    ]);
    stub.now += stubParams.disputeWindow + 10;
    await releaseHeldCollateral(stub.ctx, stub.now);
    expect(sent).toEqual([]);
    // The ruling settles the hold on chain (the rest goes back to free stake): nothing left to release.
    await applyChainEvents(stub.ctx, [
      event("DisputeSettled", { leaseId: 1n, slashed: 1000n, released: 863_000n }),
      event("DisputeDismissed", { disputeId: 4n, arbiter: publisher }),
    ]);
    expect(stub.ctx.state.data.leases["1"]?.collateral).toBeUndefined();
    await releaseHeldCollateral(stub.ctx, stub.now);
    expect(sent).toEqual([]);
  });

  it("takes a release someone else made first (MarketCollateralNotHeld) as done", async () => {
    await applyChainEvents(stub.ctx, [closed(1n, stub.now, 864_000n)]);
    stub.now += stubParams.disputeWindow;
    stubTransactions.refuse = () => revertError(podnetMarketAbi, "MarketCollateralNotHeld", [1n]);
    await releaseHeldCollateral(stub.ctx, stub.now);
    expect(stub.ctx.state.data.leases["1"]?.collateral).toBeUndefined();
    expect(stub.logs.filter((l) => l.level === "warn")).toEqual([]);
  });

  it("waits for a dispute opened by the publisher before the worker saw it (MarketLeaseDisputed), then tries again", async () => {
    await applyChainEvents(stub.ctx, [closed(1n, stub.now, 864_000n)]);
    stub.now += stubParams.disputeWindow;
    stubTransactions.refuse = () => revertError(podnetMarketAbi, "MarketLeaseDisputed", [1n]);
    await releaseHeldCollateral(stub.ctx, stub.now);
    expect(stub.ctx.state.data.leases["1"]?.collateral?.held).toBe("864000");
    stubTransactions.refuse = undefined;
    await releaseHeldCollateral(stub.ctx, stub.now + 60);
    expect(sent.map((c) => c.functionName)).toEqual(["releaseCollateral"]);
  });
});

describe("liveness events", () => {
  it("keep the provider's own dark gap and jail in the state; unjail clears both; other providers' are ignored", async () => {
    const other = getAddress("0x90f79bf6eb2c4f870365e785982e1f101e93b906");
    await applyChainEvents(stub.ctx, [
      event("DarkGapRecorded", { provider: other, from: 1, until: 2, reportableUntil: 602 }),
      event("ProviderReportedDark", {
        provider: other,
        reporter: publisher,
        epoch: 0,
        darkAt: 1n,
        slashed: 1n,
        reward: 0n,
        returned: 0n,
        jailedUntil: 99,
      }),
    ]);
    expect(stub.ctx.state.data.liveness).toEqual({});
    await applyChainEvents(stub.ctx, [
      event("DarkGapRecorded", { provider: stubProvider.address, from: 1000, until: 2000, reportableUntil: 2600 }),
    ]);
    expect(stub.ctx.state.data.liveness).toEqual({ darkGap: { from: 1000, until: 2000 } });
    await applyChainEvents(stub.ctx, [
      event("ProviderReportedDark", {
        provider: stubProvider.address,
        reporter: publisher,
        epoch: 0,
        darkAt: 1000n,
        slashed: 1n,
        reward: 0n,
        returned: 0n,
        jailedUntil: 90_000,
      }),
    ]);
    expect(stub.ctx.state.data.liveness.jailedUntil).toBe(90_000);
    await applyChainEvents(stub.ctx, [event("ProviderUnjailed", { provider: stubProvider.address, epoch: 1 })]);
    expect(stub.ctx.state.data.liveness).toEqual({});
  });

  it("ParamsUpdated replaces the parameters the worker judges with", async () => {
    await applyChainEvents(stub.ctx, [event("ParamsUpdated", { params: { ...stubParams, heartbeatThreshold: 60 } })]);
    expect(stub.ctx.params.heartbeatThreshold).toBe(60);
  });
});
