import type { FoundProvider } from "@podnet/sdk";
import { parseAppConfig } from "@podnet/sdk/protocol";
import { type Address, getAddress } from "viem";
import { describe, expect, it } from "vitest";
import {
  adoptedInstanceStart,
  desiredInstances,
  filterCandidates,
  judgeInstance,
  nextSpecUpdate,
  orderStep,
  pickBid,
  probeWindowSeconds,
  quoteOrder,
  scaleDownSlots,
  topUpAmount,
} from "./placement.js";

const addr = (n: number) => getAddress(`0x${n.toString(16).padStart(40, "0")}`) as Address;

function found(n: number, over: Partial<FoundProvider> = {}): FoundProvider {
  return {
    address: addr(n),
    endpoint: `http://127.0.0.1:${7000 + n}`,
    pricePerSecond: 100n,
    uptimeBps: 10_000,
    stakeFree: 1000n,
    stakeLocked: 0n,
    lastHeartbeat: 1,
    disputesLost: 0,
    attributes: ["region=eu"],
    ...over,
  };
}

const config = (placement: Record<string, unknown> = {}, target = 2) =>
  parseAppConfig({
    version: 1,
    instances: { min: 0, target, maxPerProvider: 1 },
    price: { maxPerInstance: "1000" },
    placement,
    funding: { depositPerLease: "100000000", keepFunded: "60s" },
    health: { type: "http", path: "/" },
  });

const filter = (list: FoundProvider[], over: Partial<Parameters<typeof filterCandidates>[0]> = {}) =>
  filterCandidates({
    found: list,
    placement: config().placement,
    maxPricePerSecond: 1000n,
    maxPerProvider: 1,
    keptProviders: [],
    avoid: new Set(),
    ...over,
  });

describe("filterCandidates", () => {
  it("keeps the indexer's order and drops nobody that meets every rule", () => {
    const result = filter([found(3), found(1), found(2)]);
    expect(result.candidates.map((c) => c.address)).toEqual([addr(3), addr(1), addr(2)]);
    expect(result.excluded).toEqual([]);
  });

  it("re-checks the owner's rules instead of trusting the indexer", () => {
    const placement = config({
      attributes: ["region=eu"],
      denyProviders: [addr(2)],
      minFreeStake: "500",
      minUptimeBps: 9000,
    }).placement;
    const result = filter(
      [
        found(1, { pricePerSecond: 1001n }),
        found(2),
        found(3, { attributes: ["region=us"] }),
        found(4, { stakeFree: 499n }),
        found(5, { uptimeBps: 8999 }),
        found(6),
      ],
      { placement },
    );
    expect(result.candidates.map((c) => c.address)).toEqual([addr(6)]);
    expect(result.excluded).toEqual([
      { provider: addr(1), reason: "price-above-cap" },
      { provider: addr(2), reason: "denied" },
      { provider: addr(3), reason: "missing-attribute" },
      { provider: addr(4), reason: "stake-too-low" },
      { provider: addr(5), reason: "uptime-too-low" },
    ]);
  });

  it("takes only allowed providers when an allow list is given (addresses in any case)", () => {
    const placement = config({ allowProviders: [addr(2)] }).placement;
    const lower = { ...found(2), address: addr(2).toLowerCase() as Address };
    const result = filter([found(1), lower], { placement });
    expect(result.candidates).toEqual([lower]);
    expect(result.excluded).toEqual([{ provider: addr(1), reason: "not-allowed" }]);
  });

  it("spreads instances: a provider holding maxPerProvider kept instances is full", () => {
    const result = filter([found(1), found(2), found(3)], { keptProviders: [addr(1)] });
    expect(result.candidates.map((c) => c.address)).toEqual([addr(2), addr(3)]);
    const two = filter([found(1), found(2)], { keptProviders: [addr(1), addr(1)], maxPerProvider: 3 });
    expect(two.candidates.map((c) => c.address)).toEqual([addr(1), addr(2)]);
  });

  it("avoids a provider an instance just failed on, and lists a provider once", () => {
    const result = filter([found(1), found(1), found(2)], { avoid: new Set([addr(1).toLowerCase()]) });
    expect(result.candidates.map((c) => c.address)).toEqual([addr(2)]);
    expect(result.excluded).toEqual([{ provider: addr(1), reason: "failed-here" }]);
  });
});

describe("quoteOrder", () => {
  it("shuffles only the top K and keeps the rest as ranked fallbacks", () => {
    const list = [1, 2, 3, 4, 5];
    // random() = 0 swaps each element with the first: [1,2,3] -> [2,3,1].
    expect(quoteOrder(list, 3, () => 0)).toEqual([2, 3, 1, 4, 5]);
    expect(quoteOrder(list, 3, () => 0.999)).toEqual([1, 2, 3, 4, 5]);
    expect(quoteOrder(list, 1, () => 0)).toEqual(list);
    expect(quoteOrder([], 3)).toEqual([]);
  });

  it("picks every top-K provider first about equally often", () => {
    const counts = new Map<number, number>();
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed - 1) / 2147483646;
    };
    for (let i = 0; i < 3000; i++) {
      const first = quoteOrder([1, 2, 3, 4], 3, random)[0] as number;
      counts.set(first, (counts.get(first) ?? 0) + 1);
    }
    expect(counts.get(4)).toBeUndefined();
    for (const k of [1, 2, 3]) expect(counts.get(k)).toBeGreaterThan(850);
  });
});

describe("desiredInstances", () => {
  it("is the target within the vault's maxInstances", () => {
    expect(desiredInstances(config({}, 3), 2)).toBe(2);
    expect(desiredInstances(config({}, 2), 5)).toBe(2);
    expect(desiredInstances(config({}, 0), 5)).toBe(0);
  });
});

describe("judgeInstance", () => {
  const healthy = {
    leaseStatus: "active" as const,
    outOfFunds: false,
    providerDark: false,
    consecutiveFailures: 0,
    everHealthy: true,
    ageSeconds: 100,
  };
  const rules = { failuresBeforeReplace: 3 };

  it("keeps a healthy instance and one that failed fewer than N probes", () => {
    expect(judgeInstance(healthy, rules, 60)).toEqual({ replace: false, health: "healthy" });
    expect(judgeInstance({ ...healthy, consecutiveFailures: 2 }, rules, 60)).toEqual({
      replace: false,
      health: "failing",
    });
  });

  it("replaces after N consecutive failures", () => {
    expect(judgeInstance({ ...healthy, consecutiveFailures: 3 }, rules, 60)).toEqual({
      replace: true,
      reason: "probes-failed",
    });
  });

  it("takes the chain's verdicts before any probe", () => {
    expect(judgeInstance({ ...healthy, leaseStatus: "closed" }, rules, 60)).toMatchObject({ reason: "lease-closed" });
    expect(judgeInstance({ ...healthy, outOfFunds: true }, rules, 60)).toMatchObject({ reason: "out-of-funds" });
    expect(judgeInstance({ ...healthy, providerDark: true }, rules, 60)).toMatchObject({ reason: "provider-dark" });
  });

  it("does not count probes of a starting pod until its grace is over", () => {
    const starting = { ...healthy, everHealthy: false, consecutiveFailures: 10, ageSeconds: 30 };
    expect(judgeInstance(starting, rules, 60)).toEqual({ replace: false, health: "starting" });
    expect(judgeInstance({ ...starting, ageSeconds: 61 }, rules, 60)).toMatchObject({ reason: "never-started" });
  });
});

describe("adoptedInstanceStart", () => {
  const grace = 20;
  const window = 4;
  const now = 1_000_000_000_000;
  const judge = (start: ReturnType<typeof adoptedInstanceStart>, at: number) =>
    judgeInstance(
      {
        leaseStatus: "active",
        outOfFunds: false,
        providerDark: false,
        consecutiveFailures: 5,
        everHealthy: start.everHealthy,
        ageSeconds: (at - start.since) / 1000,
      },
      { failuresBeforeReplace: 3 },
      grace,
    );

  it("counts a young lease's grace from the lease's start, not from the adoption", () => {
    // Placed 12 s before a node took it over (its placing node died): 8 s of grace are left, not 20.
    const start = adoptedInstanceStart(now / 1000 - 12, now, grace, window);
    expect(start).toEqual({ since: now - 12_000, everHealthy: false });
    expect(judge(start, now + 7_000)).toEqual({ replace: false, health: "starting" });
    expect(judge(start, now + 9_000)).toMatchObject({ reason: "never-started" });
  });

  it("leaves the adopter its probe window: a lease near the end of its grace is not replaced before a probe", () => {
    const start = adoptedInstanceStart(now / 1000 - 19, now, grace, window);
    expect(start).toEqual({ since: now - 16_000, everHealthy: false });
    expect(judge(start, now + 3_000)).toEqual({ replace: false, health: "starting" });
    expect(judge(start, now + 5_000)).toMatchObject({ reason: "never-started" });
  });

  it("lets the probes decide at once for a lease older than the grace", () => {
    const start = adoptedInstanceStart(now / 1000 - 21, now, grace, window);
    expect(start.everHealthy).toBe(true);
    expect(judge(start, now)).toMatchObject({ reason: "probes-failed" });
  });

  it("counts from the adoption when the chain's clock is ahead of this machine's", () => {
    expect(adoptedInstanceStart(now / 1000 + 30, now, grace, window)).toEqual({ since: now, everHealthy: false });
  });

  it("gives the probes N failures and one more interval", () => {
    expect(probeWindowSeconds({ interval: 1, failuresBeforeReplace: 3 })).toBe(4);
    expect(probeWindowSeconds({ interval: 10, failuresBeforeReplace: 2 })).toBe(30);
  });
});

describe("topUpAmount", () => {
  const base = {
    pricePerSecond: 10n,
    unspent: 1000n,
    keepFundedSeconds: 100,
    maxDepositPerLease: 10_000n,
    appBalance: 1_000_000n,
  };

  it("is 0 while the lease is funded for keepFunded", () => {
    expect(topUpAmount(base)).toBe(0n);
    expect(topUpAmount({ ...base, unspent: 2000n })).toBe(0n);
  });

  it("brings a lease running low to twice keepFunded", () => {
    expect(topUpAmount({ ...base, unspent: 999n })).toBe(1001n);
  });

  it("never leaves more unspent than the vault allows, nor spends more than the balance", () => {
    expect(topUpAmount({ ...base, unspent: 500n, maxDepositPerLease: 1200n })).toBe(700n);
    expect(topUpAmount({ ...base, unspent: 500n, appBalance: 42n })).toBe(42n);
    expect(topUpAmount({ ...base, unspent: 500n, appBalance: 0n })).toBe(0n);
    expect(topUpAmount({ ...base, unspent: 1500n, maxDepositPerLease: 1200n, keepFundedSeconds: 200 })).toBe(0n);
  });
});

describe("scaleDownSlots", () => {
  const surplus = (slot: number, healthy = true) => ({ slot, leaseId: BigInt(100 + slot), healthy });

  it("clears every lease at or above the target, highest slot first, when the lower slots are healthy", () => {
    const clear = scaleDownSlots({ desired: 1, healthyBelow: 1, surplus: [surplus(1), surplus(2)] });
    expect(clear.map((c) => c.slot)).toEqual([2, 1]);
  });

  it("never takes the app below its target: keeps the lowest healthy surplus while a lower slot is not healthy", () => {
    expect(
      scaleDownSlots({ desired: 2, healthyBelow: 1, surplus: [surplus(2), surplus(3)] }).map((c) => c.slot),
    ).toEqual([3]);
    expect(scaleDownSlots({ desired: 1, healthyBelow: 0, surplus: [surplus(1)] })).toEqual([]);
  });

  it("clears an unhealthy surplus lease at once (it serves nobody)", () => {
    expect(scaleDownSlots({ desired: 1, healthyBelow: 0, surplus: [surplus(1, false)] }).map((c) => c.slot)).toEqual([
      1,
    ]);
  });

  it("clears everything for a target of 0", () => {
    expect(scaleDownSlots({ desired: 0, healthyBelow: 0, surplus: [surplus(0), surplus(1)] })).toHaveLength(2);
  });
});

describe("nextSpecUpdate", () => {
  const NEW = "0xaa";
  const OLD = "0xbb";
  const inst = (slot: number, leaseSpec: string, over: Partial<{ updating: boolean; healthy: boolean }> = {}) => ({
    slot,
    leaseId: BigInt(slot + 1),
    leaseSpec,
    updating: false,
    healthy: true,
    ...over,
  });

  it("updates the lowest slot on the old spec, one at a time", () => {
    expect(nextSpecUpdate([inst(1, OLD), inst(0, OLD)], NEW)?.slot).toBe(0);
    expect(nextSpecUpdate([inst(0, OLD, { updating: true }), inst(1, OLD)], NEW)).toBeUndefined();
  });

  it("waits until the updated instance probes healthy before the next", () => {
    expect(nextSpecUpdate([inst(0, NEW, { healthy: false }), inst(1, OLD)], NEW)).toBeUndefined();
    expect(nextSpecUpdate([inst(0, NEW), inst(1, OLD)], NEW)?.slot).toBe(1);
  });

  it("does nothing when every lease holds the vault's spec (case-insensitive)", () => {
    expect(nextSpecUpdate([inst(0, "0xAA"), inst(1, NEW)], NEW)).toBeUndefined();
  });
});

describe("pickBid", () => {
  const bid = (n: number, price: bigint, status = "active") => ({ provider: addr(n), pricePerSecond: price, status });
  const base = {
    maxPricePerSecond: 1000n,
    maxPerProvider: 1,
    keptProviders: [] as Address[],
    avoid: new Set<string>(),
  };

  it("passes over a denied provider's bid, however cheap, and takes the next eligible one", () => {
    const { bid: picked, passedOver } = pickBid({
      ...base,
      bids: [bid(1, 10n), bid(2, 500n)],
      placement: config({ denyProviders: [addr(1)] }).placement,
    });
    expect(picked?.provider).toBe(addr(2));
    expect(passedOver).toEqual([{ provider: addr(1), reason: "denied" }]);
  });

  it("takes none when only excluded or inactive bids are left", () => {
    const { bid: picked, passedOver } = pickBid({
      ...base,
      keptProviders: [addr(3)],
      bids: [bid(1, 10n, "evicted"), bid(2, 2000n), bid(3, 20n)],
      placement: config({ allowProviders: [addr(2), addr(3)] }).placement,
    });
    expect(picked).toBeUndefined();
    expect(passedOver.map((p) => p.reason)).toEqual(["price-above-cap", "provider-full"]);
    expect(
      pickBid({ ...base, bids: [bid(4, 1n)], placement: config({ allowProviders: [addr(2)] }).placement }).bid,
    ).toBeUndefined();
  });
});

describe("orderStep", () => {
  it("waits for the bid window, then accepts the best eligible bid or cancels", () => {
    const at = (now: number, hasEligibleBid: boolean, slotNeedsFilling = true) =>
      orderStep({ slotNeedsFilling, now, bidDeadline: 100, hasEligibleBid });
    expect(at(99, true)).toBe("wait");
    expect(at(100, true)).toBe("accept");
    expect(at(100, false)).toBe("cancel");
    expect(at(50, true, false)).toBe("cancel");
  });
});
