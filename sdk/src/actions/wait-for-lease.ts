import type { Address, ReadContractErrorType } from "viem";
import type { PodnetClient } from "../client.js";
import {
  type ErrorType,
  NotFoundError,
  type NotFoundErrorType,
  PodnetError,
  type PodnetErrorType,
  TimeoutError,
  type TimeoutErrorType,
} from "../errors.js";
import { podnetMarketAbi } from "../protocol/index.js";
import { addresses } from "./internal/chain.js";

export type WaitForLeaseParameters = {
  orderId: bigint;
  /** Give up after this long (default 10 minutes). */
  timeoutMs?: number;
  /** Polling period (default: the public client's pollingInterval, at least 100 ms). */
  intervalMs?: number;
  signal?: AbortSignal;
};

export type WaitForLeaseReturnType = {
  leaseId: bigint;
  provider: Address;
  pricePerSecond: bigint;
};

/** A PodnetError (code NOT_FOUND) when the order was cancelled; `ErrorType<"AbortError">` when `signal` aborts. */
export type WaitForLeaseErrorType =
  | NotFoundErrorType
  | PodnetErrorType
  | TimeoutErrorType
  | ReadContractErrorType
  | ErrorType;

/**
 * Waits until an order is matched (accepted by its publisher, or finalized by anyone for an auto-accept order) and
 * returns the new lease. Polls `getOrder`, so it works on any RPC (no event filters needed).
 *
 * @throws {PodnetError} when the order was cancelled; {@link TimeoutError} after `timeoutMs`.
 * @example
 * const { orderId } = await client.createOrder({ manifest, ..., autoAccept: true });
 * const { leaseId, provider } = await client.waitForLease({ orderId, timeoutMs: 300_000 });
 */
export async function waitForLease(
  client: PodnetClient,
  params: WaitForLeaseParameters,
): Promise<WaitForLeaseReturnType> {
  const timeoutMs = params.timeoutMs ?? 600_000;
  const intervalMs = params.intervalMs ?? Math.max(100, client.publicClient.pollingInterval);
  const deadline = Date.now() + timeoutMs;
  const { market } = addresses(client);
  for (;;) {
    params.signal?.throwIfAborted();
    const order = await client.publicClient.readContract({
      address: market,
      abi: podnetMarketAbi,
      functionName: "getOrder",
      args: [params.orderId],
    });
    if (order.status === 0) throw new NotFoundError("order", params.orderId.toString());
    if (order.status === 3)
      throw new PodnetError("NOT_FOUND", `order ${params.orderId}: cancelled, no lease will come`);
    if (order.status === 2) {
      const lease = await client.publicClient.readContract({
        address: market,
        abi: podnetMarketAbi,
        functionName: "getLease",
        args: [order.leaseId],
      });
      return { leaseId: order.leaseId, provider: lease.provider, pricePerSecond: lease.pricePerSecond };
    }
    if (Date.now() >= deadline) throw new TimeoutError(`order ${params.orderId} to be matched`, timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
}
