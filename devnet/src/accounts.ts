/**
 * Anvil's dev accounts: who acts on a local chain. The keys are public knowledge: usable only on a local chain
 * (chain id 31337), never anywhere with value.
 */
import { pbkdf2Sync } from "node:crypto";
import type { Hex } from "viem";
import { type HDAccount, HDKey, hdKeyToAccount } from "viem/accounts";

/** Anvil's well-known dev mnemonic (local chain only). */
export const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

/** Anvil's first dev account's key: the default deployer of a local chain. */
export const ANVIL_DEPLOYER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

let masterKey: HDKey | undefined;
const accounts = new Map<number, { account: HDAccount; privateKey: Hex }>();

/**
 * The mnemonic's BIP-39 seed (no passphrase: PBKDF2-HMAC-SHA512, 2,048 rounds, salt "mnemonic"), made once with
 * Node's native PBKDF2. viem's `mnemonicToAccount` makes it again in JavaScript for every account it derives, about
 * 0.15 CPU seconds each, and a test run asks for hundreds of dev accounts.
 */
function anvilMasterKey(): HDKey {
  masterKey ??= HDKey.fromMasterSeed(pbkdf2Sync(ANVIL_MNEMONIC.normalize("NFKD"), "mnemonic", 2048, 64, "sha512"));
  return masterKey;
}

/**
 * Anvil's dev account `index` (local chain only) with its private key, for a worker's config or the CLI: the account
 * viem's `mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index })` gives, derived once per process.
 */
export function devAccount(index: number): { account: HDAccount; privateKey: Hex } {
  let derived = accounts.get(index);
  if (!derived) {
    const account = hdKeyToAccount(anvilMasterKey(), { addressIndex: index });
    const privateKey = `0x${Buffer.from(account.getHdKey().privateKey as Uint8Array).toString("hex")}` as Hex;
    derived = { account, privateKey };
    accounts.set(index, derived);
  }
  return derived;
}
