import type { RuntimeContainer } from "../runtime/docker-runtime.js";

/** How long a lease's container list answers status polls before Docker is asked again. */
export const LEASE_CONTAINERS_TTL_MS = 1_000;
/** Leases whose list is kept at once; past it, expired entries are dropped (a flood over many leases stays bounded). */
const MAX_ENTRIES = 10_000;

/**
 * A lease's containers for the status route, asked of Docker at most once per {@link LEASE_CONTAINERS_TTL_MS} per lease,
 * concurrent polls sharing one call. A publisher polling its status in a loop (or ten clients doing it) would otherwise
 * cost a Docker list call each, and the Docker Engine is the worker's slowest dependency and shared by every pod:
 * measured in `npm run bench:api`, the signed status route spent most of its time waiting on it. The answer is at most
 * a second older than Docker's; a failed call is not kept.
 */
export class LeaseContainers {
  private readonly entries = new Map<bigint, { at: number; list: Promise<RuntimeContainer[]> }>();

  constructor(
    private readonly list: (leaseId: bigint) => Promise<RuntimeContainer[]>,
    private readonly ttlMs = LEASE_CONTAINERS_TTL_MS,
    private readonly now: () => number = () => Date.now(),
  ) {}

  of(leaseId: bigint): Promise<RuntimeContainer[]> {
    const now = this.now();
    const kept = this.entries.get(leaseId);
    if (kept && now - kept.at < this.ttlMs) return kept.list;
    if (this.entries.size >= MAX_ENTRIES) {
      for (const [id, entry] of this.entries) if (now - entry.at >= this.ttlMs) this.entries.delete(id);
    }
    const list = this.list(leaseId);
    const entry = { at: now, list };
    this.entries.set(leaseId, entry);
    list.catch(() => {
      if (this.entries.get(leaseId) === entry) this.entries.delete(leaseId);
    });
    return list;
  }
}
