import { type Address, BaseError, ContractFunctionRevertedError, type Hex } from "viem";
import { type ManifestIssue, PodnetError, type PodnetErrorParameters } from "./protocol/index.js";

// The SDK's errors. Their base, PodnetError, is the protocol layer's (protocol/errors.ts), so that the protocol's own
// errors (ManifestError, DecryptionError, RequestAuthError) and the SDK's and CLI's all share one base.
export {
  type ErrorType,
  ManifestError,
  type ManifestErrorType,
  type ManifestIssue,
  PodnetError,
  type PodnetErrorCode,
  type PodnetErrorParameters,
  type PodnetErrorType,
} from "./protocol/index.js";

/** Where docs/sdk.md lists the SDK's errors. */
const docsPath = "docs/sdk.md#errors";

export type WalletRequiredErrorType = WalletRequiredError & { name: "WalletRequiredError" };

/** An action needs a signer but the client was created without `walletClient` (or the wallet has no account). */
export class WalletRequiredError extends PodnetError {
  override name = "WalletRequiredError";
  constructor(readonly action: string) {
    super(
      "WALLET_REQUIRED",
      `${action}: needs a signer; create the client with a walletClient that has an account (createPodnetClient({ walletClient }))`,
      { docsPath },
    );
  }
}

export type InvalidParameterErrorType = InvalidParameterError & { name: "InvalidParameterError" };

/** A parameter is out of range or malformed; `parameter` names it. */
export class InvalidParameterError extends PodnetError {
  override name = "InvalidParameterError";
  constructor(
    readonly parameter: string,
    reason: string,
  ) {
    super("INVALID_PARAMETER", `${parameter}: ${reason}`, { docsPath });
  }
}

export type IndexerErrorType = IndexerError & { name: "IndexerError" };

/**
 * The indexer refused a query or could not be reached: `status` and `message` are from the indexer's error body
 * (`ApiErrorBody`, the provider API's shape). `status` is 0 when no HTTP answer came.
 */
export class IndexerError extends PodnetError {
  override name = "IndexerError";
  constructor(
    readonly status: number,
    message: string,
    readonly url: string,
    options?: Pick<PodnetErrorParameters, "cause">,
  ) {
    super("INDEXER", `indexer: ${message} (${url})`, { ...options, docsPath });
  }
}

export type ProviderApiErrorType = ProviderApiError & { name: "ProviderApiError" };

/**
 * A provider API refused a request: `status` and `message` are the API's error body (`ApiErrorBody`:
 * `{"error": {status, message, issues}}`),
 * `issues` lists every bad field (`containers[0].resources.cpuMillis: ...`). `status` is 0 when the provider could
 * not be reached at all.
 */
export class ProviderApiError extends PodnetError {
  override name = "ProviderApiError";
  constructor(
    readonly status: number,
    readonly apiMessage: string,
    readonly issues: ManifestIssue[],
    readonly method: string,
    readonly url: string,
    options?: Pick<PodnetErrorParameters, "cause"> & {
      /** The provider's Retry-After (429: too many requests from this caller; 503: busy), in seconds. */
      retryAfterSeconds?: number;
    },
  ) {
    super("PROVIDER_API", `provider API ${method} ${url}: ${status === 0 ? "" : `${status} `}${apiMessage}`, {
      ...options,
      docsPath,
      ...(issues.length > 0 ? { metaMessages: issues.map((i) => `${i.path}: ${i.message}`) } : {}),
    });
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  /** Seconds the provider asked the caller to wait (its Retry-After header), when it sent one. */
  readonly retryAfterSeconds: number | undefined;
}

/** Names of the checks {@link getQuote} applies to a provider's answer. */
export type QuoteCheck =
  | "response"
  | "chainId"
  | "market"
  | "provider"
  | "publisher"
  | "specHash"
  | "resources"
  | "pricePerSecond"
  | "signature"
  | "attestationHash"
  | "attestation.provider"
  | "validUntil"
  | "policy.maxPricePerSecond"
  | "policy.requireTee"
  | "policy.requireUserns"
  | "policy.runtimes";

export type QuoteVerificationErrorType = QuoteVerificationError & { name: "QuoteVerificationError" };

/** A provider's quote failed a check: `check` names it; nothing was signed or paid. */
export class QuoteVerificationError extends PodnetError {
  override name = "QuoteVerificationError";
  constructor(
    readonly check: QuoteCheck,
    reason: string,
    readonly provider: Address,
  ) {
    super("QUOTE_VERIFICATION", `quote from ${provider} failed the ${check} check: ${reason}`, { docsPath });
  }
}

export type InsufficientBalanceErrorType = InsufficientBalanceError & { name: "InsufficientBalanceError" };

/** The account holds fewer tokens than the call moves. */
export class InsufficientBalanceError extends PodnetError {
  override name = "InsufficientBalanceError";
  constructor(
    readonly owner: Address,
    readonly balance: bigint,
    readonly required: bigint,
  ) {
    super("INSUFFICIENT_BALANCE", `${owner} holds ${balance} token base units, the call needs ${required}`, {
      docsPath,
    });
  }
}

export type InsufficientAllowanceErrorType = InsufficientAllowanceError & { name: "InsufficientAllowanceError" };

/** The spender may take less than the call needs and approving was turned off (`approve: false`). */
export class InsufficientAllowanceError extends PodnetError {
  override name = "InsufficientAllowanceError";
  constructor(
    readonly owner: Address,
    readonly spender: Address,
    readonly allowance: bigint,
    readonly required: bigint,
  ) {
    super(
      "INSUFFICIENT_ALLOWANCE",
      `${spender} may spend ${allowance} of ${owner}'s tokens, the call needs ${required}; approve it or pass approve: true`,
      { docsPath },
    );
  }
}

export type ContractErrorType = ContractError & { name: "ContractError" };

/**
 * A contract call reverted (at estimation, or mined and reverted). `errorName` is the contract's custom error
 * (`MarketDepositTooLow`, ...) with its decoded `args` when the ABI knows it.
 */
export class ContractError extends PodnetError {
  override name = "ContractError";
  constructor(
    readonly functionName: string,
    readonly errorName: string | undefined,
    readonly args: readonly unknown[] | undefined,
    message: string,
    readonly transactionHash?: Hex,
    options?: Pick<PodnetErrorParameters, "cause">,
  ) {
    super("CONTRACT", `${functionName}: ${message}`, { ...options, docsPath });
  }
}

export type NotFoundErrorType = NotFoundError & { name: "NotFoundError" };

/** A lease, order, provider or dispute does not exist. */
export class NotFoundError extends PodnetError {
  override name = "NotFoundError";
  constructor(
    readonly kind: "lease" | "order" | "provider" | "bid",
    readonly id: string,
    reason = "not found",
  ) {
    super("NOT_FOUND", `${kind} ${id}: ${reason}`, { docsPath });
  }
}

export type NotPublisherErrorType = NotPublisherError & { name: "NotPublisherError" };

/** The wallet account is not the publisher of the lease or order it acts on. */
export class NotPublisherError extends PodnetError {
  override name = "NotPublisherError";
  constructor(
    readonly what: string,
    readonly publisher: Address,
    readonly account: Address,
  ) {
    super("NOT_PUBLISHER", `${what} belongs to publisher ${publisher}, not to the wallet account ${account}`, {
      docsPath,
    });
  }
}

export type SpecHashMismatchErrorType = SpecHashMismatchError & { name: "SpecHashMismatchError" };

/** The manifest does not hash to the lease's spec: the provider would refuse it. */
export class SpecHashMismatchError extends PodnetError {
  override name = "SpecHashMismatchError";
  constructor(
    readonly leaseId: bigint,
    readonly expected: Hex,
    readonly actual: Hex,
  ) {
    super(
      "SPEC_HASH_MISMATCH",
      `manifest hashes to ${actual}, but lease ${leaseId} runs spec ${expected}; use updatePod to change the spec`,
      { docsPath },
    );
  }
}

export type BlobNotFoundErrorType = BlobNotFoundError & { name: "BlobNotFoundError" };

/** A blob the manifest references is neither at the provider, nor in the blob cache, nor given with a source. */
export class BlobNotFoundError extends PodnetError {
  override name = "BlobNotFoundError";
  constructor(
    readonly cid: string,
    reason: string,
  ) {
    super("BLOB_NOT_FOUND", `blob ${cid}: ${reason}`, { docsPath });
  }
}

export type BlobCacheErrorType = BlobCacheError & { name: "BlobCacheError" };

/** The local blob cache is unreadable or its keys cannot be opened with this wallet. */
export class BlobCacheError extends PodnetError {
  override name = "BlobCacheError";
  constructor(message: string, options?: Pick<PodnetErrorParameters, "cause">) {
    super("BLOB_CACHE", `blob cache: ${message}`, { ...options, docsPath });
  }
}

export type PodFailedErrorType = PodFailedError & { name: "PodFailedError" };

/** The provider reports the pod failed (or its lease ended) while waiting for it. */
export class PodFailedError extends PodnetError {
  override name = "PodFailedError";
  constructor(
    readonly leaseId: bigint,
    readonly reason: string,
  ) {
    super("POD_FAILED", `lease ${leaseId}: ${reason}`, { docsPath });
  }
}

export type TimeoutErrorType = TimeoutError & { name: "TimeoutError" };

/** A wait gave up. */
export class TimeoutError extends PodnetError {
  override name = "TimeoutError";
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    detail = "",
  ) {
    super("TIMEOUT", `timed out after ${timeoutMs} ms waiting for ${what}${detail ? ` (${detail})` : ""}`, {
      docsPath,
    });
  }
}

/**
 * Turns a viem contract error into a {@link ContractError} carrying the custom error's name; anything that is not
 * a revert (network, user rejection) is returned unchanged.
 */
export function contractError(functionName: string, error: unknown): unknown {
  if (!(error instanceof BaseError)) return error;
  const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(revert instanceof ContractFunctionRevertedError)) return error;
  const errorName = revert.data?.errorName;
  const args = revert.data?.args;
  const shown =
    errorName !== undefined
      ? `reverted with ${errorName}(${(args ?? []).map((a) => String(a)).join(", ")})`
      : `reverted: ${revert.reason ?? revert.shortMessage}`;
  return new ContractError(functionName, errorName, args, shown, undefined, { cause: error });
}
