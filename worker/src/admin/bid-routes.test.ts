import type { ApiErrorBody } from "@podnet/sdk/protocol";
import { type Hex, zeroAddress } from "viem";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { stubReconciler } from "../api/stub-context.js";
import type { OpenOrder } from "../market/open-orders.js";
import { type StubWorker, stubTransactions, stubWorker } from "../market/stub-worker.js";
import { RouteTable } from "../pods/routes.js";
import { createAdminApi } from "./app.js";
import { AdminTokens } from "./tokens.js";

// The bidder addon's side of the admin API against a stub chain: open orders, bids, and every refusal of a bid, which
// names the field and changes nothing. The real chain and the real addon process: test/market-addon.test.ts.

vi.mock("../chain/tx-queue.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../chain/tx-queue.js")>()),
  sendContract: (await import("../market/stub-worker.js")).stubSendContract,
}));

const ORIGIN = "http://127.0.0.1:7071";
let stub: StubWorker;
let admin: ReturnType<typeof createAdminApi>;
let tokens: AdminTokens;

function order(orderId: bigint, over: Partial<OpenOrder> = {}): OpenOrder {
  return {
    orderId,
    publisher: zeroAddress,
    specHash: `0x${"ab".repeat(32)}` as Hex,
    resources: { cpuMillis: 100, memoryMiB: 64, storageMiB: 0 },
    maxPricePerSecond: 10n ** 6n,
    bidDeadline: stub.now + 600,
    autoAccept: false,
    requirements: { minStake: 0n, attributes: [] },
    ...over,
  };
}

beforeEach(() => {
  stub = stubWorker();
  stub.bidPlaced["5"] = [];
  stub.ctx.config = { ...stub.ctx.config, trustedProxies: [], adminSessionTtlSec: 3600, adminLinkTtlSec: 600 };
  tokens = new AdminTokens(stub.ctx.config.dataDir);
  admin = createAdminApi({
    ctx: stub.ctx,
    reconciler: stubReconciler(),
    ingressRoutes: new RouteTable("pods.localhost"),
    origins: () => [ORIGIN],
    tokens,
  });
  stub.ctx.openOrders.add(order(5n), stub.now);
});

const tokenWith = (...scopes: ("read" | "bids" | "listing")[]) => tokens.create("t", scopes, 3600).token;

function call(path: string, token: string, body?: unknown) {
  return admin.request(`${ORIGIN}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

const errorOf = async (res: Response) => ((await res.json()) as ApiErrorBody).error.message;

describe("GET /admin/v1/orders and /bids", () => {
  it("lists the open orders with money as decimal strings and the list price of their resources", async () => {
    const res = await call("/admin/v1/orders", tokenWith("read"));
    expect(res.status).toBe(200);
    const { orders } = (await res.json()) as { orders: Record<string, unknown>[] };
    // The stub's pricing: 3 per CPU milli, 2 per MiB, 1 per storage MiB, 5 flat.
    expect(orders).toEqual([
      expect.objectContaining({
        orderId: "5",
        maxPricePerSecond: "1000000",
        listPricePerSecond: String(3 * 100 + 2 * 64 + 5),
        requirements: { minStake: "0", attributes: [] },
      }),
    ]);
  });

  it("drops an order once its bidding closed", async () => {
    stub.now += 600;
    const { orders } = (await (await call("/admin/v1/orders", tokenWith("read"))).json()) as { orders: unknown[] };
    expect(orders).toEqual([]);
  });
});

describe("POST /admin/v1/bids", () => {
  it("places a bid through the tx queue and lists it", async () => {
    const token = tokenWith("read", "bids");
    const res = await call("/admin/v1/bids", token, { orderId: "5", pricePerSecond: "400" });
    expect(res.status).toBe(201);
    expect(stubTransactions.sent.map((c) => [c.functionName, c.args?.[0], c.args?.[1]])).toEqual([
      ["placeBid", 5n, 400n],
    ]);
    const { bids } = (await (await call("/admin/v1/bids", token)).json()) as { bids: Record<string, unknown>[] };
    expect(bids).toEqual([expect.objectContaining({ orderId: "5", pricePerSecond: "400", status: "placed" })]);
  });

  it("refuses a token without the bids scope (403), and sends nothing", async () => {
    const res = await call("/admin/v1/bids", tokenWith("read", "listing"), { orderId: "5", pricePerSecond: "400" });
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatch(/scope bids/);
    expect(stubTransactions.sent).toEqual([]);
    expect(stub.ctx.state.data.bids).toEqual({});
  });

  const refusals: [string, () => void, unknown, number, RegExp][] = [
    [
      "a price above the order's maximum",
      () => {},
      { orderId: "5", pricePerSecond: "1000001" },
      409,
      /^pricePerSecond: .*maximum/,
    ],
    ["a price that is no amount", () => {}, { orderId: "5", pricePerSecond: 400 }, 400, /^pricePerSecond: /],
    ["a zero price", () => {}, { orderId: "5", pricePerSecond: "0" }, 400, /^pricePerSecond: must be above zero/],
    ["an unknown order", () => {}, { orderId: "6", pricePerSecond: "400" }, 404, /^orderId: no open order 6/],
    ["a bad order id", () => {}, { orderId: "0x5", pricePerSecond: "400" }, 400, /^orderId: /],
    [
      "an order needing an attribute the provider lacks",
      () =>
        stub.ctx.openOrders.add(
          order(5n, { requirements: { minStake: 0n, attributes: [`0x${"cd".repeat(32)}`] } }),
          stub.now,
        ),
      { orderId: "5", pricePerSecond: "400" },
      409,
      /^orderId: .*requires the attribute 0xcdcd/,
    ],
    [
      "more than the free capacity",
      () =>
        stub.ctx.openOrders.add(order(5n, { resources: { cpuMillis: 4001, memoryMiB: 1, storageMiB: 0 } }), stub.now),
      { orderId: "5", pricePerSecond: "400" },
      409,
      /^orderId: .*free capacity \(cpuMillis: 4001 wanted, 4000 free\)/,
    ],
    [
      "after the bidding deadline",
      () => (stub.now += 600),
      { orderId: "5", pricePerSecond: "400" },
      404,
      /^orderId: .*closed/,
    ],
    [
      "while jailed",
      () => (stub.ctx.state.data.liveness.jailedUntil = stub.now + 60),
      { orderId: "5", pricePerSecond: "400" },
      409,
      /^orderId: this provider is not taking work/,
    ],
  ];
  for (const [what, arrange, body, status, message] of refusals) {
    it(`refuses ${what} with ${status}, naming the field, and reserves nothing`, async () => {
      arrange();
      const before = structuredClone(stub.ctx.state.data);
      const res = await call("/admin/v1/bids", tokenWith("bids"), body);
      expect(res.status).toBe(status);
      expect(await errorOf(res)).toMatch(message);
      expect(stubTransactions.sent).toEqual([]);
      expect(stub.ctx.state.data).toEqual(before);
    });
  }

  it("refuses a second bid on the same order (409) and keeps the first as it was", async () => {
    const token = tokenWith("bids");
    expect((await call("/admin/v1/bids", token, { orderId: "5", pricePerSecond: "400" })).status).toBe(201);
    const before = structuredClone(stub.ctx.state.data.bids);
    const res = await call("/admin/v1/bids", token, { orderId: "5", pricePerSecond: "300" });
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toMatch(/^orderId: .*bid on it already/);
    expect(stubTransactions.sent).toHaveLength(1);
    expect(stub.ctx.state.data.bids).toEqual(before);
  });

  it("two bids at once for the last of the capacity: one is placed, the other refused", async () => {
    stub.bidPlaced["6"] = [];
    stub.ctx.openOrders.add(order(5n, { resources: { cpuMillis: 3000, memoryMiB: 1, storageMiB: 0 } }), stub.now);
    stub.ctx.openOrders.add(order(6n, { resources: { cpuMillis: 3000, memoryMiB: 1, storageMiB: 0 } }), stub.now);
    const token = tokenWith("bids");
    const [a, b] = await Promise.all([
      call("/admin/v1/bids", token, { orderId: "5", pricePerSecond: "400" }),
      call("/admin/v1/bids", token, { orderId: "6", pricePerSecond: "400" }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    expect(stubTransactions.sent).toHaveLength(1);
  });
});
