import { erc20Abi } from "viem";
import type { WorkerContext } from "../context.js";

/** The payment token as the console formats money with it; symbol and decimals null while the chain did not say. */
export interface TokenInfo {
  address: string;
  symbol: string | null;
  decimals: number | null;
}

const known = new WeakMap<WorkerContext, TokenInfo>();

/**
 * The market's payment token: its address from the deployment, its symbol and decimals read from the chain once (they
 * never change) and remembered per worker. A failed read is not remembered: the next call asks again.
 */
export async function tokenInfo(ctx: WorkerContext): Promise<TokenInfo> {
  const cached = known.get(ctx);
  if (cached) return cached;
  const address = ctx.chain.deployment.contracts.paymentToken.address;
  try {
    const contract = { address, abi: erc20Abi } as const;
    const [symbol, decimals] = await Promise.all([
      ctx.chain.publicClient.readContract({ ...contract, functionName: "symbol" }),
      ctx.chain.publicClient.readContract({ ...contract, functionName: "decimals" }),
    ]);
    // A token that answers something else (not ERC-20 metadata) is shown by its address alone.
    if (typeof symbol !== "string" || typeof decimals !== "number") return { address, symbol: null, decimals: null };
    const info = { address, symbol, decimals };
    known.set(ctx, info);
    return info;
  } catch {
    return { address, symbol: null, decimals: null };
  }
}
