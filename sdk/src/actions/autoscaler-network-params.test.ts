import { createPublicClient, http } from "viem";
import { foundry } from "viem/chains";
import { describe, expect, it } from "vitest";
import { createPodnetBaseClient } from "../client.js";
import { InvalidParameterError } from "../errors.js";
import type { Deployment } from "../protocol/index.js";
import { getAutoscalerNode } from "./get-autoscaler-node.js";
import { decodeNodeProfile, encodeNodeProfile } from "./internal/autoscaler-network.js";
import { registerAutoscalerNode } from "./register-autoscaler-node.js";
import { setAppNetworkTerms as setTerms } from "./set-app-network-terms.js";

const KEY = `0x${"11".repeat(32)}` as const;
// Nothing answers here: every case below must be refused before any request.
const client = createPodnetBaseClient({
  publicClient: createPublicClient({ chain: foundry, transport: http("http://127.0.0.1:9") }),
  deployment: { chainId: 31337, contracts: {} } as unknown as Deployment,
  blobCacheDir: "/nonexistent",
});

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterError);
    return (error as Error).message;
  }
  throw new Error("expected an InvalidParameterError");
};

describe("autoscaler node profile", () => {
  it("encodes the DNS addresses as bytes4/bytes16 and decodes them back (zero: none)", () => {
    const encoded = encodeNodeProfile({
      endpoint: "https://node.example/",
      encryptionKey: KEY,
      dnsIpv4: "192.0.2.7",
      dnsIpv6: "2001:db8::53",
    });
    expect(encoded).toEqual({
      endpoint: "https://node.example",
      encryptionKey: KEY,
      dnsIpv4: "0xc0000207",
      dnsIpv6: "0x20010db8000000000000000000000053",
    });
    expect(decodeNodeProfile(encoded)).toEqual({
      endpoint: "https://node.example",
      encryptionKey: KEY,
      dnsIpv4: "192.0.2.7",
      dnsIpv6: "2001:db8::53",
    });
    const bare = encodeNodeProfile({ endpoint: "http://127.0.0.1:7100", encryptionKey: KEY });
    expect(decodeNodeProfile(bare)).toEqual({ endpoint: "http://127.0.0.1:7100", encryptionKey: KEY });
  });

  it("refuses hostile fields, naming them", () => {
    expect(refusal(() => encodeNodeProfile({ endpoint: "ftp://x", encryptionKey: KEY }))).toMatch(/endpoint/);
    expect(refusal(() => encodeNodeProfile({ endpoint: "http://x", encryptionKey: `0x${"00".repeat(32)}` }))).toMatch(
      /encryptionKey/,
    );
    expect(refusal(() => encodeNodeProfile({ endpoint: "http://x", encryptionKey: "0x12" }))).toMatch(/encryptionKey/);
    expect(refusal(() => encodeNodeProfile({ endpoint: "http://x", encryptionKey: KEY, dnsIpv4: "1.2.3" }))).toMatch(
      /dnsIpv4/,
    );
    expect(refusal(() => encodeNodeProfile({ endpoint: "http://x", encryptionKey: KEY, dnsIpv6: "1.2.3.4" }))).toMatch(
      /dnsIpv6/,
    );
  });
});

describe("network actions refuse bad parameters before any request", () => {
  it("setAppNetworkTerms: vault, enabled and fees", async () => {
    const vault = "0x00000000000000000000000000000000000000aa";
    await expect(
      setTerms(client, { vault: "nope" as never, enabled: true, feePerReplacement: 1n, maxFeesPerDay: 1n }),
    ).rejects.toThrow(/vault/);
    await expect(setTerms(client, { vault, enabled: true, feePerReplacement: -1n, maxFeesPerDay: 1n })).rejects.toThrow(
      /feePerReplacement/,
    );
    await expect(
      setTerms(client, { vault, enabled: true, feePerReplacement: 1n, maxFeesPerDay: 1n << 96n }),
    ).rejects.toThrow(/maxFeesPerDay/);
    await expect(
      setTerms(client, { vault, enabled: "yes" as never, feePerReplacement: 1n, maxFeesPerDay: 1n }),
    ).rejects.toThrow(/enabled/);
  });

  it("registerAutoscalerNode and getAutoscalerNode: the profile, the stake, the node", async () => {
    await expect(
      registerAutoscalerNode(client, { endpoint: "http://n", encryptionKey: KEY, stake: 0n }),
    ).rejects.toThrow(/stake/);
    await expect(getAutoscalerNode(client, { node: "0x12" as never })).rejects.toThrow(/node/);
  });
});
