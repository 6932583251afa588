/**
 * What a scoped admin token may do: every admin route names the one scope it needs. A signed-in session (the
 * provider's own browser) holds every scope; tokens are for addons, outside the trusted core, and hold only the
 * scopes they were created with. Creating, listing and revoking tokens is for sessions only: no scope grants it, so a
 * token can never mint another token or widen its own scopes.
 */
export const ADMIN_SCOPES = {
  /** Read the worker's state: overview, leases, open orders, bids, alerts, addons, events and the console's pages. */
  read: "read the worker's status, leases and market state",
  /** Pause and resume the provider's listing in the registry (a transaction from the provider's key). */
  listing: "pause and resume the provider's listing on chain",
  /** The bidder addon: place bids on open orders (POST /admin/v1/bids); the worker checks every rule. */
  bids: "place bids on open orders (the bidder addon)",
  /** Reserved: stop a lease's pod with a reason. No route uses it yet. */
  "leases:stop": "stop a lease's pod with a reason (no route yet)",
} as const;

export type AdminScope = keyof typeof ADMIN_SCOPES;

export const adminScopeNames = Object.keys(ADMIN_SCOPES) as AdminScope[];

export function isAdminScope(value: unknown): value is AdminScope {
  return typeof value === "string" && Object.hasOwn(ADMIN_SCOPES, value);
}
