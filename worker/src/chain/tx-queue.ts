import { withGasHeadroom } from "@podnet/sdk/protocol";
import {
  type Abi,
  type Address,
  BaseError,
  ContractFunctionRevertedError,
  type Hash,
  type TransactionReceipt,
} from "viem";
import type { Logger } from "../log.js";
import { type ChainContext, waitForReceipt } from "./connect.js";

/**
 * Sends the worker's transactions one at a time. The worker signs bids, heartbeats, withdrawals and closes from one
 * account; serialising them keeps nonces in order without a nonce manager and makes each failure attributable.
 */
export class TxQueue {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly chain: ChainContext,
    private readonly log: Logger,
  ) {}

  /** Runs `send` after every earlier transaction, waits for its receipt, and throws if it reverted. */
  run(label: string, send: () => Promise<Hash>): Promise<TransactionReceipt> {
    const next = this.tail.then(async () => {
      const hash = await send();
      const receipt = await waitForReceipt(this.chain, hash);
      if (receipt.status !== "success") throw new Error(`${label}: transaction ${hash} reverted`);
      this.log.debug("tx", { label, hash, gasUsed: receipt.gasUsed.toString() });
      return receipt;
    });
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** A contract call the worker sends: the market's or the registry's ABI, a function and its arguments. */
export interface ContractCall {
  address: Address;
  abi: Abi;
  functionName: string;
  args?: readonly unknown[];
}

/** Sends a contract call through the queue with estimated gas plus the protocol's headroom (withGasHeadroom). */
export function sendContract(chain: ChainContext, txs: TxQueue, label: string, call: ContractCall) {
  return txs.run(label, async () => {
    const gas = await chain.publicClient.estimateContractGas({ ...call, account: chain.account } as never);
    return chain.walletClient.writeContract({ ...call, gas: withGasHeadroom(gas) } as never);
  });
}

/** The custom error name of a failed contract call (MarketBiddingClosed, ...), for logs and decisions. */
export function revertName(error: unknown): string {
  if (error instanceof BaseError) {
    const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError) return revert.data?.errorName ?? revert.shortMessage;
    return error.shortMessage;
  }
  return (error as Error).message;
}
