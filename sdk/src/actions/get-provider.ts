import { type Address, getAddress, type Hex, isAddress, type ReadContractErrorType } from "viem";
import type { PodnetClient } from "../client.js";
import {
  type ErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
  NotFoundError,
  type NotFoundErrorType,
} from "../errors.js";
import {
  decodeAttribute,
  decodeIngress,
  type IngressAddress,
  type Pricing,
  providerRegistryAbi,
  type Resources,
} from "../protocol/index.js";
import { addresses } from "./internal/chain.js";

export type GetProviderParameters = {
  /** The provider's address. */
  address: Address;
};

export type ProviderStatus = "active" | "paused";

export type GetProviderReturnType = {
  address: Address;
  /** Base URL of the provider API. */
  endpoint: string;
  metadataURI: string;
  /** The X25519 public key content keys are wrapped to. */
  encryptionKey: Hex;
  /** Per-second prices in token base units. */
  pricing: Pricing;
  capacity: Resources;
  /** `key=value` attributes, e.g. `region=eu`. */
  attributes: string[];
  status: ProviderStatus;
  /** Where its HTTP ingress listens (`setIngress`), what App DNS answers for its pods; null when it published none. */
  ingress: IngressAddress | null;
  /** Unix seconds. */
  registeredAt: number;
  updatedAt: number;
};

export type GetProviderErrorType = InvalidParameterErrorType | NotFoundErrorType | ReadContractErrorType | ErrorType;

/**
 * Reads a provider's listing from the ProviderRegistry: endpoint, encryption key, pricing, capacity, attributes,
 * status and published ingress address.
 *
 * @throws {NotFoundError} when the address never registered.
 * @example
 * const provider = await client.getProvider({ address: "0x7099…79C8" });
 * console.log(provider.endpoint, provider.pricing.perCpuMilli);
 */
export async function getProvider(client: PodnetClient, params: GetProviderParameters): Promise<GetProviderReturnType> {
  if (!isAddress(params.address, { strict: false })) {
    throw new InvalidParameterError("address", `not an address: ${params.address}`);
  }
  const address = getAddress(params.address);
  const registry = addresses(client).registry;
  const [[profile, status, registeredAt, updatedAt], [ipv4, ipv6, port]] = await Promise.all([
    client.publicClient.readContract({
      address: registry,
      abi: providerRegistryAbi,
      functionName: "getProvider",
      args: [address],
    }),
    client.publicClient.readContract({
      address: registry,
      abi: providerRegistryAbi,
      functionName: "getIngress",
      args: [address],
    }),
  ]);
  if (status === 0) throw new NotFoundError("provider", address, "not registered");
  return {
    address,
    endpoint: profile.endpoint,
    metadataURI: profile.metadataURI,
    encryptionKey: profile.encryptionKey,
    pricing: {
      perCpuMilli: profile.pricing.perCpuMilli,
      perMemoryMiB: profile.pricing.perMemoryMiB,
      perStorageMiB: profile.pricing.perStorageMiB,
      flat: profile.pricing.flat,
    },
    capacity: { ...profile.capacity },
    attributes: profile.attributes.map((a) => {
      const { key, value } = decodeAttribute(a);
      return `${key}=${value}`;
    }),
    status: status === 1 ? "active" : "paused",
    ingress: decodeIngress(ipv4, ipv6, port),
    registeredAt,
    updatedAt,
  };
}
