import { type ApiErrorBody, apiErrorBody, type ManifestIssue } from "@podnet/sdk/protocol";

/**
 * An API refusal, answered with the protocol's error body (`{ "error": { "status", "message", "issues"? } }`, the
 * indexer's too); `message` names the field or header and the reason, `issues` lists every bad field of a body
 * (`containers[0].resources.cpuMillis: ...`).
 */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 502 | 503,
    message: string,
    readonly issues?: ManifestIssue[],
  ) {
    super(message);
    this.name = "HttpError";
  }

  static invalid(issues: ManifestIssue[]) {
    return new HttpError(400, issues.map((i) => `${i.path}: ${i.message}`).join("; "), issues);
  }

  toJSON(): ApiErrorBody {
    return apiErrorBody(this.status, this.message, this.issues);
  }
}
