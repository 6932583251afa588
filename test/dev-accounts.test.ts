/**
 * The devnet's dev accounts (devnet/src/accounts.ts) are anvil's: the seed is made with Node's PBKDF2 instead of
 * viem's, and each account is derived once per process. Same keys as viem's `mnemonicToAccount` and as anvil prints.
 */
import { ANVIL_DEPLOYER_KEY, ANVIL_MNEMONIC, devAccount } from "@podnet/devnet";
import { mnemonicToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";

describe("devAccount", () => {
  it("gives anvil's dev accounts", () => {
    // What `anvil` prints as its accounts (0), (1) and (9).
    expect(devAccount(0).account.address).toBe("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    expect(devAccount(0).privateKey).toBe(ANVIL_DEPLOYER_KEY);
    expect(devAccount(1).account.address).toBe("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    expect(devAccount(9).account.address).toBe("0xa0Ee7A142d267C1f36714E4a8F75612F20a79720");
  });

  it("derives each index as viem's mnemonicToAccount does, and signs with that key", async () => {
    for (const index of [2, 57, 95, 140]) {
      const viem = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
      const { account, privateKey } = devAccount(index);
      expect(account.address).toBe(viem.address);
      expect(privateKey).toBe(`0x${Buffer.from(viem.getHdKey().privateKey as Uint8Array).toString("hex")}`);
      expect(await account.signMessage({ message: "podnet" })).toBe(await viem.signMessage({ message: "podnet" }));
    }
    expect(devAccount(57)).toBe(devAccount(57));
  });
});
