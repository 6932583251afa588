import { describe, expect, it } from "vitest";
import {
  containerLabels,
  containerName,
  emptyVolumeName,
  namePrefix,
  networkName,
  parseContainerLabels,
  persistentVolumeName,
} from "./names.js";

const provider = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01";
const specHash = `0x${"9f".repeat(32)}` as const;
const pod = { leaseId: 42n, specHash };

describe("names", () => {
  it("derives every name from provider, lease, spec, container and replica", () => {
    expect(namePrefix(provider)).toBe("podnet-abcdef01");
    expect(containerName(provider, pod, "web", 1)).toBe("podnet-abcdef01-l42-9f9f9f9f-web-1");
    expect(networkName(provider, 42n)).toBe("podnet-abcdef01-l42");
    expect(persistentVolumeName(provider, 42n, "data", 0)).toBe("podnet-abcdef01-l42-data-r0");
    expect(emptyVolumeName(provider, pod, "tmp", 2)).toBe("podnet-abcdef01-l42-9f9f9f9f-tmp-r2");
  });

  it("refuses inputs that would make ambiguous names", () => {
    expect(() => namePrefix("0x1234" as `0x${string}`)).toThrow(/not an address/);
    expect(() => networkName(provider, -1n)).toThrow(/negative/);
    expect(() => containerName(provider, { leaseId: 1n, specHash: "0x1234" }, "web", 0)).toThrow(/spec hash/);
  });

  it("round-trips container labels and rejects incomplete ones", () => {
    const labels = containerLabels(provider, pod, "web", 3);
    expect(labels).toEqual({
      "podnet.managed": "true",
      "podnet.provider": provider.toLowerCase(),
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
