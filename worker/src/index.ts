// The provider worker (bid engine, Docker provisioning, provider API) arrives with the [Worker] issue.
// This skeleton pins the package's shape: it reads the market through the SDK's protocol layer.
import { podnetMarketAbi } from "@podnet/sdk";

/** Market events the worker will follow from its persisted cursor. */
export const followedMarketEvents = podnetMarketAbi
  .filter((item) => item.type === "event")
  .map((item) => item.name)
  .filter((name) => name.startsWith("Lease") || name.startsWith("Order") || name.startsWith("Bid"));
