import { type ApiErrorBody, apiErrorBody, type ManifestIssue } from "@podnet/sdk/protocol";

/**
 * An API refusal, answered with the protocol's error body (`{ "error": { "status", "message", "issues"? } }`, the
 * indexer's too); `message` names the field or header and the reason, `issues` lists every bad field of a body
 * (`containers[0].resources.cpuMillis: ...`).
 */
export class HttpError extends Error {
  /** Seconds the client should wait before asking again (`Retry-After`), for 429 and 503. */
  retryAfter?: number;

  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 502 | 503,
    message: string,
    readonly issues?: ManifestIssue[],
  ) {
    super(message);
    this.name = "HttpError";
  }

  /** A refusal to come back later: 429 (this caller asks too often) or 503 (the worker is busy), with Retry-After. */
  static later(status: 429 | 503, message: string, retryAfterSeconds: number) {
    const error = new HttpError(status, message);
    error.retryAfter = retryAfterSeconds;
    return error;
  }

  static invalid(issues: ManifestIssue[]) {
    return new HttpError(400, issues.map((i) => `${i.path}: ${i.message}`).join("; "), issues);
  }

  toJSON(): ApiErrorBody {
    return apiErrorBody(this.status, this.message, this.issues);
  }
}
