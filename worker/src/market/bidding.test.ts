import { podnetMarketAbi } from "@podnet/sdk/protocol";
import { getAddress, type Hex, zeroAddress } from "viem";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { bidOnOrder, finalizeWonOrders } from "./bidding.js";
import type { OpenOrder } from "./open-orders.js";
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
const PRICE = 1000n;

function order(orderId: bigint, over: Partial<OpenOrder> = {}): OpenOrder {
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
    await bidOnOrder(stub.ctx, order(5n), PRICE);
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
    await bidOnOrder(stub.ctx, order(6n), PRICE);
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
    await bidOnOrder(stub.ctx, order(7n), PRICE);
    expect(tries).toBe(2);
    expect(sent[0]?.args?.[2]).toEqual([low, high]);
    expect(stub.ctx.state.data.bids["7"]?.status).toBe("placed");
  });

  it("places no bid while its own dark gap is still reportable, and says why", async () => {
    stub.ctx.state.data.liveness.darkGap = { from: stub.now - 1000, until: stub.now - 100 };
    const outcome = await bidOnOrder(stub.ctx, order(8n), PRICE);
    expect(sent).toHaveLength(0);
    expect(stub.ctx.state.data.bids["8"]).toBeUndefined();
    expect(outcome).toMatchObject({ placed: false, refusal: { status: 409, field: "orderId" } });
    expect(JSON.stringify(outcome)).toMatch(/not taking work: dark gap/);
    // Once the gap is past the market's window (darkGapUntil + heartbeatThreshold), it bids again.
    stub.now += 600;
    await bidOnOrder(stub.ctx, order(9n), PRICE);
    expect(sent.map((c) => c.functionName)).toEqual(["placeBid"]);
  });

  it("places no bid while jailed", async () => {
    stub.ctx.state.data.liveness.jailedUntil = stub.now + 10;
    const outcome = await bidOnOrder(stub.ctx, order(10n), PRICE);
    expect(sent).toHaveLength(0);
    expect(JSON.stringify(outcome)).toMatch(/not taking work: provider jailed/);
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

describe("bid refusals: the field and the reason, nothing sent, nothing reserved", () => {
  const refused = async (o: OpenOrder, price: bigint) => {
    const outcome = await bidOnOrder(stub.ctx, o, price);
    expect(outcome.placed).toBe(false);
    expect(sent).toHaveLength(0);
    expect(stub.ctx.state.data.bids).toEqual({});
    return outcome.placed ? undefined : outcome.refusal;
  };

  beforeEach(() => {
    stub.bidPlaced["20"] = [];
    stub.reads.getBid = () => ({ status: ACTIVE });
  });

  it("a price above the order's maximum", async () => {
    const refusal = await refused(order(20n, { maxPricePerSecond: 999n }), 1000n);
    expect(refusal).toMatchObject({ status: 409, field: "pricePerSecond" });
    expect(refusal?.reason).toMatch(/above the order's maximum of 999/);
  });

  it("a zero price", async () => {
    expect(await refused(order(20n), 0n)).toMatchObject({ status: 400, field: "pricePerSecond" });
  });

  it("an order requiring an attribute this provider lacks", async () => {
    const attr = `0x${"cd".repeat(32)}` as Hex;
    const refusal = await refused(order(20n, { requirements: { minStake: 0n, attributes: [attr] } }), PRICE);
    expect(refusal).toMatchObject({ field: "orderId" });
    expect(refusal?.reason).toContain(attr);
  });

  it("more than the free capacity, counting what running leases and open bids hold", async () => {
    stub.ctx.state.data.leases["1"] = {
      id: "1",
      publisher: zeroAddress,
      orderId: "0",
      specHash: `0x${"00".repeat(32)}`,
      resources: { cpuMillis: 3950, memoryMiB: 64, storageMiB: 0 },
      pricePerSecond: "1",
      startedAt: 1,
      status: "active",
    } as never;
    const refusal = await bidOnOrder(stub.ctx, order(20n), PRICE);
    expect(refusal).toMatchObject({ placed: false, refusal: { field: "orderId" } });
    expect(JSON.stringify(refusal)).toMatch(/cpuMillis: 100 wanted, 50 free/);
    expect(sent).toHaveLength(0);
    expect(Object.keys(stub.ctx.state.data.bids)).toEqual([]);
  });

  it("a second bid on the same order", async () => {
    expect((await bidOnOrder(stub.ctx, order(20n), PRICE)).placed).toBe(true);
    const before = structuredClone(stub.ctx.state.data.bids);
    const again = await bidOnOrder(stub.ctx, order(20n), PRICE - 1n);
    expect(again).toMatchObject({ placed: false, refusal: { field: "orderId" } });
    expect(JSON.stringify(again)).toMatch(/bid on it already/);
    expect(sent).toHaveLength(1);
    expect(stub.ctx.state.data.bids).toEqual(before);
  });

  it("after the bidding deadline", async () => {
    const refusal = await refused(order(20n, { bidDeadline: stub.now }), PRICE);
    expect(refusal?.reason).toMatch(/bidding closed/);
  });

  it("a bid the market reverts leaves no reservation behind", async () => {
    stubTransactions.refuse = async () => revertError(podnetMarketAbi, "MarketBidListMismatch", [20n, 1n, 2n]);
    const outcome = await bidOnOrder(stub.ctx, order(20n), PRICE);
    expect(outcome.placed).toBe(false);
    expect(stub.ctx.state.data.bids).toEqual({});
  });
});
