// The Ponder indexer arrives with the [Indexer] issue. This skeleton pins the package's shape: every contract event
// it will index comes from the SDK's generated ABIs.
import { podnetMarketAbi, providerRegistryAbi } from "@podnet/sdk";

/** Every event the indexer must turn into table rows, by contract. */
export const indexedEvents = {
  ProviderRegistry: providerRegistryAbi.filter((item) => item.type === "event").map((item) => item.name),
  PodnetMarket: podnetMarketAbi.filter((item) => item.type === "event").map((item) => item.name),
};
