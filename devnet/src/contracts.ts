/** The contracts of a local chain as viem contract handles (`.read`, and `.write` with a wallet). */
import {
  appVaultFactoryAbi,
  disputeCourtAbi,
  podnetMarketAbi,
  podnetTestTokenAbi,
  providerRegistryAbi,
} from "@podnet/sdk/protocol";
import { type Abi, getContract } from "viem";
import { clients, type LocalChain } from "./chain.js";

/**
 * The contracts' handles for `client`: reads only with a public client, writes too with a wallet. An app's vault is
 * `getContract({ address, abi: appVaultAbi, client })` for the address `vaultFactory` created.
 */
export function contractHandles<C extends Parameters<typeof getContract>[0]["client"]>(
  deployment: LocalChain["deployment"],
  client: C,
) {
  const { paymentToken, providerRegistry, podnetMarket, disputeCourt, appVaultFactory } = deployment.contracts;
  return {
    token: getContract({ address: paymentToken.address, abi: podnetTestTokenAbi, client }),
    registry: getContract({ address: providerRegistry.address, abi: providerRegistryAbi, client }),
    market: getContract({ address: podnetMarket.address, abi: podnetMarketAbi, client }),
    court: getContract({ address: disputeCourt.address, abi: disputeCourtAbi, client }),
    vaultFactory: getContract({ address: appVaultFactory.address, abi: appVaultFactoryAbi, client }),
  };
}

/** Read-only contract handles of a local chain. */
export function contracts(chain: Pick<LocalChain, "rpcUrl" | "deployment">) {
  const { client } = clients(chain);
  return { client, ...contractHandles(chain.deployment, client) };
}

/** A read of PodnetMarket by function name, for the structs the tests and benchmarks check field by field. */
export function readMarket<T>(chain: LocalChain, functionName: string, args: readonly unknown[] = []): Promise<T> {
  return clients(chain).client.readContract({
    address: chain.deployment.contracts.podnetMarket.address,
    abi: podnetMarketAbi as Abi,
    functionName,
    args,
  }) as Promise<T>;
}
