import { z } from "zod";
import type { ManifestIssue } from "./manifest.js";

/**
 * The JSON body of every refusal of a Podnet HTTP API, the provider API's (worker) and the indexer's alike, so one
 * parser in the SDK reads both: `{"error": {"status", "message", "issues"?}}`. `message` names the field, header or
 * query parameter and the reason; `issues` lists every bad field of a request body, in manifest-error form.
 */
export const apiErrorBodySchema = z.object({
  error: z.object({
    /** The HTTP status again, so a logged or relayed body still says what it was. */
    status: z.int().min(400).max(599),
    message: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});
export type ApiErrorBody = z.output<typeof apiErrorBodySchema>;

/**
 * Builds an error body; `issues` is left out (not `undefined`) when none are given.
 *
 * @example
 * return c.json(apiErrorBody(400, "cpu: is required"), 400); // {"error":{"status":400,"message":"cpu: is required"}}
 */
export function apiErrorBody(status: number, message: string, issues?: ManifestIssue[]): ApiErrorBody {
  return { error: { status, message, ...(issues ? { issues } : {}) } };
}

/**
 * Reads an error body from a parsed JSON answer; undefined when it is not one (a proxy's error page, a server of
 * another version), so the caller can fall back to the status line or the raw text.
 */
export function parseApiErrorBody(json: unknown): ApiErrorBody["error"] | undefined {
  const parsed = apiErrorBodySchema.safeParse(json);
  return parsed.success ? parsed.data.error : undefined;
}
