import {
  erc1271RequestCheck,
  podnetMarketAbi,
  RequestAuthError,
  readRequestHeaders,
  requestHeaders,
  type SignedRequestFields,
  type SignedRequestHeaders,
  verifyRequest,
} from "@podnet/sdk/protocol";
import type { Context } from "hono";
import { type Address, isAddressEqual } from "viem";
import type { WorkerContext } from "../context.js";
import { NonceStoreFull, RequestNonceStore } from "../store/request-nonces.js";
import { type ContractPublisherOptions, ContractPublishers } from "./contract-publishers.js";
import { HttpError } from "./http-error.js";
import { LeaseCache } from "./lease-cache.js";
import { recoverAddressNative } from "./signature-recovery.js";

/** Lease ids of the API: a positive decimal that fits in a uint64. */
const LEASE_ID = /^[1-9]\d{0,18}$/;

/** A lease as the market's `getLease` returns it. */
export type ChainLease = Awaited<ReturnType<typeof readChainLease>>;

function readChainLease(ctx: WorkerContext, leaseId: bigint) {
  return ctx.chain.publicClient.readContract({
    address: ctx.chain.deployment.contracts.podnetMarket.address,
    abi: podnetMarketAbi,
    functionName: "getLease",
    args: [leaseId],
  });
}

/** A signed lease request that passed every check: who signed it, and the lease as the chain has it. */
export interface AuthorizedRequest {
  signer: Address;
  leaseId: bigint;
  lease: ChainLease;
  /** The body the signature covers, when the route asked for it. */
  body?: string;
}

/**
 * Publisher authentication: every lease route is signed by the lease's publisher (see the SDK's request signing), or,
 * when the publisher is a contract (an app's AppVault), by a key the contract vouches for with ERC-1271 (the app's
 * owner or a controller; see {@link ContractPublishers}). Stale, replayed, forged or pre-restart signatures are 401; a
 * valid signer who does not own the lease (nor is vouched for by its contract publisher) is 403; a lease this provider
 * does not hold is 404 (so nobody learns about other providers' leases from here).
 *
 * The checks run cheapest first, so a stranger costs little: the headers' form and freshness, then what the worker
 * already knows (its own leases and their publishers, from the chain events it followed: a stated signer who is not
 * the publisher is refused before any signature recovery or body read, unless the publisher has code (one cached
 * `eth_getCode` per publisher); a lease id the follower saw go to another provider is refused without an `eth_call`),
 * then the body (bounded), then one signature recovery and the nonce's freshness, then the lease on chain (cached, see
 * {@link LeaseCache}), then for a signer who is not the publisher the contract's `isValidSignature` (cached per
 * publisher and signer), and last the nonce is claimed, so a refused request burns nothing and only accepted requests
 * enter the nonce store.
 */
export class PublisherAuth {
  private readonly nonces: RequestNonceStore;
  private readonly leases = new LeaseCache<ChainLease>();
  private readonly contracts: ContractPublishers;

  constructor(
    private readonly ctx: WorkerContext,
    contractOptions: ContractPublisherOptions = {},
  ) {
    this.nonces = RequestNonceStore.open(ctx.config.dataDir);
    this.contracts = new ContractPublishers(ctx.chain.publicClient, contractOptions);
  }

  /**
   * Authorizes the signed request `c` for the lease in its `:id` parameter. `readBody` reads the body the signature
   * covers (after the cheap checks); `fresh` reads the lease from the chain even when a cached copy is current (the
   * manifest route: a spec update may have been mined a moment ago).
   */
  async authorize(
    c: Context,
    opts: { readBody?: () => Promise<string>; fresh?: boolean } = {},
  ): Promise<AuthorizedRequest> {
    const leaseIdText = c.req.param("id") ?? "";
    if (!LEASE_ID.test(leaseIdText)) throw new HttpError(400, `leaseId: "${leaseIdText}" is not a lease id`);
    const leaseId = BigInt(leaseIdText);
    const now = Math.floor(Date.now() / 1000);
    const { notBefore } = this.nonces;
    const stated = unauthorized(() => readRequestHeaders(c.req.raw.headers, { now, notBefore }));
    await this.refuseKnownStrangers(leaseId, stated.signer);
    const body = opts.readBody ? await opts.readBody() : undefined;
    const url = new URL(c.req.url);
    const request: SignedRequestFields = {
      provider: this.ctx.chain.account.address,
      method: c.req.method,
      path: url.pathname + url.search,
      body,
    };
    const signer = await unauthorized(() =>
      verifyRequest(
        c.req.raw.headers,
        request,
        // Only looks: the nonce is claimed below, once the request is authorized, so a refusal stores nothing.
        {
          chainId: this.ctx.chain.chainId,
          now,
          notBefore,
          nonces: { claim: (s, n) => !this.nonces.has(s, n) },
          ...(recoverAddressNative ? { recoverAddress: recoverAddressNative } : {}),
        },
      ),
    );
    const lease = await this.chainLease(leaseId, opts.fresh ?? false);
    if (lease.status === 0 || !isAddressEqual(lease.provider, this.ctx.chain.account.address)) {
      throw new HttpError(404, `lease ${leaseId}: not a lease of this provider`);
    }
    if (!isAddressEqual(lease.publisher, signer))
      await this.requireVouched(leaseId, lease.publisher, signer, request, stated);
    this.claim(signer, stated, now);
    return body === undefined ? { signer, leaseId, lease } : { signer, leaseId, lease, body };
  }

  /**
   * Refuses from the worker's own records, with no recovery and no `eth_call`: a lease of this provider whose publisher
   * is not the stated signer and has no code (403; the code answer is cached per publisher) or is a contract that
   * refused that signer moments ago (403, the cached verdict), or a lease id the follower has seen created for another
   * provider (404).
   */
  private async refuseKnownStrangers(leaseId: bigint, stated: Address) {
    const record = this.ctx.state.data.leases[leaseId.toString()];
    if (record) {
      if (isAddressEqual(record.publisher, stated)) return;
      if (!(await this.contracts.isContract(record.publisher))) {
        throw new HttpError(403, `lease ${leaseId}: ${stated} is not its publisher`);
      }
      const refusal = this.contracts.knownRefusal(record.publisher, stated);
      if (refusal) throw notVouched(leaseId, stated, record.publisher, refusal.reason);
      return;
    }
    const newest = this.ctx.state.data.lastLeaseId;
    // Every LeaseCreated up to the follower's cursor went through the worker: one not in its records is not its own.
    // A newer id may be a lease made a block ago (the publisher sends its manifest right away): the chain answers.
    if (newest !== undefined && leaseId <= BigInt(newest)) {
      throw new HttpError(404, `lease ${leaseId}: not a lease of this provider`);
    }
  }

  /**
   * A signer who is not the lease's publisher is let in only when the publisher is a contract that vouches for it
   * (ERC-1271 on the request's digest and the signature followed by the request's struct hash).
   */
  private async requireVouched(
    leaseId: bigint,
    publisher: Address,
    signer: Address,
    request: SignedRequestFields,
    stated: SignedRequestHeaders,
  ) {
    if (!(await this.contracts.isContract(publisher))) {
      throw new HttpError(403, `lease ${leaseId}: ${signer} is not its publisher`);
    }
    const chainId = this.ctx.chain.chainId;
    const verdict = await this.contracts.vouches(publisher, signer, () =>
      unauthorized(() => erc1271RequestCheck(chainId, request, stated)),
    );
    if (!verdict.vouched) throw notVouched(leaseId, signer, publisher, verdict.reason);
  }

  /** The lease from the cache while the worker's record of it is unchanged, else from the chain. */
  private async chainLease(leaseId: bigint, fresh: boolean) {
    const id = leaseId.toString();
    const record = this.ctx.state.data.leases[id];
    const stamp = record ? `${record.status}:${record.specHash}` : "unknown";
    const cached = fresh ? undefined : this.leases.get(id, stamp);
    if (cached) return cached;
    const lease = await readChainLease(this.ctx, leaseId);
    // A lease id that does not exist yet is not remembered: it may be created in the next block.
    if (lease.status !== 0) this.leases.set(id, lease, stamp);
    return lease;
  }

  private claim(signer: Address, stated: SignedRequestHeaders, now: number) {
    let fresh: boolean;
    try {
      fresh = this.nonces.claim(signer, stated.nonce, stated.timestamp, now);
    } catch (error) {
      if (error instanceof NonceStoreFull) throw HttpError.later(503, error.message, error.retryAfterSeconds);
      throw error;
    }
    if (!fresh) throw new HttpError(401, `${requestHeaders.nonce}: already used (replayed request)`);
  }
}

function notVouched(leaseId: bigint, signer: Address, publisher: Address, reason: string) {
  return new HttpError(403, `lease ${leaseId}: ${signer} is not its publisher ${publisher}: ${reason}`);
}

/** Runs a request-signing check, turning its refusal into a 401 naming the header and the reason. */
function unauthorized<T>(check: () => T): T {
  try {
    const result = check();
    if (result instanceof Promise) return result.catch(rethrow) as T;
    return result;
  } catch (error) {
    return rethrow(error);
  }
}

function rethrow(error: unknown): never {
  if (error instanceof RequestAuthError) throw new HttpError(401, error.reason);
  throw error;
}
