import type { Resources } from "@podnet/sdk/protocol";
import { describe, expect, it } from "vitest";
import { type BidRecord, freshStateData, type LeaseRecord, type WorkerStateData } from "../store/worker-state.js";
import { committedResources, fitsWithin, freeResources, leaseShortfall, shortfall, zeroResources } from "./capacity.js";

const ADDRESS = "0x1111111111111111111111111111111111111111" as const;
const HASH = `0x${"ab".repeat(32)}` as const;
const NOW = 1_700_000_000;

const res = (cpuMillis: number, memoryMiB: number, storageMiB: number): Resources => ({
  cpuMillis,
  memoryMiB,
  storageMiB,
});

function lease(id: string, resources: Resources, status: LeaseRecord["status"]): LeaseRecord {
  return {
    id,
    publisher: ADDRESS,
    orderId: "0",
    specHash: HASH,
    resources,
    pricePerSecond: "1",
    startedAt: NOW - 100,
    status,
  };
}

function bid(orderId: string, resources: Resources, status: BidRecord["status"]): BidRecord {
  return { orderId, resources, pricePerSecond: "1", bidDeadline: NOW + 60, status };
}

function state(parts: Partial<Pick<WorkerStateData, "leases" | "bids">>): WorkerStateData {
  return { ...freshStateData({ chainId: 31337, provider: ADDRESS, market: ADDRESS }, 0), ...parts };
}

describe("committedResources", () => {
  it("keeps a sleeping (scale-to-zero) pod's resources reserved: asleep frees no capacity, so none is oversold", () => {
    const s = state({ leases: { "1": lease("1", res(1, 10, 100), "active") } });
    const awake = committedResources(s);
    s.asleep["1"] = { specHash: HASH, since: NOW };
    expect(committedResources(s)).toEqual(awake);
    expect(leaseShortfall(s, res(1, 10, 100), lease("2", res(1, 1, 1), "active"))).toMatch(/cpuMillis/);
  });

  it("is zero for a fresh state", () => {
    expect(committedResources(state({}))).toEqual(zeroResources());
  });

  it("counts active leases and pending and placed bids, and nothing else (quotes reserve nothing)", () => {
    const s = state({
      leases: {
        "1": lease("1", res(1, 10, 100), "active"),
        "2": lease("2", res(2, 20, 200), "closed"),
        "3": lease("3", res(4, 40, 400), "active"),
      },
      bids: {
        "10": bid("10", res(8, 80, 800), "pending"),
        "11": bid("11", res(16, 160, 1600), "placed"),
        "12": bid("12", res(32, 320, 3200), "done"),
        "13": bid("13", res(64, 640, 6400), "lost"),
      },
    });
    // 1 + 4 (leases) + 8 + 16 (bids)
    expect(committedResources(s)).toEqual(res(29, 290, 2900));
  });
});

describe("leaseShortfall", () => {
  const capacity = res(1000, 1000, 1000);

  it("lets the lease made first keep its place: later leases and closed ones do not count, open bids do", () => {
    const s = state({
      leases: {
        "5": lease("5", res(600, 100, 0), "active"),
        "6": lease("6", res(600, 100, 0), "active"),
        "2": lease("2", res(900, 900, 900), "closed"),
      },
      bids: { "10": bid("10", res(100, 100, 0), "placed"), "11": bid("11", res(900, 0, 0), "lost") },
    });
    expect(leaseShortfall(s, capacity, s.leases["5"] as LeaseRecord)).toBeUndefined();
    expect(leaseShortfall(s, capacity, s.leases["6"] as LeaseRecord)).toBe("cpuMillis: 600 wanted, 300 free");
    // Ids compare as numbers, not as text ("10" < "9" as text).
    const t = state({
      leases: { "9": lease("9", res(600, 0, 0), "active"), "10": lease("10", res(600, 0, 0), "active") },
    });
    expect(leaseShortfall(t, capacity, t.leases["9"] as LeaseRecord)).toBeUndefined();
    expect(leaseShortfall(t, capacity, t.leases["10"] as LeaseRecord)).toBe("cpuMillis: 600 wanted, 400 free");
  });
});

describe("freeResources", () => {
  it("subtracts per dimension and may go negative when over-committed", () => {
    expect(freeResources(res(4000, 8192, 1000), res(1000, 8000, 1500))).toEqual(res(3000, 192, -500));
  });
});

describe("shortfall", () => {
  it("is undefined when everything fits, including exactly", () => {
    expect(shortfall(res(1, 1, 1), res(2, 2, 2))).toBeUndefined();
    expect(shortfall(res(2, 2, 2), res(2, 2, 2))).toBeUndefined();
  });

  it("names the first dimension that is short", () => {
    expect(shortfall(res(3, 1, 1), res(2, 2, 2))).toBe("cpuMillis: 3 wanted, 2 free");
    expect(shortfall(res(1, 3, 9), res(2, 2, 2))).toBe("memoryMiB: 3 wanted, 2 free");
    expect(shortfall(res(1, 1, 9), res(2, 2, 2))).toBe("storageMiB: 9 wanted, 2 free");
  });

  it("reports negative free capacity as 0 free", () => {
    expect(shortfall(res(1, 1, 1), res(-5, 2, 2))).toBe("cpuMillis: 1 wanted, 0 free");
  });
});

describe("fitsWithin", () => {
  it("needs every dimension to fit", () => {
    expect(fitsWithin(res(1, 2, 3), res(1, 2, 3))).toBe(true);
    expect(fitsWithin(res(0, 0, 0), res(1, 2, 3))).toBe(true);
    expect(fitsWithin(res(2, 2, 3), res(1, 2, 3))).toBe(false);
    expect(fitsWithin(res(1, 3, 3), res(1, 2, 3))).toBe(false);
    expect(fitsWithin(res(1, 2, 4), res(1, 2, 3))).toBe(false);
  });
});
