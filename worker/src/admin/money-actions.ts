import { podnetMarketAbi, podnetTestTokenAbi } from "@podnet/sdk/protocol";
import { Hono } from "hono";
import { erc20Abi, parseEventLogs } from "viem";
import { HttpError } from "../api/http-error.js";
import { revertName, sendContract } from "../chain/tx-queue.js";
import type { WorkerContext } from "../context.js";
import { readStake } from "../market/provider-profile.js";
import { withdrawEarnings } from "../market/withdrawal.js";
import { MAX_UINT96, parseAmount } from "./amounts.js";
import type { AdminRouteDeps } from "./deps.js";
import { jsonBody } from "./json-body.js";

/**
 * The console's money actions, scope `money`, each a transaction from the provider key through the worker's queue
 * (never racing a heartbeat or a bid for a nonce): POST /admin/v1/withdraw (the earnings of every lease, as the money
 * loop does every `withdrawIntervalSec`), POST /admin/v1/stake and /unstake `{ amount }` (token base units as a
 * decimal string). Bad input is a 400 naming the field before anything is sent; a contract revert a 409 naming it.
 */
export function moneyRoutes({ ctx, guard }: AdminRouteDeps) {
  const app = new Hono();

  app.post("/admin/v1/withdraw", guard.require("money"), async (c) => {
    let withdrawal: Awaited<ReturnType<typeof withdrawEarnings>>;
    try {
      withdrawal = await withdrawEarnings(ctx);
    } catch (error) {
      throw new HttpError(409, `withdraw: ${revertName(error)}`);
    }
    if (!withdrawal)
      throw new HttpError(409, "withdraw: no active lease and no closed lease owing: nothing to withdraw");
    ctx.adminEvents.publish("leases", { withdrawn: withdrawal.tx });
    const { tx, gross, fee, net, leases } = withdrawal;
    return c.json({ tx, gross, fee, net, leases });
  });

  app.post("/admin/v1/stake", guard.require("money"), async (c) => {
    const amount = parseAmount("amount", (await jsonBody(c)).amount);
    return c.json(await stake(ctx, amount));
  });

  app.post("/admin/v1/unstake", guard.require("money"), async (c) => {
    const amount = parseAmount("amount", (await jsonBody(c)).amount);
    return c.json(await unstake(ctx, amount));
  });

  return app;
}

const stakeFigures = (s: Awaited<ReturnType<typeof readStake>>) => ({
  free: s.free.toString(),
  locked: s.locked.toString(),
  unbonding: s.unbonding.toString(),
});

/**
 * Approves and stakes `amount` as `podnet-worker register` does. What the market would refuse for the wallet or the
 * bond limit is checked first, so no approval is left behind for a stake that cannot happen.
 */
async function stake(ctx: WorkerContext, amount: bigint) {
  const { podnetMarket, paymentToken } = ctx.chain.deployment.contracts;
  const [balance, before] = await Promise.all([
    ctx.chain.publicClient.readContract({
      address: paymentToken.address,
      abi: erc20Abi,
      functionName: "balanceOf",
      args: [ctx.chain.account.address],
    }),
    readStake(ctx.chain),
  ]).catch((error) => {
    throw new HttpError(503, `chain: ${(error as Error).message.split("\n")[0]}`);
  });
  if (balance < amount) throw new HttpError(409, `amount: ${amount} wanted, the provider's wallet holds ${balance}`);
  if (before.free + before.locked + amount > MAX_UINT96) {
    throw new HttpError(409, `amount: the bonded stake would pass the market's limit of ${MAX_UINT96}`);
  }
  let approveTx: string;
  try {
    approveTx = (
      await sendContract(ctx.chain, ctx.txs, "approve stake", {
        address: paymentToken.address,
        abi: podnetTestTokenAbi,
        functionName: "approve",
        args: [podnetMarket.address, amount],
      })
    ).transactionHash;
  } catch (error) {
    throw new HttpError(409, `approve: ${revertName(error)}`);
  }
  try {
    const receipt = await sendContract(ctx.chain, ctx.txs, "stake", {
      address: podnetMarket.address,
      abi: podnetMarketAbi,
      functionName: "stake",
      args: [amount],
    });
    const after = await readStake(ctx.chain);
    ctx.log.info("staked from the admin API", { amount, tx: receipt.transactionHash });
    ctx.adminEvents.publish("overview", { staked: amount.toString() });
    return { tx: receipt.transactionHash, approveTx, amount: amount.toString(), stake: stakeFigures(after) };
  } catch (error) {
    throw new HttpError(409, `stake: ${revertName(error)}`);
  }
}

/** Starts unbonding `amount` of free stake; the market restarts the delay for all that is unbonding. */
async function unstake(ctx: WorkerContext, amount: bigint) {
  try {
    const receipt = await sendContract(ctx.chain, ctx.txs, "unstake", {
      address: ctx.chain.deployment.contracts.podnetMarket.address,
      abi: podnetMarketAbi,
      functionName: "unstake",
      args: [amount],
    });
    const [requested] = parseEventLogs({ abi: podnetMarketAbi, eventName: "UnstakeRequested", logs: receipt.logs });
    ctx.log.info("unstake requested from the admin API", { amount, tx: receipt.transactionHash });
    ctx.adminEvents.publish("overview", { unstaked: amount.toString() });
    return {
      tx: receipt.transactionHash,
      amount: amount.toString(),
      unbonding: (requested?.args.unbonding ?? 0n).toString(),
      releaseAt: Number(requested?.args.releaseAt ?? 0),
    };
  } catch (error) {
    throw new HttpError(409, `unstake: ${revertName(error)}`);
  }
}
