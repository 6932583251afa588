/** AccessManager roles of Podnet; the same numbers as contracts/src/types/CourtTypes.sol (PodnetRoles). */
export const podnetRoles = {
  /** The AccessManager's admin: the timelock, after deployment. */
  admin: 0n,
  /** The dispute court: may hold and settle lease collateral in the market. */
  court: 1n,
  /** Arbiters: rule on disputes. */
  arbiter: 2n,
} as const;
