/**
 * What a scoped admin token may do: every admin route names the one scope it needs. A signed-in session (the
 * provider's own browser) holds every scope; tokens are for addons, outside the trusted core, and hold only the
 * scopes they were created with. Creating, listing and revoking tokens is for sessions only: no scope grants it, so a
 * token can never mint another token or widen its own scopes.
 */
export const ADMIN_SCOPES = {
  /** Read the worker's state: overview, capacity, leases and their logs, earnings, disputes, orders, bids, alerts, addons, events. */
  read: "read the worker's status, capacity, leases, logs, earnings, disputes, market state and alerts",
  /** Pause, resume and edit (prices, capacity, attributes) the provider's listing in the registry. */
  listing: "pause, resume and edit the provider's listing on chain",
  /** Move the provider's money: withdraw earnings, stake and unstake (transactions from the provider's key). */
  money: "withdraw earnings, stake and unstake",
  /** The bidder addon: place bids on open orders (POST /admin/v1/bids); the worker checks every rule. */
  bids: "place bids on open orders (the bidder addon)",
  /** Stop a lease: tear its pod down and close it on chain, with a reason its publisher reads. */
  "leases:stop": "stop a lease's pod and close the lease, with a reason",
} as const;

export type AdminScope = keyof typeof ADMIN_SCOPES;

export const adminScopeNames = Object.keys(ADMIN_SCOPES) as AdminScope[];

export function isAdminScope(value: unknown): value is AdminScope {
  return typeof value === "string" && Object.hasOwn(ADMIN_SCOPES, value);
}
