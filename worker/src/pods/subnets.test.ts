import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WorkerState } from "../store/worker-state.js";
import {
  dropSpare,
  leaseSlot,
  leaseSubnet,
  parsePool,
  poolStart,
  releaseSubnet,
  reserveSpare,
  skipSubnet,
  spareSlots,
  subnetAt,
  subnetCount,
  usableAddresses,
} from "./subnets.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const IDENTITY = {
  chainId: 31337,
  provider: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  market: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
} as const;

function state(dir = mkdtempSync(join(tmpdir(), "podnet-subnets-"))) {
  dirs.push(dir);
  return WorkerState.open(dir, IDENTITY, 0);
}

describe("pod subnets", () => {
  it("splits the pool into consecutive subnets", () => {
    const pool = parsePool("10.200.0.0/14", 24);
    expect(subnetCount(pool)).toBe(1024);
    expect(subnetAt(pool, 0)).toBe("10.200.0.0/24");
    expect(subnetAt(pool, 1)).toBe("10.200.1.0/24");
    expect(subnetAt(pool, 256)).toBe("10.201.0.0/24");
    expect(subnetAt(pool, 1023)).toBe("10.203.255.0/24");
    expect(usableAddresses(24)).toBe(253);
  });

  it("refuses pools that are not CIDRs, have host bits, or are smaller than one subnet", () => {
    expect(() => parsePool("10.200.0.0", 24)).toThrow(/podNetworkPool/);
    expect(() => parsePool("10.300.0.0/16", 24)).toThrow(/not an IPv4 CIDR/);
    expect(() => parsePool("10.200.1.0/16", 24)).toThrow(/host bits/);
    expect(() => parsePool("10.200.0.0/26", 24)).toThrow(/smaller/);
  });

  it("gives each lease the lowest free subnet, keeps it, reuses released ones and skips blocked ones", () => {
    const s = state();
    const pool = parsePool("10.200.0.0/22", 24);
    expect(leaseSubnet(s, pool, "1")).toBe("10.200.0.0/24");
    expect(leaseSubnet(s, pool, "2")).toBe("10.200.1.0/24");
    expect(leaseSubnet(s, pool, "1")).toBe("10.200.0.0/24");
    releaseSubnet(s, "1");
    expect(leaseSubnet(s, pool, "3")).toBe("10.200.0.0/24");
    skipSubnet(s, "3");
    expect(leaseSubnet(s, pool, "3")).toBe("10.200.2.0/24");
    expect(leaseSubnet(s, pool, "4")).toBe("10.200.3.0/24");
    expect(() => leaseSubnet(s, pool, "5")).toThrow(/every pod subnet is in use/);
  });

  it("starts each provider at its own place in the pool and wraps around", () => {
    const s = state();
    const big = parsePool("10.200.0.0/14", 24);
    const a = poolStart(big, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    const b = poolStart(big, "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
    expect(a).toBe(poolStart(big, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"));
    expect(a).toBeLessThan(1024);
    expect(a).not.toBe(b);
    const pool = parsePool("10.200.0.0/22", 24);
    expect(leaseSubnet(s, pool, "1", 3)).toBe("10.200.3.0/24");
    expect(leaseSubnet(s, pool, "2", 3)).toBe("10.200.0.0/24");
  });

  it("hands a lease a warm slot whose network is made before a lower one still being made", () => {
    const s = state();
    const pool = parsePool("10.200.0.0/21", 24);
    reserveSpare(s, pool, 2);
    reserveSpare(s, pool, 2);
    // Slot 3's network is made, slot 2's not yet: waiting for slot 2 would put its making on the pod's path.
    expect(leaseSlot(s, pool, "7", 0, new Set([3])).index).toBe(3);
    // None made: the lowest warm slot, which is made first.
    expect(leaseSlot(s, pool, "8", 0, new Set()).index).toBe(2);
  });

  it("hands a lease the lowest warm slot first, once, and falls back to a free one when none is warm", () => {
    const s = state();
    const pool = parsePool("10.200.0.0/21", 24);
    expect(reserveSpare(s, pool, 2)).toEqual({ index: 2, subnet: "10.200.2.0/24" });
    expect(reserveSpare(s, pool, 2)).toEqual({ index: 3, subnet: "10.200.3.0/24" });
    // A lease takes the lowest warm slot, not the first free index from its start.
    expect(leaseSlot(s, pool, "7", 0)).toEqual({ index: 2, subnet: "10.200.2.0/24" });
    expect(spareSlots(s, pool)).toEqual([{ index: 3, subnet: "10.200.3.0/24" }]);
    // Its slot stays its own; the warm one left goes to the next lease only.
    expect(leaseSlot(s, pool, "7", 0).index).toBe(2);
    expect(leaseSlot(s, pool, "8", 0).index).toBe(3);
    expect(spareSlots(s, pool)).toEqual([]);
    // No warm slot: the first free index from the start.
    expect(leaseSlot(s, pool, "9", 0).index).toBe(0);
    // A new warm slot never takes an index a lease or another warm slot holds.
    const spare = reserveSpare(s, pool, 0);
    expect(spare.index).toBe(1);
    // Given up for an overlap, it is blocked and never handed out.
    dropSpare(s, spare.index, { blocked: true });
    expect(spareSlots(s, pool)).toEqual([]);
    expect(reserveSpare(s, pool, 0).index).toBe(4);
  });

  it("writes a slot handed to a lease at once (a crash must not hand it out twice)", () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-subnets-"));
    const s = state(dir);
    const pool = parsePool("10.200.0.0/22", 24);
    reserveSpare(s, pool, 0);
    leaseSlot(s, pool, "1", 0);
    // Nothing else saves: what a second process reads now is what a crash would leave.
    expect(state(dir).data.subnets).toEqual({ "1": 0 });
  });
});
