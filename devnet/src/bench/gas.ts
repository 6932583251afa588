/** The gas table of `npm run bench`: every transaction of a run, decoded by selector and grouped by operation. */
import { disputeCourtAbi, podnetMarketAbi, podnetTestTokenAbi, providerRegistryAbi } from "@podnet/sdk/protocol";
import { type Abi, decodeFunctionData, type Hex, toFunctionSelector } from "viem";
import { clients, type LocalChain } from "../chain.js";

/** The name of the compensation claim's row: a closeLease, told apart by its transaction. */
export const DARK_CLAIM = "closeLease (dark provider, compensation claim)";

/** The order of the gas rows: the lifecycle first, then whatever else the run sent. */
export const GAS_ORDER = [
  "register",
  "stake",
  "createLease",
  "createOrder",
  "placeBid",
  "acceptBid",
  "releaseBid",
  "heartbeat",
  "withdraw (1 lease)",
  "topUp",
  "closeLease",
  "reportDark",
  DARK_CLAIM,
];

const abis = [podnetMarketAbi, providerRegistryAbi, disputeCourtAbi, podnetTestTokenAbi] as Abi[];
const selectors = new Map<Hex, Abi>();
for (const abi of abis) {
  for (const item of abi) if (item.type === "function") selectors.set(toFunctionSelector(item), abi);
}

/**
 * The gas used of every transaction from `fromBlock` on, by operation: "withdraw" is split by how many leases it
 * settled, the `darkClaim` transaction is the {@link DARK_CLAIM} row, and a reverted one gets its own row.
 */
export async function gasByOperation(
  chain: LocalChain,
  fromBlock: bigint,
  darkClaim: Hex,
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
      if (tx.hash === darkClaim) name = DARK_CLAIM;
      const receipt = await client.getTransactionReceipt({ hash: tx.hash });
      if (receipt.status !== "success") name = `${name} (reverted)`;
      byOperation.set(name, [...(byOperation.get(name) ?? []), Number(receipt.gasUsed)]);
    }
  }
  return byOperation;
}
