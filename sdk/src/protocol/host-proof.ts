/**
 * The DNS proof that gives a custom host to a lease: a TXT record at `_podnet-lease.<host>` holding
 * `lease=<chainId>:<leaseId>`. One rule for both ends: `podnet-dns` publishes it for an app's instances, a provider's
 * worker looks it up before it routes the host to the lease's pod.
 */

/** The TXT name that proves `host`. */
export const proofName = (host: string) => `_podnet-lease.${host}`;
/** The TXT value that gives `host` to lease `leaseId` of chain `chainId`. */
export const proofValue = (chainId: number, leaseId: string) => `lease=${chainId}:${leaseId}`;
