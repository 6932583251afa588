import { getAddress, hashTypedData, keccak256, recoverTypedDataAddress, stringToHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { hashQuote, quoteDomain, quoteTypedData, quoteTypes } from "./quote.js";
import type { Quote } from "./types.js";

const provider = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const market = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
const quote: Quote = {
  provider: provider.address,
  publisher: getAddress("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
  specHash: keccak256(stringToHex("spec")),
  resources: { cpuMillis: 500, memoryMiB: 256, storageMiB: 0 },
  pricePerSecond: 1266n,
  validUntil: 1_800_000_600,
  attestationHash: keccak256(stringToHex("attestation")),
  nonce: 7n,
};

describe("quoteTypedData", () => {
  it("is the market's domain, the quote types and the quote itself", () => {
    expect(quoteTypedData(quote, 31337, market)).toEqual({
      domain: quoteDomain(31337, market),
      types: quoteTypes,
      primaryType: "Quote",
      message: quote,
    });
    expect(quoteDomain(31337, market)).toEqual({
      name: "Podnet",
      version: "1",
      chainId: 31337,
      verifyingContract: market,
    });
  });

  it("hashes to hashQuote and a signature over it recovers the provider", async () => {
    const typedData = quoteTypedData(quote, 31337, market);
    expect(hashTypedData(typedData)).toBe(hashQuote(quote, 31337, market));
    const signature = await provider.signTypedData(typedData);
    expect(await recoverTypedDataAddress({ ...typedData, signature })).toBe(provider.address);
    // Another chain or market is another digest: a quote for one deployment cannot be used on another.
    expect(hashQuote(quote, 1, market)).not.toBe(hashQuote(quote, 31337, market));
    const otherMarket = getAddress("0xe7f1725e7734ce288f8367e1bb143e90bb3f0512");
    expect(
      await recoverTypedDataAddress({ ...quoteTypedData({ ...quote, nonce: 8n }, 31337, otherMarket), signature }),
    ).not.toBe(provider.address);
  });
});
