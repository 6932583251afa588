import type { Address, Hex } from "viem";

/** Resources of a pod or a provider's capacity: millicores and mebibytes, as the contracts count them. */
export type Resources = {
  cpuMillis: number;
  memoryMiB: number;
  storageMiB: number;
};

/** A provider's per-second prices in the payment token's base units. */
export type Pricing = {
  perCpuMilli: bigint;
  perMemoryMiB: bigint;
  perStorageMiB: bigint;
  flat: bigint;
};

/** A provider's signed offer (EIP-712 `Quote` of PodnetMarket). */
export type Quote = {
  provider: Address;
  /** The only account that may use the quote; the zero address lets anyone use it. */
  publisher: Address;
  specHash: Hex;
  resources: Resources;
  pricePerSecond: bigint;
  /** Unix seconds. */
  validUntil: number;
  attestationHash: Hex;
  nonce: bigint;
};
