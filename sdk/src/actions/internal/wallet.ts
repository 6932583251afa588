import type { Account, Address, LocalAccount, SignMessageErrorType, WalletClient } from "viem";
import { deriveSelfEncryptionKey, type SelfEncryptionKey } from "../../blob-cache.js";
import type { PodnetClient } from "../../client.js";
import { WalletRequiredError, type WalletRequiredErrorType } from "../../errors.js";

export type RequireWalletErrorType = WalletRequiredErrorType;

/** No cache key without a signer; the wallet (or its user) may refuse to sign. */
export type SelfEncryptionKeyErrorType = WalletRequiredErrorType | SignMessageErrorType;

/** The wallet client and its account, or a {@link WalletRequiredError} naming the action. */
export function requireWallet(
  client: PodnetClient,
  action: string,
): { walletClient: WalletClient; account: Account; address: Address } {
  const walletClient = client.walletClient;
  const account = walletClient?.account;
  if (!walletClient || !account) throw new WalletRequiredError(action);
  return { walletClient, account, address: account.address };
}

/** The wallet's address when a wallet is configured. */
export function walletAddress(client: PodnetClient): Address | undefined {
  return client.walletClient?.account?.address;
}

/**
 * What `signRequest` needs, signed through the wallet client: works for local accounts and for JSON-RPC accounts
 * (eth_signTypedData_v4), which have no `signTypedData` of their own.
 */
export function requestSigner(client: PodnetClient, action: string): Pick<LocalAccount, "address" | "signTypedData"> {
  const { walletClient, account } = requireWallet(client, action);
  const signTypedData = ((typedData: Parameters<LocalAccount["signTypedData"]>[0]) =>
    walletClient.signTypedData({ ...typedData, account } as Parameters<
      WalletClient["signTypedData"]
    >[0])) as LocalAccount["signTypedData"];
  return { address: account.address, signTypedData };
}

/**
 * The publisher's own X25519 key for the blob cache, derived once per client and wallet account from a signature
 * (see {@link deriveSelfEncryptionKey}).
 */
export async function selfEncryptionKey(client: PodnetClient, action: string): Promise<SelfEncryptionKey> {
  const { walletClient, account } = requireWallet(client, action);
  const memo = client.state.selfKeys;
  let pending = memo.get(account.address);
  if (!pending) {
    pending = deriveSelfEncryptionKey((message) => walletClient.signMessage({ account, message }));
    memo.set(account.address, pending);
    // A refused signature must not stick: the next call asks again.
    pending.catch(() => memo.delete(account.address));
  }
  return pending;
}
