import { createPublicClient, http } from "viem";
import { foundry } from "viem/chains";
import { describe, expect, it } from "vitest";
import { createPodnetBaseClient } from "../client.js";
import { InvalidParameterError } from "../errors.js";
import type { Deployment } from "../protocol/index.js";
import { costOf, estimateCost } from "./estimate-cost.js";

const client = createPodnetBaseClient({
  publicClient: createPublicClient({ chain: foundry, transport: http("http://127.0.0.1:9") }),
  deployment: { chainId: 31337, contracts: {} } as unknown as Deployment,
  blobCacheDir: "/nonexistent",
});

describe("estimateCost", () => {
  it("is exact integer arithmetic: total = price x seconds, fee from the provider's side, rounded down", () => {
    expect(costOf(1_000_000_007n, 3600, 100)).toEqual({
      pricePerSecond: 1_000_000_007n,
      seconds: 3600n,
      total: 3_600_000_025_200n,
      protocolFee: 36_000_000_252n,
      providerNet: 3_564_000_024_948n,
      feeBps: 100,
    });
    // 99 x 1 x 1% = 0.99: the market rounds the fee down.
    expect(costOf(99n, 1n, 100).protocolFee).toBe(0n);
    // Far beyond 2^53: no floating point anywhere.
    const price = (1n << 95n) + 1n;
    const big = costOf(price, 86_400n * 365n, 250);
    expect(big.total).toBe(price * 31_536_000n);
    expect(big.protocolFee + big.providerNet).toBe(big.total);
  });

  it("prices listed pricing with the protocol's rule", async () => {
    const cost = await estimateCost(client, {
      pricing: { perCpuMilli: 2n, perMemoryMiB: 1n, perStorageMiB: 0n, flat: 10n },
      resources: { cpuMillis: 500, memoryMiB: 256, storageMiB: 0 },
      seconds: 10,
      feeBps: 0,
    });
    expect(cost.pricePerSecond).toBe(1266n);
    expect(cost.total).toBe(12_660n);
    expect(cost.protocolFee).toBe(0n);
  });

  it("refuses fractional seconds and bad fees", () => {
    expect(() => costOf(1n, 1.5, 100)).toThrow(InvalidParameterError);
    expect(() => costOf(1n, -1, 100)).toThrow(/seconds/);
    expect(() => costOf(1n, 1, 10_001)).toThrow(/feeBps/);
  });
});
