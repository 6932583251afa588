/**
 * Leases as the chain returned them, for the signed routes: a publisher polling its pod's status costs no `eth_call`
 * per request. Bounded (least recently used goes first) and short-lived; an entry also lapses as soon as the worker's
 * own record of the lease changes (the follower applied a close or a spec update), which `stamp` captures.
 */
export class LeaseCache<Lease> {
  private readonly entries = new Map<string, { lease: Lease; storedAt: number; stamp: string }>();

  constructor(
    private readonly maxEntries = 1024,
    private readonly ttlMs = 30_000,
  ) {}

  get size() {
    return this.entries.size;
  }

  /** The lease stored for `id` under the same `stamp` less than the TTL ago. */
  get(id: string, stamp: string, now = Date.now()): Lease | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.entries.delete(id);
    if (now - entry.storedAt > this.ttlMs || entry.stamp !== stamp) return undefined;
    // Re-inserted: a Map iterates in insertion order, so the first key is always the least recently used.
    this.entries.set(id, entry);
    return entry.lease;
  }

  set(id: string, lease: Lease, stamp: string, now = Date.now()) {
    this.entries.delete(id);
    this.entries.set(id, { lease, storedAt: now, stamp });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
  }
}
