import { type ApiRoute, apiRoute, type HttpMethod, type PathArgs } from "./api-route.js";

/**
 * Every route of the provider API, once: the worker registers its Hono handlers from `pattern` and `method`, the
 * SDK builds its requests from `path` ({@link providerApiPaths}). `signed` routes carry a request signature by the
 * lease's publisher (request-signing.ts); the others are public.
 */

/** A provider API route: an {@link ApiRoute} that is or is not signed by the lease's publisher. */
export interface ProviderApiRoute<Pattern extends string = string> extends ApiRoute<Pattern> {
  readonly signed: boolean;
}

function route<const Pattern extends string>(
  method: HttpMethod,
  pattern: Pattern,
  auth: "public" | "publisher",
): ProviderApiRoute<Pattern> {
  return { ...apiRoute(method, pattern), signed: auth === "publisher" };
}

/** The provider API's routes by name (the names of {@link providerApiPaths}). */
export const providerApiRoutes = {
  health: route("GET", "/health", "public"),
  metrics: route("GET", "/metrics", "public"),
  attestation: route("GET", "/v1/attestation", "public"),
  quote: route("POST", "/v1/quote", "public"),
  /** An encrypted blob: public, other providers fetch from here (ciphertext only). */
  blob: route("GET", "/v1/blobs/:cid", "public"),
  /** Signed over the path, not the body: the content id pins every byte, and the client signs before streaming. */
  leaseBlob: route("PUT", "/v1/leases/:id/blobs/:cid", "publisher"),
  manifest: route("PUT", "/v1/leases/:id/manifest", "publisher"),
  status: route("GET", "/v1/leases/:id", "publisher"),
  usage: route("GET", "/v1/leases/:id/usage", "publisher"),
  events: route("GET", "/v1/leases/:id/events", "publisher"),
  logs: route("GET", "/v1/leases/:id/logs", "publisher"),
  /** Public: the evidence document a provider answered a dispute with (its keccak256 is in the on-chain URI). */
  disputeEvidence: route("GET", "/v1/disputes/:id/evidence", "public"),
} as const;

type Routes = typeof providerApiRoutes;

/** A route without parameters is its path; a route with parameters is its path builder. */
type PathOf<R> =
  R extends ProviderApiRoute<infer Pattern>
    ? PathArgs<Pattern> extends []
      ? Pattern
      : (...args: PathArgs<Pattern>) => string
    : never;

/** Paths of the provider API, shared by the worker's routes and the SDK's calls (from {@link providerApiRoutes}). */
export const providerApiPaths = Object.fromEntries(
  Object.entries(providerApiRoutes).map(([name, r]) => [name, r.pattern.includes(":") ? r.path : r.pattern]),
) as { readonly [Name in keyof Routes]: PathOf<Routes[Name]> };
