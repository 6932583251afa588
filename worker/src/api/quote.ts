import {
  type AttestationDocument,
  attestationHash,
  bodyIssues,
  pricePerSecond,
  type QuoteResponse,
  quoteRequestSchema,
  quoteTypedData,
} from "@podnet/sdk/protocol";
import { zeroAddress } from "viem";
import type { WorkerContext } from "../context.js";
import { committedResources, freeResources, shortfall } from "../market/capacity.js";
import { notTakingWorkReason } from "../market/liveness.js";
import type { QuoteNonces } from "../store/quote-nonces.js";
import { HttpError } from "./http-error.js";

export const WORKER_VERSION = "0.1.0";

/** What this worker states about its machine; its hash goes into every quote it signs. */
export async function attestationDocument(ctx: WorkerContext, issuedAt: number): Promise<AttestationDocument> {
  const info = await ctx.runtime.info();
  const { sandbox } = ctx;
  return {
    version: 1,
    provider: ctx.chain.account.address,
    worker: { name: "podnet-worker", version: WORKER_VERSION },
    runtime: {
      kind: "docker",
      version: info.version,
      os: info.os,
      arch: info.arch,
      cgroup: info.cgroup,
      kernel: info.kernel,
      runc: info.runc,
      storageDriver: info.storageDriver,
    },
    // Measured at the worker's start (docker info and its own checks), not a constant: see runtime/sandbox.ts.
    sandbox: {
      privileged: false,
      hostNetwork: false,
      hostPaths: false,
      devices: false,
      capabilities: "none",
      userns: sandbox.userns,
      seccomp: sandbox.seccomp,
      apparmor: sandbox.apparmor,
      diskQuota: sandbox.rootfsQuota && sandbox.volumeQuota,
      egressFirewall: sandbox.egressFirewall,
      publicEgress: sandbox.publicEgress,
      notEnforced: sandbox.notEnforced,
    },
    tee: null,
    issuedAt,
  };
}

/**
 * Signs an EIP-712 quote for a pod, bound to the publisher that asked (open quotes only with `openQuotes`): the
 * registered price for its resources, valid for `quoteTtlSec`, with a fresh nonce (reserved on disk before the quote
 * leaves, so a restart never reuses one). A quote reserves nothing: anyone may ask for one, so a reservation would let
 * one caller lock the whole capacity without paying. It is refused (409, naming the resource) when running leases and
 * open bids leave too little; a lease made from it is checked again when its manifest arrives, and of two leases that
 * do not both fit, the one made later is refused. None while the provider is jailed or its own dark gap is still
 * reportable (503 naming why).
 */
export async function signQuote(
  ctx: WorkerContext,
  body: unknown,
  attestation: AttestationDocument,
  issuance: {
    nonces: QuoteNonces;
    /** Throws when the worker may not sign another quote now (its global quote rate); the last check. */
    mayIssue?: () => void;
  },
): Promise<QuoteResponse> {
  const parsed = quoteRequestSchema.safeParse(body);
  if (!parsed.success) throw HttpError.invalid(bodyIssues(parsed.error));
  const request = parsed.data;
  // An open quote (publisher zero) can be used by whoever sees it first: a stranger who copies it from the wire and
  // front-runs createLease burns the provider's nonce and takes the price. Bound quotes are the default.
  if (!request.publisher && !ctx.config.openQuotes) {
    throw HttpError.invalid([
      {
        path: "publisher",
        message:
          "required: this provider signs quotes bound to the publisher that will create the lease (open quotes are off)",
      },
    ]);
  }
  if (!ctx.profile.active) throw new HttpError(503, "provider: not registered or paused, not taking leases");
  const now = ctx.chainNow();
  // Jailed, or a dark gap anyone may still report: a lease taken now could end at the gap's start (see liveness.ts).
  const away = notTakingWorkReason(ctx, now);
  if (away) throw new HttpError(503, `provider: not taking leases now: ${away}`);
  const short = shortfall(request.resources, freeResources(ctx.profile.capacity, committedResources(ctx.state.data)));
  if (short) throw new HttpError(409, `resources: ${short}`);
  const price = pricePerSecond(ctx.profile.pricing, request.resources);
  if (price === 0n) throw new HttpError(503, "provider: its registered pricing is zero for these resources");
  issuance.mayIssue?.();
  const quote = {
    provider: ctx.chain.account.address,
    publisher: (request.publisher as `0x${string}` | undefined) ?? zeroAddress,
    specHash: request.specHash as `0x${string}`,
    resources: request.resources,
    pricePerSecond: price,
    validUntil: now + ctx.config.quoteTtlSec,
    attestationHash: attestationHash(attestation),
    nonce: issuance.nonces.take(),
  };
  const market = ctx.chain.deployment.contracts.podnetMarket.address;
  const signature = await ctx.chain.account.signTypedData(quoteTypedData(quote, ctx.chain.chainId, market));
  return {
    quote: { ...quote, pricePerSecond: price.toString(), nonce: quote.nonce.toString() },
    signature,
    attestation,
    chainId: ctx.chain.chainId,
    market,
  };
}
