/**
 * How `podnet` reports failures: one line naming the flag, field or file position and the reason (a pod.yaml with
 * several problems gets one line each), exit code 1, or 2 for usage errors. No stack trace unless PODNET_DEBUG=1.
 * Every message passes through {@link redact}, so a private key can never reach the terminal, even inside a
 * library's error text.
 */
import { BaseError } from "viem";
import { ContractError, ManifestError, PodnetError, ProviderApiError } from "../errors.js";
import { KeystoreError } from "../keystore.js";
import { PodSpecError } from "../pod-spec.js";
import { UsageError } from "./args.js";

export type CliErrorType = CliError & { name: "CliError" };

/** A failure the CLI itself detected, with a message meant for the user as it is. */
export class CliError extends PodnetError {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super("CLI", message, { docsPath: "docs/cli.md#output-and-exit-codes" });
  }
}

/** Replaces every secret (with or without 0x, any case) in `text` by `[redacted]`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    const bare = secret.replace(/^0x/i, "");
    if (bare.length < 16) continue;
    out = out.replace(new RegExp(`(0x)?${bare.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`, "gi"), "[redacted]");
  }
  return out;
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return 2;
  if (error instanceof CliError) return error.exitCode;
  return 1;
}

/** The user-facing text of an error, without the `error: ` prefix. */
export function describeError(error: unknown): string {
  if (error instanceof UsageError) return error.message;
  if (error instanceof CliError || error instanceof KeystoreError) return error.message;
  // PodSpecError's message is one `file:line:col path: message` line per issue; ManifestError's one `path: message`.
  if (error instanceof PodSpecError) return error.message;
  if (error instanceof ManifestError) return error.issues.map((i) => `${i.path}: ${i.message}`).join("\n");
  if (error instanceof ProviderApiError) {
    const issues = error.issues.map((i) => `  ${i.path}: ${i.message}`);
    return [error.message, ...issues].join("\n");
  }
  if (error instanceof ContractError) {
    const tx = error.transactionHash ? ` (tx ${error.transactionHash})` : "";
    return `${error.message}${tx}`;
  }
  if (error instanceof PodnetError) return error.message;
  if (error instanceof BaseError) {
    // viem's full message appends request bodies and version lines; the short one says what went wrong.
    const details = error.details && !error.shortMessage.includes(error.details) ? ` (${error.details})` : "";
    return `${error.shortMessage}${details}`;
  }
  if (error instanceof Error) {
    if (error.name === "AbortError") return "interrupted";
    return error.message;
  }
  return String(error);
}

/** Stack and causes, for PODNET_DEBUG=1. */
export function debugDetails(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (current instanceof Error) {
      lines.push(depth === 0 ? (current.stack ?? current.message) : `caused by: ${current.stack ?? current.message}`);
      current = (current as { cause?: unknown }).cause;
    } else {
      lines.push(`caused by: ${String(current)}`);
      break;
    }
  }
  return lines.join("\n");
}
