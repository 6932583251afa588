import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { knownDeploymentFile, knownDeploymentsDir, parseDeployment, readDeploymentFor } from "./deployments.js";

const valid = {
  chainId: 31337,
  deployBlock: 1,
  deployer: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
  contracts: {
    paymentToken: { name: "PodnetTestToken", address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", blockNumber: 1 },
    accessManager: { name: "AccessManager", address: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", blockNumber: 2 },
    timelock: { name: "TimelockController", address: "0x0165878A594ca255338adfa4d48449f69242Eb8F", blockNumber: 7 },
    providerRegistry: {
      name: "ProviderRegistry",
      address: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
      blockNumber: 3,
    },
    podnetMarket: { name: "PodnetMarket", address: "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9", blockNumber: 4 },
    disputeCourt: { name: "DisputeCourt", address: "0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9", blockNumber: 5 },
    appVaultFactory: {
      name: "AppVaultFactory",
      address: "0x2279B7A0a67DB372996a5FaB50D91eAA73d2eBe6",
      blockNumber: 9,
    },
    autoscalerNetwork: {
      name: "AutoscalerNetwork",
      address: "0xa513E6E4b8f2a923D98304ec87F64353C4D5C853",
      blockNumber: 8,
    },
  },
};

describe("parseDeployment", () => {
  it("accepts what deploy:local writes", () => {
    expect(parseDeployment(valid)).toEqual(valid);
  });

  it("names the bad field", () => {
    expect(() => parseDeployment(null)).toThrow("deployment:  must be a JSON object");
    expect(() => parseDeployment({ ...valid, chainId: "31337" })).toThrow("deployment: chainId must be a positive");
    expect(() => parseDeployment({ ...valid, deployBlock: -1 })).toThrow("deployment: deployBlock must be");
    expect(() => parseDeployment({ ...valid, deployer: "0x1234" })).toThrow("deployment: deployer must be");
    const { podnetMarket: _, ...withoutMarket } = valid.contracts;
    expect(() => parseDeployment({ ...valid, contracts: withoutMarket })).toThrow(
      "deployment: contracts.podnetMarket is missing",
    );
    // A deployment from before the app vault (redeploy with `npm run deploy:local`).
    const { appVaultFactory: __, ...withoutFactory } = valid.contracts;
    expect(() => parseDeployment({ ...valid, contracts: withoutFactory })).toThrow(
      "deployment: contracts.appVaultFactory is missing",
    );
    expect(() =>
      parseDeployment({
        ...valid,
        contracts: { ...valid.contracts, podnetMarket: { ...valid.contracts.podnetMarket, address: "market" } },
      }),
    ).toThrow("deployment: contracts.podnetMarket.address must be a 0x-prefixed 20-byte address");
  });
});

describe("readDeploymentFor", () => {
  it("reads the given file, and refuses a missing one or one of another chain, naming deploymentsFile", () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-deployments-"));
    try {
      const file = join(dir, "31337.json");
      writeFileSync(file, JSON.stringify(valid));
      expect(readDeploymentFor(31337, file, "PODNET_DEPLOYMENTS_FILE").contracts.podnetMarket.name).toBe(
        "PodnetMarket",
      );
      expect(() => readDeploymentFor(1, file, "PODNET_DEPLOYMENTS_FILE")).toThrow(
        `deploymentsFile: ${file} is for chain 31337, the RPC serves chain 1`,
      );
      expect(() => readDeploymentFor(31337, join(dir, "gone.json"), "PODNET_DEPLOYMENTS_FILE")).toThrow(
        `deploymentsFile: ${join(dir, "gone.json")} does not exist`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("without a file, looks in the SDK's own deployments folder and says how to set one when none is known", () => {
    expect(knownDeploymentFile(424242)).toBe(join(knownDeploymentsDir(), "424242.json"));
    expect(() => readDeploymentFor(424242, undefined, "PODNET_X_DEPLOYMENTS_FILE")).toThrow(
      `deploymentsFile: no deployment of chain 424242 is known (${knownDeploymentFile(424242)} does not exist); set deploymentsFile (PODNET_X_DEPLOYMENTS_FILE)`,
    );
  });
});
