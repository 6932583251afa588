/** The gas table of `npm run bench`: every transaction of a run, decoded by selector and grouped by operation. */
import { disputeCourtAbi, podnetMarketAbi, podnetTestTokenAbi, providerRegistryAbi } from "@podnet/sdk/protocol";
import { type Abi, decodeFunctionData, type Hex, toFunctionSelector } from "viem";
import { clients, type LocalChain } from "../chain.js";

/** The name of the compensation claim's row: a closeLease, told apart by its transaction. */
export const DARK_CLAIM = "closeLease (dark provider, compensation claim)";
/** The SDK's exact approval for a lease when told not to use a permit (`permit: false`), told apart by its transaction. */
export const EXACT_APPROVE = "approve (exact deposit, SDK without permit)";
/** The createLease that follows {@link EXACT_APPROVE}: it spends the allowance to zero. */
export const CREATE_AFTER_APPROVE = "createLease (after the exact approval)";
/**
 * The warm-up leases, each provider's first: the provider's quote-nonce word and the publisher's permit nonce (its
 * first permit, on A) are written from zero, so they cost more than the steady state of the createLeaseWithPermit row.
 */
export const FIRST_LEASES =
  "createLeaseWithPermit (warm-up: each provider's first lease, the publisher's first permit)";

/**
 * The order of the gas rows: the lifecycle first, then whatever else the run sent. The bench's publisher approves
 * nothing beforehand, so the SDK pays with permits (`*WithPermit`); `createLease` alone is the reconcile publishers'
 * (a standing approval).
 */
export const GAS_ORDER = [
  "register",
  "stake",
  "createLeaseWithPermit",
  FIRST_LEASES,
  EXACT_APPROVE,
  CREATE_AFTER_APPROVE,
  "createLease",
  "createOrderWithPermit",
  "placeBid",
  "acceptBid",
  "releaseBid",
  "heartbeat",
  "withdraw (1 lease)",
  "topUpWithPermit",
  "closeLease",
  "releaseCollateral",
  "reportDark",
  DARK_CLAIM,
  "unjail",
];

const abis = [podnetMarketAbi, providerRegistryAbi, disputeCourtAbi, podnetTestTokenAbi] as Abi[];
const selectors = new Map<Hex, Abi>();
for (const abi of abis) {
  for (const item of abi) if (item.type === "function") selectors.set(toFunctionSelector(item), abi);
}

/**
 * The gas used of every transaction from `fromBlock` on, by operation: "withdraw" is split by how many leases it
 * settled, a transaction of `named` gets that row (e.g. the {@link DARK_CLAIM}), and a reverted one gets its own row.
 */
export async function gasByOperation(
  chain: LocalChain,
  fromBlock: bigint,
  named: ReadonlyMap<Hex, string>,
): Promise<Map<string, number[]>> {
  const { client } = clients(chain);
  const head = await client.getBlockNumber();
  const byOperation = new Map<string, number[]>();
  for (let n = fromBlock; n <= head; n++) {
    const block = await client.getBlock({ blockNumber: n, includeTransactions: true });
    for (const tx of block.transactions) {
      const abi = selectors.get(tx.input.slice(0, 10) as Hex);
      if (!abi) continue;
      const { functionName, args } = decodeFunctionData({ abi, data: tx.input });
      let name: string = functionName;
      if (functionName === "withdraw") {
        const leases = (args?.[0] as readonly bigint[] | undefined)?.length ?? 0;
        name = `withdraw (${leases} lease${leases === 1 ? "" : "s"})`;
      }
      name = named.get(tx.hash) ?? name;
      const receipt = await client.getTransactionReceipt({ hash: tx.hash });
      if (receipt.status !== "success") name = `${name} (reverted)`;
      byOperation.set(name, [...(byOperation.get(name) ?? []), Number(receipt.gasUsed)]);
    }
  }
  return byOperation;
}
