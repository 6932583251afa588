// Keeps the search's in-memory provider index (provider-index.ts) in step with the database.
//
// Ponder commits a block's rows and its checkpoint (`_ponder_checkpoint`) in one transaction, so a checkpoint that
// has not moved since the last read means no row changed: a search then reads nothing but that one-row table. When
// it moved, the read takes the provider rows whose `changedBlock` is at or after the last block seen (every handler
// stamps it through `updateProvider`; an index on it makes that a few rows), `>=` because a historical batch may
// commit part of a block. A checkpoint that went back is a reorganisation: rows may have returned to older blocks,
// which that read cannot see, so the whole table is read again; so it is every FULL_RELOAD_MS whatever happens.
import { db } from "ponder:api";
import schema from "ponder:schema";
import { gte, sql } from "ponder";
import { ProviderIndex } from "./provider-index.js";

const FULL_RELOAD_MS = 5 * 60_000;

const index = new ProviderIndex();
let seenBlock: bigint | undefined;
let seenCheckpoint: string | undefined;
let loadedAt = 0;

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

/**
 * Ponder's latest checkpoint of every chain (fixed-width decimal strings, ordered as text); undefined if the table
 * cannot be read (a Ponder that renamed it), which makes every search read the changed rows.
 */
async function latestCheckpoint(): Promise<string | undefined> {
  try {
    const result = (await db.execute(
      sql`SELECT string_agg(latest_checkpoint, ',' ORDER BY chain_name) AS checkpoint FROM _ponder_checkpoint`,
    )) as unknown as { rows: { checkpoint: string | null }[] };
    return result.rows[0]?.checkpoint ?? undefined;
  } catch {
    return undefined;
  }
}

async function read(): Promise<void> {
  // Read before the rows: a commit after it moves the checkpoint, so the next search reads again.
  const checkpoint = await latestCheckpoint();
  const unchanged = checkpoint !== undefined && checkpoint === seenCheckpoint;
  const reorganised = checkpoint !== undefined && seenCheckpoint !== undefined && checkpoint < seenCheckpoint;
  const full = seenBlock === undefined || reorganised || Date.now() - loadedAt > FULL_RELOAD_MS;
  if (unchanged && !full) return;
  const since = seenBlock;
  const rows = await db
    .select(indexedColumns)
    .from(p)
    .where(full || since === undefined ? undefined : gte(p.changedBlock, since));
  if (full) {
    index.replaceAll(rows);
    loadedAt = Date.now();
    seenBlock = undefined;
  } else index.upsert(rows);
  for (const row of rows) if (seenBlock === undefined || row.changedBlock > seenBlock) seenBlock = row.changedBlock;
  seenCheckpoint = checkpoint;
}

// Reads run one after another: a search waits for a read that began after it arrived (searches arriving during a
// read share the next one), and an older read never overwrites a newer one.
let readsDone: Promise<void> = Promise.resolve();
let nextRead: Promise<void> | undefined;

/** The provider index with every change committed before this call. */
export async function currentProviderIndex(): Promise<ProviderIndex> {
  if (!nextRead) {
    const reading = readsDone.then(() => {
      nextRead = undefined;
      return read();
    });
    nextRead = reading;
    readsDone = reading.catch(() => undefined);
  }
  await nextRead;
  return index;
}
