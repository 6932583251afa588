/**
 * Anvil's dev accounts: who acts on a local chain. The keys are public knowledge: usable only on a local chain
 * (chain id 31337), never anywhere with value.
 */
import type { Hex } from "viem";
import { type HDAccount, mnemonicToAccount } from "viem/accounts";

/** Anvil's well-known dev mnemonic (local chain only). */
export const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

/** Anvil's first dev account's key: the default deployer of a local chain. */
export const ANVIL_DEPLOYER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/** Anvil's dev account `index` (local chain only) with its private key, for a worker's config or the CLI. */
export function devAccount(index: number): { account: HDAccount; privateKey: Hex } {
  const account = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
  const privateKey = `0x${Buffer.from(account.getHdKey().privateKey as Uint8Array).toString("hex")}` as Hex;
  return { account, privateKey };
}
