import { readdirSync } from "node:fs";
import { join } from "node:path";
import { createPublicClient, http } from "viem";
import { foundry, mainnet } from "viem/chains";
import { describe, expect, it } from "vitest";
import { createPodnetBaseClient, type PodnetClientConfig } from "./client.js";
import { createPodnetClient } from "./create-podnet-client.js";
import { podnetActions } from "./decorators/podnet.js";
import { InvalidParameterError } from "./errors.js";
import * as sdk from "./index.js";
import type { Deployment } from "./protocol/index.js";

const config = (fetch?: typeof globalThis.fetch): PodnetClientConfig => ({
  publicClient: createPublicClient({ chain: foundry, transport: http("http://127.0.0.1:9") }),
  deployment: { chainId: 31337, contracts: {} } as unknown as Deployment,
  indexerUrl: "http://indexer.test",
  blobCacheDir: "/nonexistent",
  ...(fetch ? { fetch } : {}),
});

// One action per file in actions/: `get-pod-logs.ts` exports `getPodLogs`.
const actionsDir = join(import.meta.dirname, "actions");
const actionNames = readdirSync(actionsDir)
  .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
  .map((file) => file.slice(0, -3).replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase()))
  .sort();

describe("createPodnetClient", () => {
  it("binds every action of actions/ and keeps the configuration fields", async () => {
    expect(actionNames).toHaveLength(49);
    for (const name of actionNames) {
      expect(typeof (sdk as Record<string, unknown>)[name], `@podnet/sdk exports ${name}`).toBe("function");
    }
    const client = createPodnetClient(config());
    expect(Object.keys(podnetActions(createPodnetBaseClient(config()))).sort()).toEqual(actionNames);
    for (const name of actionNames) {
      expect(typeof (client as unknown as Record<string, unknown>)[name], name).toBe("function");
    }
    expect(client).toMatchObject({ deployment: config().deployment, indexerUrl: "http://indexer.test" });
    expect(client.publicClient.chain?.id).toBe(31337);
    expect(client.blobCache).toBeDefined();
    expect(client.state.selfKeys).toBeInstanceOf(Map);
    expect(typeof client.extend).toBe("function");
  });

  it("runs a bound action against the client it was created from", async () => {
    const seen: string[] = [];
    const client = createPodnetClient(
      config(async (input) => {
        seen.push(String(input));
        return Response.json({ providers: [] });
      }),
    );
    await expect(client.findProviders({ resources: { cpuMillis: 1, memoryMiB: 1, storageMiB: 0 } })).resolves.toEqual(
      [],
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^http:\/\/indexer\.test\/search\?/);
  });

  it("refuses a configuration without a public client or deployment, or on two chains", () => {
    expect(() => createPodnetClient({ ...config(), publicClient: undefined as never })).toThrow(InvalidParameterError);
    expect(() => createPodnetClient({ ...config(), deployment: undefined as never })).toThrow(
      /deployment: is required/,
    );
    const onMainnet = createPublicClient({ chain: mainnet, transport: http("http://127.0.0.1:9") });
    expect(() => createPodnetClient({ ...config(), publicClient: onMainnet })).toThrow(
      "publicClient: is on chain 1, the deployment is on chain 31337",
    );
  });
});

describe("createPodnetBaseClient(...).extend", () => {
  it("adds members, chains, and shares the configuration and memos of the base", () => {
    const base = createPodnetBaseClient(config());
    const once = base.extend((client) => ({ chainId: () => client.deployment.chainId }));
    const twice = once.extend((client) => ({ doubled: () => client.chainId() * 2 }));
    expect(twice.chainId()).toBe(31337);
    expect(twice.doubled()).toBe(62674);
    expect(twice.state).toBe(base.state);
    expect(twice.blobCache).toBe(base.blobCache);
    expect("chainId" in base).toBe(false);
  });

  it("does not let an extension replace the configuration or extend", () => {
    const base = createPodnetBaseClient(config());
    const extended = base.extend(() => ({ publicClient: "replaced", state: {}, extend: "replaced", other: 1 }));
    expect(extended.publicClient).toBe(base.publicClient);
    expect(extended.state).toBe(base.state);
    expect(typeof extended.extend).toBe("function");
    expect(extended.other).toBe(1);
  });
});
