import { ponder } from "ponder:registry";
import { provider } from "ponder:schema";
import { decodeIngress, type Pricing, type Resources } from "@podnet/sdk/protocol";
import type { Hex } from "viem";
import { addToProtocol, attributeText, createProtocolRow, updateProvider } from "./state.js";

type Profile = {
  endpoint: string;
  metadataURI: string;
  encryptionKey: Hex;
  pricing: Pricing;
  capacity: Resources;
  attributes: readonly Hex[];
};

function profileColumns(args: Profile) {
  return {
    endpoint: args.endpoint,
    metadataUri: args.metadataURI,
    encryptionKey: args.encryptionKey,
    pricePerCpuMilli: args.pricing.perCpuMilli,
    pricePerMemoryMiB: args.pricing.perMemoryMiB,
    pricePerStorageMiB: args.pricing.perStorageMiB,
    priceFlat: args.pricing.flat,
    capacityCpuMillis: args.capacity.cpuMillis,
    capacityMemoryMiB: args.capacity.memoryMiB,
    capacityStorageMiB: args.capacity.storageMiB,
    attributes: args.attributes.map(attributeText),
  };
}

ponder.on("ProviderRegistry:setup", async ({ context }) => {
  await createProtocolRow(context);
});

ponder.on("ProviderRegistry:ProviderRegistered", async ({ event, context }) => {
  await context.db.insert(provider).values({
    address: event.args.provider,
    ...profileColumns(event.args),
    ingressAddresses: [],
    ingressPort: 0,
    status: "active",
    registeredAt: event.block.timestamp,
    changedBlock: event.block.number,
    updatedAt: event.block.timestamp,
    stakeFree: 0n,
    stakeLocked: 0n,
    stakeUnbonding: 0n,
    unbondingReleaseAt: 0n,
    heartbeatCount: 0,
    epoch: 0,
    jailed: false,
    darkSeconds: 0n,
    darkReports: 0,
    darkGaps: 0,
    leasesTotal: 0,
    leasesActive: 0,
    disputesTotal: 0,
    disputesLost: 0,
    earnedGross: 0n,
  });
  await addToProtocol(context, { providers: 1 });
});

ponder.on("ProviderRegistry:ProviderUpdated", async ({ event, context }) => {
  await updateProvider(context, event, event.args.provider, {
    ...profileColumns(event.args),
    updatedAt: event.block.timestamp,
  });
});

ponder.on("ProviderRegistry:ProviderPaused", async ({ event, context }) => {
  await updateProvider(context, event, event.args.provider, { status: "paused" });
});

ponder.on("ProviderRegistry:ProviderResumed", async ({ event, context }) => {
  await updateProvider(context, event, event.args.provider, { status: "active" });
});

ponder.on("ProviderRegistry:ProviderIngressSet", async ({ event, context }) => {
  const ingress = decodeIngress(event.args.ipv4, event.args.ipv6, event.args.port);
  await updateProvider(context, event, event.args.provider, {
    ingressAddresses: ingress?.addresses ?? [],
    ingressPort: ingress?.port ?? 0,
  });
});
