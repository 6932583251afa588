/**
 * The one base class of every error the Podnet packages define (protocol layer, SDK, CLI), shaped like viem's
 * `BaseError`. It lives in the protocol layer so that the worker and the indexer share it without loading the SDK.
 */

/**
 * Machine-readable kinds of errors. `code` stays stable across releases; messages may be reworded.
 */
export type PodnetErrorCode =
  // The protocol layer.
  | "MANIFEST"
  | "APP_CONFIG"
  | "DECRYPTION"
  | "REQUEST_AUTH"
  // The SDK.
  | "WALLET_REQUIRED"
  | "INVALID_PARAMETER"
  | "INDEXER"
  | "PROVIDER_API"
  | "QUOTE_VERIFICATION"
  | "INSUFFICIENT_BALANCE"
  | "INSUFFICIENT_ALLOWANCE"
  | "CONTRACT"
  | "NOT_FOUND"
  | "NOT_PUBLISHER"
  | "SPEC_HASH_MISMATCH"
  | "BLOB_NOT_FOUND"
  | "BLOB_CACHE"
  | "POD_FAILED"
  | "TIMEOUT"
  | "KEYSTORE"
  // The CLI.
  | "USAGE"
  | "CLI";

export type PodnetErrorParameters = {
  /** The error that led to this one; `details` defaults to what it says. */
  cause?: unknown;
  /** What the cause said, when there is no cause object to take it from. */
  details?: string;
  /** The repository document (and anchor) that explains the error, e.g. `docs/sdk.md#errors`. */
  docsPath?: string;
  /** Further lines about the error (e.g. one per bad field). */
  metaMessages?: string[];
};

/** Any error, by `name`: the catch-all of the `*ErrorType` unions, as in viem. */
export type ErrorType<name extends string = "Error"> = Error & { name: name };

export type PodnetErrorType = PodnetError & { name: "PodnetError" };

/**
 * Base of every Podnet error: `code` names the kind, `shortMessage` says what went wrong in one line, `details` what
 * its cause said, `docsPath` where it is explained, `metaMessages` adds lines, and `walk()` follows the `cause` chain.
 * Unlike viem's `BaseError`, `message` is `shortMessage` alone, without details or docs: messages are printed by the
 * CLI as they are and matched by callers, so they stay what they were before this base existed.
 *
 * @example
 * try {
 *   await client.deployPod({ leaseId, manifest });
 * } catch (error) {
 *   if (error instanceof PodnetError && error.code === "PROVIDER_API") console.error(error.shortMessage, error.details);
 *   throw error;
 * }
 */
export class PodnetError extends Error {
  override name = "PodnetError";
  readonly code: PodnetErrorCode;
  readonly shortMessage: string;
  /** What the cause said: its own `details` when it has some, else its message; "" without a cause. */
  readonly details: string;
  readonly docsPath: string | undefined;
  readonly metaMessages: string[] | undefined;

  constructor(code: PodnetErrorCode, shortMessage: string, options: PodnetErrorParameters = {}) {
    // No `cause` property at all without a cause, as before this base existed.
    super(shortMessage, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = options.details ?? detailsOf(options.cause);
    this.docsPath = options.docsPath;
    this.metaMessages = options.metaMessages;
  }

  /**
   * The last error of the `cause` chain, starting with this one; with `fn`, the first for which `fn` is true, or null.
   *
   * @example
   * const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
   */
  walk(): Error;
  walk(fn: (error: unknown) => boolean): Error | null;
  walk(fn?: (error: unknown) => boolean): Error | null {
    return walk(this, fn) as Error | null;
  }
}

function walk(error: unknown, fn?: (error: unknown) => boolean): unknown {
  if (fn?.(error)) return error;
  if (error && typeof error === "object" && "cause" in error && error.cause !== undefined) return walk(error.cause, fn);
  return fn ? null : error;
}

// viem's rule (a cause's own details, else its message), duck-typed so that it covers viem's errors and ours without
// importing viem here; and a viem error's full message runs to several lines, its shortMessage is the one line.
function detailsOf(cause: unknown): string {
  if (!(cause instanceof Error)) return cause === undefined ? "" : String(cause);
  const { details, shortMessage } = cause as { details?: unknown; shortMessage?: unknown };
  if (typeof details === "string" && details !== "") return details;
  return typeof shortMessage === "string" ? shortMessage : cause.message;
}
