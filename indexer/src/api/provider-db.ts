// The search's provider index as the API serves it: provider-sync.ts's ProviderSync bound to Ponder's database.
import { db } from "ponder:api";
import schema from "ponder:schema";
import { asc, gt, gte, sql } from "ponder";
import type { ProviderIndex } from "./provider-index.js";
import { ProviderSync, type SyncedRow } from "./provider-sync.js";

/**
 * Rows a page of a background whole-table read holds. PGlite runs in this thread and a query holds it until its
 * last row is parsed: 1,000 rows took it 30-70 ms at 100,000 providers, which a search arriving behind it waited
 * for (p95 88 ms during a rebuild); 250 rows keep that wait near 10-20 ms.
 */
const PAGE_ROWS = 250;

const p = schema.provider;
const indexedColumns = {
  address: p.address,
  endpoint: p.endpoint,
  pricePerCpuMilli: p.pricePerCpuMilli,
  pricePerMemoryMiB: p.pricePerMemoryMiB,
  pricePerStorageMiB: p.pricePerStorageMiB,
  priceFlat: p.priceFlat,
  capacityCpuMillis: p.capacityCpuMillis,
  capacityMemoryMiB: p.capacityMemoryMiB,
  capacityStorageMiB: p.capacityStorageMiB,
  attributes: p.attributes,
  stakeFree: p.stakeFree,
  stakeLocked: p.stakeLocked,
  firstStakedAt: p.firstStakedAt,
  lastHeartbeat: p.lastHeartbeat,
  status: p.status,
  jailed: p.jailed,
  darkSeconds: p.darkSeconds,
  darkSince: p.darkSince,
  disputesLost: p.disputesLost,
  changedBlock: p.changedBlock,
};

const sync = new ProviderSync({
  /** A Ponder that renamed the table makes this undefined, and every search then reads the changed rows. */
  async readCheckpoint() {
    try {
      const result = (await db.execute(
        sql`SELECT string_agg(latest_checkpoint, ',' ORDER BY chain_name) AS checkpoint FROM _ponder_checkpoint`,
      )) as unknown as { rows: { checkpoint: string | null }[] };
      return result.rows[0]?.checkpoint ?? undefined;
    } catch {
      return undefined;
    }
  },
  readRows: (since): Promise<SyncedRow[]> =>
    db
      .select(indexedColumns)
      .from(p)
      .where(since === undefined ? undefined : gte(p.changedBlock, since)),
  // In address order, the primary key's: each page is a range of its index, not a sort of the table.
  readPage: (after): Promise<SyncedRow[]> =>
    db
      .select(indexedColumns)
      .from(p)
      .where(after === undefined ? undefined : gt(p.address, after as `0x${string}`))
      .orderBy(asc(p.address))
      .limit(PAGE_ROWS),
});

/** The provider index with every change committed before this call. */
export function currentProviderIndex(): Promise<ProviderIndex> {
  return sync.current();
}
