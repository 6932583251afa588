import {
  type CreatePodnetBaseClientErrorType,
  createPodnetBaseClient,
  type PodnetBaseClient,
  type PodnetClient,
  type PodnetClientConfig,
} from "./client.js";
import { type PodnetActions, podnetActions } from "./decorators/podnet.js";

// Its own module, not client.ts: it imports the decorator, which imports every action, and every action imports
// client.ts.

export type PodnetClientWithActions = PodnetClient & PodnetActions;

export type CreatePodnetClientErrorType = CreatePodnetBaseClientErrorType;

/**
 * The publisher client: the configuration with every action bound to it (`createPodnetBaseClient(config)
 * .extend(podnetActions)`). Each action is also a standalone function taking the client first
 * (`getQuote(client, params)`), for tree-shaking and composition.
 *
 * @throws {InvalidParameterError} when `publicClient` or `deployment` is missing, or they are on different chains.
 * @example
 * import { createPodnetClient, parseDeployment } from "@podnet/sdk";
 * import { createPublicClient, createWalletClient, http } from "viem";
 * import { privateKeyToAccount } from "viem/accounts";
 * import { foundry } from "viem/chains";
 *
 * const transport = http("http://127.0.0.1:8545");
 * const client = createPodnetClient({
 *   publicClient: createPublicClient({ chain: foundry, transport }),
 *   walletClient: createWalletClient({ chain: foundry, transport, account: privateKeyToAccount(key) }),
 *   deployment: parseDeployment(JSON.parse(readFileSync("deployments/31337.json", "utf8"))),
 * });
 * const { image } = await client.prepareImage({ tarball: "web.tar" });
 */
export function createPodnetClient(config: PodnetClientConfig): PodnetBaseClient<PodnetActions> {
  return createPodnetBaseClient(config).extend(podnetActions);
}
