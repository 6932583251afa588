import type { Deployment } from "@podnet/sdk/protocol";
import type { Address } from "viem";

/** The deployment's AutoscalerNetwork; an error naming the field when the deployment has none. */
export function networkAddress(deployment: Deployment): Address {
  const entry = (deployment.contracts as Record<string, { address: Address } | undefined>).autoscalerNetwork;
  if (!entry) throw new Error("deploymentsFile: has no contracts.autoscalerNetwork (a deployment without the network)");
  return entry.address;
}
