import type { Address, Hex } from "viem";
import { describe, expect, it } from "vitest";
import {
  containerLabels,
  containerName,
  emptyVolumeName,
  instanceLabels,
  leaseLabels,
  namePrefix,
  networkName,
  parseContainerLabels,
  persistentVolumeName,
  workerInstance,
} from "./names.js";

const provider = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01";
const instance = { provider: provider.toLowerCase() as Address, tag: "5eed1e55" };
const specHash = `0x${"9f".repeat(32)}` as const;
const pod = { leaseId: 42n, specHash };

/** One deployment of the market: what a worker reads at start. */
const deployment = {
  chainId: 31337,
  market: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address,
  deployBlockHash: `0x${"11".repeat(32)}` as Hex,
  provider: provider as Address,
};

describe("workerInstance", () => {
  it("tags one provider key on one market deployment with 8 hex digits, the same on every start", () => {
    const tag = workerInstance(deployment);
    expect(tag).toEqual({ provider: provider.toLowerCase(), tag: expect.stringMatching(/^[0-9a-f]{8}$/) });
    expect(workerInstance({ ...deployment, provider: provider.toLowerCase() as Address })).toEqual(tag);
  });

  it("tells apart every other chain, market, deployment (a fresh anvil at the same addresses) and key", () => {
    const tags = new Set(
      [
        deployment,
        { ...deployment, chainId: 1 },
        { ...deployment, market: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" as Address },
        { ...deployment, deployBlockHash: `0x${"22".repeat(32)}` as Hex },
        { ...deployment, provider: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as Address },
      ].map((d) => workerInstance(d).tag),
    );
    expect(tags.size).toBe(5);
  });

  it("refuses a malformed identity, naming the field", () => {
    expect(() => workerInstance({ ...deployment, chainId: 0 })).toThrow(/^chainId:/);
    expect(() => workerInstance({ ...deployment, market: "0x1234" as Address })).toThrow(/^market:/);
    expect(() => workerInstance({ ...deployment, deployBlockHash: "0x12" })).toThrow(/^deployBlockHash:/);
    expect(() => workerInstance({ ...deployment, provider: "0xzz" as Address })).toThrow(/^provider:/);
  });
});

describe("names", () => {
  it("derives every name from instance, lease, spec, container and replica", () => {
    expect(namePrefix(instance)).toBe("podnet-abcdef01-5eed1e55");
    expect(containerName(instance, pod, "web", 1)).toBe("podnet-abcdef01-5eed1e55-l42-9f9f9f9f-web-1");
    expect(networkName(instance, 42n)).toBe("podnet-abcdef01-5eed1e55-l42");
    expect(persistentVolumeName(instance, 42n, "data", 0)).toBe("podnet-abcdef01-5eed1e55-l42-data-r0");
    expect(emptyVolumeName(instance, pod, "tmp", 2)).toBe("podnet-abcdef01-5eed1e55-l42-9f9f9f9f-tmp-r2");
  });

  it("gives the same lease of two instances of one key different names", () => {
    const other = { ...instance, tag: "deadbeef" };
    expect(networkName(other, 42n)).not.toBe(networkName(instance, 42n));
    expect(containerName(other, pod, "web", 1)).not.toBe(containerName(instance, pod, "web", 1));
    expect(persistentVolumeName(other, 42n, "data", 0)).not.toBe(persistentVolumeName(instance, 42n, "data", 0));
  });

  it("refuses inputs that would make ambiguous names", () => {
    expect(() => namePrefix({ ...instance, provider: "0x1234" })).toThrow(/not an address/);
    expect(() => namePrefix({ ...instance, tag: "5EED1E55" })).toThrow(/instance tag/);
    expect(() => namePrefix({ ...instance, tag: "5eed1e5" })).toThrow(/instance tag/);
    expect(() => instanceLabels({ ...instance, tag: "" })).toThrow(/instance tag/);
    expect(() => networkName(instance, -1n)).toThrow(/negative/);
    expect(() => containerName(instance, { leaseId: 1n, specHash: "0x1234" }, "web", 0)).toThrow(/spec hash/);
  });
});

describe("labels", () => {
  it("put the instance tag on every object, beside the provider", () => {
    expect(instanceLabels(instance)).toEqual({
      "podnet.managed": "true",
      "podnet.provider": provider.toLowerCase(),
      "podnet.instance": "5eed1e55",
    });
    expect(leaseLabels(instance, 42n)).toEqual({ ...instanceLabels(instance), "podnet.lease": "42" });
  });

  it("round-trips container labels and rejects incomplete ones", () => {
    const labels = containerLabels(instance, pod, "web", 3);
    expect(labels).toEqual({
      "podnet.managed": "true",
      "podnet.provider": provider.toLowerCase(),
      "podnet.instance": "5eed1e55",
      "podnet.lease": "42",
      "podnet.spec": specHash,
      "podnet.container": "web",
      "podnet.replica": "3",
    });
    expect(parseContainerLabels(labels)).toEqual({ leaseId: 42n, specHash, container: "web", replica: 3 });
    expect(parseContainerLabels({ ...labels, "podnet.lease": "x" })).toBeUndefined();
    const { "podnet.spec": _spec, ...withoutSpec } = labels;
    expect(parseContainerLabels(withoutSpec)).toBeUndefined();
  });
});
