import { createPublicClient, http } from "viem";
import { foundry } from "viem/chains";
import { describe, expect, it } from "vitest";
import { createPodnetBaseClient } from "../client.js";
import { IndexerError, InvalidParameterError } from "../errors.js";
import { apiErrorBody, type Deployment } from "../protocol/index.js";
import { findProviders } from "./find-providers.js";

function clientAnswering(status: number, body: unknown, seen: string[]) {
  return createPodnetBaseClient({
    publicClient: createPublicClient({ chain: foundry, transport: http("http://127.0.0.1:9") }),
    deployment: { chainId: 31337, contracts: {} } as unknown as Deployment,
    indexerUrl: "http://indexer.test/",
    blobCacheDir: "/nonexistent",
    fetch: async (input) => {
      seen.push(String(input));
      return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
    },
  });
}

describe("findProviders", () => {
  it("sends the indexer's query names and returns amounts as bigints", async () => {
    const seen: string[] = [];
    const client = clientAnswering(
      200,
      {
        providers: [
          {
            address: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            endpoint: "http://127.0.0.1:7070",
            pricePerSecond: "123456789012345678901234",
            uptimeBps: 9990,
            stakeFree: "1000000000000000000000",
            stakeLocked: "5",
            lastHeartbeat: "1700000000",
            disputesLost: 0,
            attributes: ["region=eu"],
          },
        ],
      },
      seen,
    );
    const found = await findProviders(client, {
      resources: { cpuMillis: 500, memoryMiB: 256, storageMiB: 10 },
      maxPricePerSecond: 10n ** 30n,
      attributes: ["region=eu", "tier=gold"],
      minFreeStake: 7n,
      minUptimeBps: 9000,
      limit: 5,
    });
    const url = new URL(seen[0] as string);
    expect(url.pathname).toBe("/search");
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      cpu: "500",
      memory: "256",
      storage: "10",
      maxPrice: (10n ** 30n).toString(),
      minFreeStake: "7",
      minUptimeBps: "9000",
      limit: "5",
    });
    expect(url.searchParams.getAll("attr")).toEqual(["region=eu", "tier=gold"]);
    expect(found).toEqual([
      {
        address: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        endpoint: "http://127.0.0.1:7070",
        pricePerSecond: 123456789012345678901234n,
        uptimeBps: 9990,
        stakeFree: 10n ** 21n,
        stakeLocked: 5n,
        lastHeartbeat: 1_700_000_000,
        disputesLost: 0,
        attributes: ["region=eu"],
      },
    ]);
  });

  it("sums a manifest's resources", async () => {
    const seen: string[] = [];
    await findProviders(clientAnswering(200, { providers: [] }, seen), {
      manifest: {
        version: 1,
        replicas: 2,
        containers: [
          {
            name: "web",
            image: "blob:bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
            resources: { cpuMillis: 250, memoryMiB: 64, storageMiB: 5 },
          },
        ],
      },
    });
    const params = new URL(seen[0] as string).searchParams;
    expect([params.get("cpu"), params.get("memory"), params.get("storage")]).toEqual(["500", "128", "10"]);
  });

  it("surfaces the indexer's 400 message and refuses bad attributes before asking", async () => {
    const seen: string[] = [];
    const client = clientAnswering(400, apiErrorBody(400, "limit: must be between 1 and 100, got 500"), seen);
    const error = await findProviders(client, {
      resources: { cpuMillis: 1, memoryMiB: 1, storageMiB: 0 },
      limit: 500,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(IndexerError);
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      "indexer: limit: must be between 1 and 100, got 500 (http://indexer.test/search?cpu=1&memory=1&storage=0&limit=500)",
    );
    await expect(
      findProviders(client, { resources: { cpuMillis: 1, memoryMiB: 1, storageMiB: 0 }, attributes: ["EU"] }),
    ).rejects.toThrow(InvalidParameterError);
    expect(seen).toHaveLength(1);
  });

  it("shows the start of an answer that is not an error body", async () => {
    const error = await findProviders(clientAnswering(502, { upstream: "down" }, []), {
      resources: { cpuMillis: 1, memoryMiB: 1, storageMiB: 0 },
    }).catch((e) => e);
    expect(error).toBeInstanceOf(IndexerError);
    expect(error.status).toBe(502);
    expect(error.message).toContain('indexer: {"upstream":"down"}');
  });
});
