import { NonceCache, podnetMarketAbi, RequestAuthError, verifyRequest } from "@podnet/sdk/protocol";
import type { Context } from "hono";
import { type Address, isAddressEqual } from "viem";
import type { WorkerContext } from "../context.js";
import { HttpError } from "./http-error.js";

/**
 * Publisher authentication: every lease route is signed by the lease's publisher (see the SDK's request signing).
 * Stale, replayed, forged or pre-restart signatures are 401; a valid signer who does not own the lease is 403; a
 * lease this provider does not hold is 404 (so nobody learns about other providers' leases from here).
 */
export class PublisherAuth {
  private readonly nonces = new NonceCache();
  /** Signatures made before this worker started are refused: its nonce memory started empty. */
  private readonly notBefore = Math.floor(Date.now() / 1000) - 1;

  constructor(private readonly ctx: WorkerContext) {}

  /** Verifies the request signature; `body` is what the signature covers (undefined for bodiless requests). */
  async signer(c: Context, body?: Uint8Array | string): Promise<Address> {
    const url = new URL(c.req.url);
    try {
      return await verifyRequest(
        c.req.raw.headers,
        { provider: this.ctx.chain.account.address, method: c.req.method, path: url.pathname + url.search, body },
        { chainId: this.ctx.chain.chainId, nonces: this.nonces, notBefore: this.notBefore },
      );
    } catch (error) {
      if (error instanceof RequestAuthError) throw new HttpError(401, error.reason);
      throw error;
    }
  }

  /** The lease as the chain has it now, after checking it is this provider's and `signer` is its publisher. */
  async ownedLease(leaseIdText: string, signer: Address) {
    if (!/^[1-9]\d{0,18}$/.test(leaseIdText)) throw new HttpError(400, `leaseId: "${leaseIdText}" is not a lease id`);
    const leaseId = BigInt(leaseIdText);
    const lease = await this.ctx.chain.publicClient.readContract({
      address: this.ctx.chain.deployment.contracts.podnetMarket.address,
      abi: podnetMarketAbi,
      functionName: "getLease",
      args: [leaseId],
    });
    if (lease.status === 0 || !isAddressEqual(lease.provider, this.ctx.chain.account.address)) {
      throw new HttpError(404, `lease ${leaseId}: not a lease of this provider`);
    }
    if (!isAddressEqual(lease.publisher, signer)) {
      throw new HttpError(403, `lease ${leaseId}: ${signer} is not its publisher`);
    }
    return { leaseId, lease };
  }
}
