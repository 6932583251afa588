import { providerRegistryAbi } from "@podnet/sdk/protocol";
import { HttpError } from "../api/http-error.js";
import { revertName, sendContract } from "../chain/tx-queue.js";
import type { WorkerContext } from "../context.js";

/**
 * Pauses or resumes the provider's listing in the registry: a transaction from the provider's key through the
 * worker's queue (so it never races a heartbeat or a bid for a nonce). Answers with the transaction and the status
 * the registry now has; a revert (already paused, not registered) is a 409 naming the contract's error.
 */
export async function setListing(ctx: WorkerContext, action: "pause" | "resume") {
  try {
    const receipt = await sendContract(ctx.chain, ctx.txs, action, {
      address: ctx.chain.deployment.contracts.providerRegistry.address,
      abi: providerRegistryAbi,
      functionName: action,
    });
    await ctx.refreshProfile();
    ctx.log.info(`listing ${action}d from the admin API`, { tx: receipt.transactionHash });
    ctx.adminEvents.publish("overview", { listing: ctx.profile.active ? "active" : "paused" });
    return {
      tx: receipt.transactionHash,
      block: receipt.blockNumber.toString(),
      status: ctx.profile.active ? "active" : "paused",
    };
  } catch (error) {
    throw new HttpError(409, `${action}: ${revertName(error)}`);
  }
}
