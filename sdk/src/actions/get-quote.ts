import { type Address, getAddress, type Hex, isAddressEqual, recoverTypedDataAddress, zeroAddress } from "viem";
import type { PodnetClient } from "../client.js";
import {
  type ErrorType,
  type ManifestErrorType,
  type ProviderApiErrorType,
  QuoteVerificationError,
  type QuoteVerificationErrorType,
} from "../errors.js";
import {
  type AttestationDocument,
  attestationHash,
  manifestHash,
  manifestResources,
  parseManifest,
  providerApiPaths,
  type Quote,
  type QuoteResponse,
  quoteTypedData,
} from "../protocol/index.js";
import { type GetProviderErrorType, type GetProviderReturnType, getProvider } from "./get-provider.js";
import { addresses, type ChainTimeErrorType, chainTime } from "./internal/chain.js";
import { providerJson } from "./internal/provider-api.js";
import { walletAddress } from "./internal/wallet.js";

/** What a publisher accepts beyond a correctly signed quote. */
export type QuotePolicy = {
  /** Refuse quotes above this price (token base units per second). */
  maxPricePerSecond?: bigint;
  /** Refuse machines without TEE evidence in their attestation. */
  requireTee?: boolean;
  /** Accepted `attestation.runtime.kind` values, e.g. `["docker"]`. */
  runtimes?: readonly string[];
  /** Refuse machines whose attestation does not state user namespaces (root in a pod would be root on the host). */
  requireUserns?: boolean;
};

export type GetQuoteParameters = {
  /** The provider to ask. */
  provider: Address;
  /** The pod manifest (pod.yaml parsed, or an object); validated with `parseManifest`. */
  manifest: unknown;
  policy?: QuotePolicy;
  /**
   * The account the quote is bound to. Default: the wallet account; without a wallet the quote is unbound (usable by
   * anyone), which providers refuse unless their operator turned open quotes on (`openQuotes`): pass the publisher.
   */
  publisher?: Address;
  /** The provider API's base URL; default: the endpoint registered on chain. */
  endpoint?: string;
  /** The quote must stay valid at least this long after the newest block (default 10 s), time to send the lease. */
  minValiditySeconds?: number;
};

export type GetQuoteReturnType = {
  /** The quote as `createLease` takes it. */
  quote: Quote;
  /** The provider's EIP-712 signature over it. */
  signature: Hex;
  /** What the provider states about its machine; `attestationHash(attestation) === quote.attestationHash`. */
  attestation: AttestationDocument;
  /** The provider's registry listing (endpoint, encryption key, pricing, ...). */
  provider: GetProviderReturnType;
};

/** No wallet error: the quote request is not signed (a wallet only picks the publisher the quote is bound to). */
export type GetQuoteErrorType =
  | ManifestErrorType
  | GetProviderErrorType
  | ProviderApiErrorType
  | QuoteVerificationErrorType
  | ChainTimeErrorType
  | ErrorType;

/**
 * Asks a provider for a signed quote to run `manifest` and verifies it before anything is signed or paid: the
 * EIP-712 signature recovers to the provider (domain of this deployment's market and chain), the quote is for the
 * spec hash, resources and publisher that were asked, the attestation document hashes to `attestationHash` and names
 * the provider, the chain and market match the deployment, `validUntil` is ahead of chain time, and the optional
 * policy holds.
 *
 * @throws {ManifestError} for an invalid manifest, naming each bad field.
 * @throws {QuoteVerificationError} naming the failed check.
 * @throws {ProviderApiError} when the provider refuses (e.g. 409: not enough free capacity).
 * @example
 * const { quote, signature } = await client.getQuote({ provider, manifest, policy: { maxPricePerSecond: 10n ** 9n } });
 * const { leaseId } = await client.createLease({ quote, signature, deposit: quote.pricePerSecond * 3600n });
 */
export async function getQuote(client: PodnetClient, params: GetQuoteParameters): Promise<GetQuoteReturnType> {
  const manifest = parseManifest(params.manifest);
  const specHash = manifestHash(manifest);
  const resources = manifestResources(manifest);
  const provider = await getProvider(client, { address: params.provider });
  const publisher = params.publisher ?? walletAddress(client);
  const target = { provider: provider.address, endpoint: params.endpoint ?? provider.endpoint };
  const answer = await providerJson<QuoteResponse>(client, "getQuote", target, {
    method: "POST",
    path: providerApiPaths.quote,
    json: { specHash, resources, ...(publisher ? { publisher } : {}) },
  });
  const verified = await verifyQuote(client, answer, {
    provider: provider.address,
    specHash,
    resources,
    publisher: publisher ?? zeroAddress,
    policy: params.policy ?? {},
    minValiditySeconds: params.minValiditySeconds ?? 10,
  });
  return { ...verified, provider };
}

async function verifyQuote(
  client: PodnetClient,
  answer: QuoteResponse,
  asked: {
    provider: Address;
    specHash: Hex;
    resources: { cpuMillis: number; memoryMiB: number; storageMiB: number };
    publisher: Address;
    policy: QuotePolicy;
    minValiditySeconds: number;
  },
): Promise<Omit<GetQuoteReturnType, "provider">> {
  const fail = (check: ConstructorParameters<typeof QuoteVerificationError>[0], reason: string): never => {
    throw new QuoteVerificationError(check, reason, asked.provider);
  };
  const q = answer?.quote;
  if (
    !q ||
    typeof answer.signature !== "string" ||
    typeof answer.attestation !== "object" ||
    answer.attestation === null ||
    typeof q.pricePerSecond !== "string" ||
    !/^\d{1,29}$/.test(q.pricePerSecond) ||
    typeof q.nonce !== "string" ||
    !/^\d{1,78}$/.test(q.nonce) ||
    !Number.isSafeInteger(q.validUntil) ||
    typeof q.specHash !== "string" ||
    typeof q.attestationHash !== "string" ||
    typeof q.provider !== "string" ||
    typeof q.publisher !== "string" ||
    typeof q.resources !== "object" ||
    q.resources === null
  ) {
    return fail("response", "the answer is not a quote response");
  }
  const { market } = addresses(client);
  if (answer.chainId !== client.deployment.chainId) {
    fail("chainId", `quote is for chain ${answer.chainId}, the deployment is on ${client.deployment.chainId}`);
  }
  if (typeof answer.market !== "string" || answer.market.toLowerCase() !== market.toLowerCase()) {
    fail("market", `quote is for market ${answer.market}, the deployment's is ${market}`);
  }
  if (!sameAddress(q.provider, asked.provider)) fail("provider", `quote names ${q.provider}`);
  if (!sameAddress(q.publisher, asked.publisher)) {
    fail("publisher", `quote is bound to ${q.publisher}, asked for ${asked.publisher}`);
  }
  if (q.specHash.toLowerCase() !== asked.specHash.toLowerCase()) {
    fail("specHash", `quote is for spec ${q.specHash}, asked for ${asked.specHash}`);
  }
  const r = q.resources;
  if (
    r.cpuMillis !== asked.resources.cpuMillis ||
    r.memoryMiB !== asked.resources.memoryMiB ||
    r.storageMiB !== asked.resources.storageMiB
  ) {
    fail("resources", `quote is for ${JSON.stringify(r)}, asked for ${JSON.stringify(asked.resources)}`);
  }
  const quote: Quote = {
    provider: getAddress(q.provider),
    publisher: getAddress(q.publisher),
    specHash: q.specHash,
    resources: { cpuMillis: r.cpuMillis, memoryMiB: r.memoryMiB, storageMiB: r.storageMiB },
    pricePerSecond: BigInt(q.pricePerSecond),
    validUntil: q.validUntil,
    attestationHash: q.attestationHash,
    nonce: BigInt(q.nonce),
  };
  if (quote.pricePerSecond === 0n || quote.pricePerSecond >= 1n << 96n) {
    fail("pricePerSecond", `${quote.pricePerSecond} is not a valid uint96 price`);
  }
  let signer: Address | undefined;
  try {
    signer = await recoverTypedDataAddress({
      ...quoteTypedData(quote, client.deployment.chainId, market),
      signature: answer.signature,
    });
  } catch {
    fail("signature", "malformed signature");
  }
  if (!signer || !isAddressEqual(signer, asked.provider)) {
    fail("signature", `signed by ${signer}, not by the provider (altered in transit, or another key)`);
  }
  const attestation = answer.attestation;
  let documentHash: Hex | undefined;
  try {
    documentHash = attestationHash(attestation);
  } catch {
    fail("attestationHash", "the attestation document cannot be hashed");
  }
  if (documentHash?.toLowerCase() !== quote.attestationHash.toLowerCase()) {
    fail(
      "attestationHash",
      `the attestation document hashes to ${documentHash}, the quote commits to ${quote.attestationHash}`,
    );
  }
  if (typeof attestation.provider !== "string" || !sameAddress(attestation.provider, asked.provider)) {
    fail("attestation.provider", `the attestation is for ${attestation.provider}`);
  }
  const now = await chainTime(client);
  if (quote.validUntil < now + asked.minValiditySeconds) {
    fail(
      "validUntil",
      `quote valid until ${quote.validUntil}, chain time is ${now} (need ${asked.minValiditySeconds} s)`,
    );
  }
  const { policy } = asked;
  if (policy.maxPricePerSecond !== undefined && quote.pricePerSecond > policy.maxPricePerSecond) {
    fail("policy.maxPricePerSecond", `price ${quote.pricePerSecond} is above ${policy.maxPricePerSecond}`);
  }
  if (policy.requireTee && !attestation.tee) fail("policy.requireTee", "the attestation carries no TEE evidence");
  if (policy.requireUserns && attestation.sandbox?.userns !== true) {
    fail("policy.requireUserns", "the attestation does not state user namespaces (root in a pod is root on the host)");
  }
  if (policy.runtimes && !policy.runtimes.includes(attestation.runtime?.kind)) {
    fail("policy.runtimes", `runtime ${attestation.runtime?.kind} is not one of ${policy.runtimes.join(", ")}`);
  }
  return { quote, signature: answer.signature, attestation };
}

function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
