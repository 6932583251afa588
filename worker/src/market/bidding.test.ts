import { podnetMarketAbi } from "@podnet/sdk/protocol";
import { getAddress, type Hex, zeroAddress } from "viem";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { considerOrder, finalizeWonOrders } from "./bidding.js";
import { revertError, type StubWorker, stubProvider, stubTransactions, stubWorker } from "./stub-worker.js";

// The bid engine against a stub chain: what it sends to placeBid/finalizeOrder, and how it takes a refusal.

const { sent } = stubTransactions;

vi.mock("../chain/tx-queue.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../chain/tx-queue.js")>()),
  sendContract: (await import("./stub-worker.js")).stubSendContract,
}));

const low = getAddress("0x0000000000000000000000000000000000000a11");
const high = getAddress("0xfff0000000000000000000000000000000000001");
const ACTIVE = 1;
const EVICTED = 4;

let stub: StubWorker;

function order(orderId: bigint, over: Partial<Parameters<typeof considerOrder>[1]> = {}) {
  return {
    orderId,
    publisher: zeroAddress,
    specHash: `0x${"ab".repeat(32)}` as Hex,
    resources: { cpuMillis: 100, memoryMiB: 64, storageMiB: 0 },
    maxPricePerSecond: 10n ** 9n,
    bidDeadline: stub.now + 600,
    autoAccept: false,
    requirements: { minStake: 0n, attributes: [] as Hex[] },
    ...over,
  };
}

beforeEach(() => {
  stub = stubWorker();
});

describe("placeBid", () => {
  it("sends the order's standing bidders from the chain (active bids only, ascending), read from the deploy block", async () => {
    stub.bidPlaced["5"] = [high, stubProvider.address, low];
    const status: Record<string, number> = { [high]: ACTIVE, [low]: ACTIVE, [stubProvider.address]: EVICTED };
    stub.reads.getBid = ([, provider]) => ({ status: status[provider as string] });
    await considerOrder(stub.ctx, order(5n));
    expect(sent).toHaveLength(1);
    expect(sent[0]?.functionName).toBe("placeBid");
    expect(sent[0]?.args?.[0]).toBe(5n);
    expect(sent[0]?.args?.[2]).toEqual([low, high]);
    expect(stub.ctx.state.data.bids["5"]?.status).toBe("placed");
  });

  it("takes a full order that its price does not beat (MarketBidNotBetter) as a bid not placed, not an error", async () => {
    stub.bidPlaced["6"] = [low, high];
    stub.reads.getBid = () => ({ status: ACTIVE });
    stubTransactions.refuse = async (call) =>
      call.functionName === "placeBid"
        ? revertError(podnetMarketAbi, "MarketBidNotBetter", [6n, 1000n, 900n])
        : undefined;
    await considerOrder(stub.ctx, order(6n));
    expect(sent).toHaveLength(0);
    expect(stub.ctx.state.data.bids["6"]).toBeUndefined();
    expect(stub.logs.filter((l) => l.level === "warn" || l.level === "error")).toEqual([]);
    const line = stub.logs.find((l) => l.message === "bid not placed");
    expect(line?.level).toBe("info");
    expect(String(line?.fields?.reason)).toMatch(/full/);
  });

  it("reads the list again and retries once when another bid changed it in between (MarketBidListMismatch)", async () => {
    stub.bidPlaced["7"] = [low];
    stub.reads.getBid = () => ({ status: ACTIVE });
    let tries = 0;
    stubTransactions.refuse = async () => {
      tries++;
      if (tries > 1) return undefined;
      stub.bidPlaced["7"] = [low, high]; // a rival's bid landed first
      return revertError(podnetMarketAbi, "MarketBidListMismatch", [7n, 1n, 2n]);
    };
    await considerOrder(stub.ctx, order(7n));
    expect(tries).toBe(2);
    expect(sent[0]?.args?.[2]).toEqual([low, high]);
    expect(stub.ctx.state.data.bids["7"]?.status).toBe("placed");
  });

  it("places no bid while its own dark gap is still reportable, and says why", async () => {
    stub.ctx.state.data.liveness.darkGap = { from: stub.now - 1000, until: stub.now - 100 };
    await considerOrder(stub.ctx, order(8n));
    expect(sent).toHaveLength(0);
    expect(stub.ctx.state.data.bids["8"]).toBeUndefined();
    const line = stub.logs.find((l) => l.message === "not bidding");
    expect(line?.level).toBe("info");
    expect(String(line?.fields?.reason)).toMatch(/dark gap/);
    // Once the gap is past the market's window (darkGapUntil + heartbeatThreshold), it bids again.
    stub.now += 600;
    await considerOrder(stub.ctx, order(9n));
    expect(sent.map((c) => c.functionName)).toEqual(["placeBid"]);
  });

  it("places no bid while jailed", async () => {
    stub.ctx.state.data.liveness.jailedUntil = stub.now + 10;
    await considerOrder(stub.ctx, order(10n));
    expect(sent).toHaveLength(0);
    expect(String(stub.logs.find((l) => l.message === "not bidding")?.fields?.reason)).toMatch(/jailed/);
  });
});

describe("finalizeOrder", () => {
  it("sends the standing bidders of an auto-accept order it leads", async () => {
    stub.ctx.state.data.bids["11"] = {
      orderId: "11",
      resources: { cpuMillis: 100, memoryMiB: 64, storageMiB: 0 },
      pricePerSecond: "1",
      bidDeadline: stub.now - 1,
      autoAccept: true,
      status: "placed",
    };
    stub.reads.getOrder = () => ({ status: 1, bestBidder: stubProvider.address });
    stub.bidPlaced["11"] = [stubProvider.address, low];
    stub.reads.getBid = () => ({ status: ACTIVE });
    await finalizeWonOrders(stub.ctx, new Set());
    expect(sent.map((c) => c.functionName)).toEqual(["finalizeOrder"]);
    expect(sent[0]?.args).toEqual([11n, [low, stubProvider.address].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))]);
  });
});
