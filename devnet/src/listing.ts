/**
 * A provider on chain without a worker: registered and staked straight through the contracts, and quotes signed with
 * its key exactly as a worker signs them (`quoteTypedData`). For tests of the market, the SDK and app vaults that need
 * a provider's listing and signatures but no pods.
 */
import {
  encodeAttribute,
  type Pricing,
  podnetMarketAbi,
  providerRegistryAbi,
  type Quote,
  quoteTypedData,
} from "@podnet/sdk/protocol";
import { type Address, type HDAccount, type Hex, keccak256, stringToHex } from "viem";
import { clients, type LocalChain, walletClient } from "./chain.js";
import { fund } from "./funds.js";

/** Options of {@link listProvider}. */
export type ListingOptions = {
  /** Tokens staked (and minted to it first). */
  stake: bigint;
  pricing?: Pricing;
  /** The registered X25519 key; default a fixed placeholder (no worker will decrypt anything). */
  encryptionKey?: Hex;
  endpoint?: string;
};

/** Registers `provider` (a placeholder endpoint and key, 64 CPUs of capacity, `region=local`) and stakes `stake`. */
export async function listProvider(chain: LocalChain, provider: HDAccount, opts: ListingOptions): Promise<void> {
  const { client } = clients(chain);
  const wallet = walletClient(chain, provider);
  await fund(chain, provider, opts.stake);
  const registered = await wallet.writeContract({
    address: chain.deployment.contracts.providerRegistry.address,
    abi: providerRegistryAbi,
    functionName: "register",
    args: [
      {
        endpoint: opts.endpoint ?? "https://provider.example:8443",
        metadataURI: "",
        encryptionKey: opts.encryptionKey ?? keccak256(stringToHex("x25519:provider")),
        pricing: opts.pricing ?? { perCpuMilli: 1n, perMemoryMiB: 1n, perStorageMiB: 1n, flat: 0n },
        capacity: { cpuMillis: 64_000, memoryMiB: 65_536, storageMiB: 1_000_000 },
        attributes: [encodeAttribute("region", "local")],
      },
    ],
  });
  await client.waitForTransactionReceipt({ hash: registered });
  const staked = await wallet.writeContract({
    address: chain.deployment.contracts.podnetMarket.address,
    abi: podnetMarketAbi,
    functionName: "stake",
    args: [opts.stake],
  });
  await client.waitForTransactionReceipt({ hash: staked });
}

/**
 * A quote by `provider` valid for 10 minutes of chain time, signed as a worker signs it. `fields` gives the publisher,
 * spec, resources, price and nonce; the attestation hash is a placeholder.
 */
export async function signedQuote(
  chain: LocalChain,
  provider: HDAccount,
  fields: Pick<Quote, "specHash" | "resources" | "pricePerSecond" | "nonce"> & { publisher: Address },
): Promise<{ quote: Quote; signature: Hex }> {
  const block = await clients(chain).client.getBlock();
  const quote: Quote = {
    provider: provider.address,
    ...fields,
    validUntil: Number(block.timestamp) + 600,
    attestationHash: keccak256(stringToHex("attestation")),
  };
  const signature = await walletClient(chain, provider).signTypedData(
    quoteTypedData(quote, chain.deployment.chainId, chain.deployment.contracts.podnetMarket.address),
  );
  return { quote, signature };
}
