import { appVaultAbi, appVaultFactoryAbi, type Deployment } from "@podnet/sdk/protocol";
import type { Address, Hex, PublicClient } from "viem";

/**
 * What a node reads on chain before it accepts anything for a vault. "Made by the factory" comes from the factory's
 * own `AppCreated` log: `predictApp` needs the owner's salt, and a contract's `factory()` answer is whatever the
 * contract says (anyone can deploy one that claims the factory). Positive answers are remembered (a vault never stops
 * being the factory's); negative ones are not, so a vault created a moment later is found.
 */
export class VaultReads {
  private readonly madeByFactory = new Set<string>();

  constructor(
    private readonly client: PublicClient,
    private readonly deployment: Deployment,
  ) {}

  async isFactoryApp(vault: Address): Promise<boolean> {
    const key = vault.toLowerCase();
    if (this.madeByFactory.has(key)) return true;
    const factory = this.deployment.contracts.appVaultFactory;
    const logs = await this.client.getContractEvents({
      address: factory.address,
      abi: appVaultFactoryAbi,
      eventName: "AppCreated",
      args: { vault },
      fromBlock: BigInt(factory.blockNumber),
      strict: true,
    });
    const found = logs.some((log) => log.args.vault?.toLowerCase() === key);
    if (found) this.madeByFactory.add(key);
    return found;
  }

  /** The vault's owner, the hashes its leases and controllers go by, and whether it is in network mode, read now. */
  async vaultState(vault: Address): Promise<{ owner: Address; specHash: Hex; configHash: Hex; networkMode: boolean }> {
    const read = <const name extends "owner" | "specHash" | "configHash">(functionName: name) =>
      this.client.readContract({ address: vault, abi: appVaultAbi, functionName });
    const [owner, specHash, configHash, terms] = await Promise.all([
      read("owner"),
      read("specHash"),
      read("configHash"),
      this.client.readContract({ address: vault, abi: appVaultAbi, functionName: "networkTerms" }),
    ]);
    return { owner, specHash, configHash, networkMode: terms.enabled };
  }
}
