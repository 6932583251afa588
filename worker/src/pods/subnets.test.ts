import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WorkerState } from "../store/worker-state.js";
import {
  leaseSubnet,
  parsePool,
  poolStart,
  releaseSubnet,
  skipSubnet,
  subnetAt,
  subnetCount,
  usableAddresses,
} from "./subnets.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function state() {
  const dir = mkdtempSync(join(tmpdir(), "podnet-subnets-"));
  dirs.push(dir);
  return WorkerState.open(
    dir,
    {
      chainId: 31337,
      provider: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      market: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    },
    0,
  );
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
});
