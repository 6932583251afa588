import type { Pricing, Resources } from "@podnet/sdk/protocol";
import { decodeAttribute, podnetMarketAbi, providerRegistryAbi } from "@podnet/sdk/protocol";
import type { Hex } from "viem";
import type { ChainContext } from "../chain/connect.js";

/** The provider's registration as the chain has it: what quotes and bids are priced from. */
export interface ProviderProfile {
  registered: boolean;
  active: boolean;
  endpoint: string;
  encryptionKey: Hex;
  pricing: Pricing;
  capacity: Resources;
  attributes: Hex[];
  attributeText: string[];
}

export async function readProfile(chain: ChainContext): Promise<ProviderProfile> {
  const registry = chain.deployment.contracts.providerRegistry.address;
  const provider = chain.account.address;
  const status = await chain.publicClient.readContract({
    address: registry,
    abi: providerRegistryAbi,
    functionName: "statusOf",
    args: [provider],
  });
  if (status === 0) {
    return {
      registered: false,
      active: false,
      endpoint: "",
      encryptionKey: `0x${"0".repeat(64)}`,
      pricing: { perCpuMilli: 0n, perMemoryMiB: 0n, perStorageMiB: 0n, flat: 0n },
      capacity: { cpuMillis: 0, memoryMiB: 0, storageMiB: 0 },
      attributes: [],
      attributeText: [],
    };
  }
  const [profile] = await chain.publicClient.readContract({
    address: registry,
    abi: providerRegistryAbi,
    functionName: "getProvider",
    args: [provider],
  });
  return {
    registered: true,
    active: status === 1,
    endpoint: profile.endpoint,
    encryptionKey: profile.encryptionKey,
    pricing: { ...profile.pricing },
    capacity: { ...profile.capacity },
    attributes: [...profile.attributes],
    attributeText: profile.attributes.map((a) => {
      const { key, value } = decodeAttribute(a);
      return `${key}=${value}`;
    }),
  };
}

export async function readStake(chain: ChainContext) {
  return chain.publicClient.readContract({
    address: chain.deployment.contracts.podnetMarket.address,
    abi: podnetMarketAbi,
    functionName: "stakeOf",
    args: [chain.account.address],
  });
}

/** The market's governed parameters (`params()`): thresholds, windows, bid caps. */
export type MarketParams = Awaited<ReturnType<typeof readMarketParams>>;

export async function readMarketParams(chain: ChainContext) {
  return chain.publicClient.readContract({
    address: chain.deployment.contracts.podnetMarket.address,
    abi: podnetMarketAbi,
    functionName: "params",
  });
}
