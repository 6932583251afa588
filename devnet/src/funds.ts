/** Money on a local chain: gas for accounts anvil did not fund, and the freely mintable test token. */
import { podnetTestTokenAbi } from "@podnet/sdk/protocol";
import type { Address } from "viem";
import type { HDAccount } from "viem/accounts";
import { clients, type LocalChain, walletClient } from "./chain.js";

/** One whole test token (18 decimals). */
export const TOKEN = 10n ** 18n;

/** Gas money given to an account anvil did not fund. */
const GAS_MONEY = 100n * 10n ** 18n;

/** Gives `address` gas money when it has none: anvil funds only dev accounts 0-9. */
export async function ensureGas(chain: LocalChain, address: Address): Promise<void> {
  const { client, testClient } = clients(chain);
  if ((await client.getBalance({ address })) === 0n) await testClient.setBalance({ address, value: GAS_MONEY });
}

/**
 * Gas money when needed, then `amount` test tokens minted to `account` (the test token is freely mintable), without
 * approving anyone: for publishers whose SDK approves the market itself.
 */
export async function mint(chain: LocalChain, account: HDAccount, amount: bigint): Promise<void> {
  await ensureGas(chain, account.address);
  await tokenWrite(chain, account, "mint", [account.address, amount]);
}

/** {@link mint}, then lets the market take the tokens: a provider's stake, a publisher's deposits. */
export async function fund(chain: LocalChain, account: HDAccount, amount: bigint): Promise<void> {
  await mint(chain, account, amount);
  await tokenWrite(chain, account, "approve", [chain.deployment.contracts.podnetMarket.address, amount]);
}

/** The test token balance of `who` (at `blockNumber`, default the latest block). */
export async function tokenBalance(chain: LocalChain, who: Address, blockNumber?: bigint): Promise<bigint> {
  return clients(chain).client.readContract({
    address: chain.deployment.contracts.paymentToken.address,
    abi: podnetTestTokenAbi,
    functionName: "balanceOf",
    args: [who],
    blockNumber,
  });
}

async function tokenWrite(
  chain: LocalChain,
  account: HDAccount,
  functionName: "mint" | "approve",
  args: readonly [Address, bigint],
) {
  const hash = await walletClient(chain, account).writeContract({
    address: chain.deployment.contracts.paymentToken.address,
    abi: podnetTestTokenAbi,
    functionName,
    args,
  } as never);
  await clients(chain).client.waitForTransactionReceipt({ hash });
}
