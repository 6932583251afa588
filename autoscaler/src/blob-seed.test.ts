import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { BlobCache, type BlobCacheEntry } from "@podnet/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobSeedError, seedBlobCache } from "./blob-seed.js";

/** Real ciphertext-like bytes written through the real cache, so content ids are the real ones. */
async function blob(dir: string, bytes: Buffer): Promise<BlobCacheEntry> {
  const cache = new BlobCache(dir);
  const { cid, size } = await cache.write(Readable.from([bytes]));
  const entry: BlobCacheEntry = {
    cid,
    size,
    kind: "image",
    keyForSelf: "sealed-key",
    selfKey: `0x${"11".repeat(32)}`,
    sources: [],
    createdAt: 1,
  };
  cache.put(entry);
  return entry;
}

let server: Server;
let base: string;
/** path → bytes the test server answers with. */
const served = new Map<string, Buffer>();

beforeAll(async () => {
  server = createServer((request, response) => {
    const body = served.get(request.url ?? "");
    if (!body) response.writeHead(404).end();
    else response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => server.close());

describe("seedBlobCache", () => {
  it("copies the index and the ciphertext beside it", async () => {
    const from = mkdtempSync(join(tmpdir(), "seed-"));
    const entry = await blob(from, randomBytes(1000));
    const to = join(mkdtempSync(join(tmpdir(), "cache-")), "blobs");
    const result = await seedBlobCache({ from, to });
    expect(result).toEqual({ kept: [], copied: [entry.cid], fetched: [], missing: {} });
    expect(new BlobCache(to).get(entry.cid)).toEqual(entry);
  });

  it("fetches ciphertext the seed lacks from the entry's sources, keeping only bytes that hash to the cid", async () => {
    const owner = mkdtempSync(join(tmpdir(), "owner-"));
    const bytes = randomBytes(5000);
    const entry = await blob(owner, bytes);
    served.set(`/wrong-${entry.cid}`, randomBytes(5000)); // a hostile or broken source: other bytes
    served.set(`/right-${entry.cid}`, bytes);
    const from = mkdtempSync(join(tmpdir(), "seed-"));
    const sources = [`${base}/gone-${entry.cid}`, `${base}/wrong-${entry.cid}`, `${base}/right-${entry.cid}`];
    writeFileSync(
      join(from, "index.json"),
      JSON.stringify({ version: 1, blobs: { [entry.cid]: { ...entry, sources } } }),
    );
    const to = mkdtempSync(join(tmpdir(), "cache-"));
    const result = await seedBlobCache({ from, to });
    expect(result.fetched).toEqual([entry.cid]);
    const cache = new BlobCache(to);
    expect(readFileSync(cache.path(entry.cid))).toEqual(bytes);
    // The wrong bytes were not kept under any name.
    expect(readdirSync(to).sort()).toEqual([entry.cid, "index.json"].sort());
  });

  it("reports a blob no source yields as missing, keeping nothing of it", async () => {
    const owner = mkdtempSync(join(tmpdir(), "owner-"));
    const entry = await blob(owner, randomBytes(3000));
    served.set(`/bad-${entry.cid}`, randomBytes(3000));
    served.set(`/huge-${entry.cid}`, randomBytes(1_000_000)); // more than the entry's size: cut off
    const from = mkdtempSync(join(tmpdir(), "seed-"));
    const sources = [`${base}/bad-${entry.cid}`, `${base}/huge-${entry.cid}`];
    writeFileSync(
      join(from, "index.json"),
      JSON.stringify({ version: 1, blobs: { [entry.cid]: { ...entry, sources } } }),
    );
    const to = mkdtempSync(join(tmpdir(), "cache-"));
    const result = await seedBlobCache({ from, to });
    expect(Object.keys(result.missing)).toEqual([entry.cid]);
    expect(result.missing[entry.cid]).toContain("hashes to");
    expect(result.missing[entry.cid]).toContain("more than the 3000 bytes the index lists");
    expect(new BlobCache(to).has(entry.cid)).toBe(false);
    expect(readdirSync(to).filter((f) => f !== "index.json")).toEqual([]);
  });

  it("keeps what the writable cache already holds (an earlier start), sources included", async () => {
    const from = mkdtempSync(join(tmpdir(), "seed-"));
    const entry = await blob(from, randomBytes(100));
    const to = mkdtempSync(join(tmpdir(), "cache-"));
    await seedBlobCache({ from, to });
    new BlobCache(to).addSource(entry.cid, "http://learnt.example/x");
    const again = await seedBlobCache({ from, to });
    expect(again.kept).toEqual([entry.cid]);
    expect(new BlobCache(to).get(entry.cid)?.sources).toEqual(["http://learnt.example/x"]);
  });

  it("refuses a missing or malformed index and a mislabelled file, naming it", async () => {
    const empty = mkdtempSync(join(tmpdir(), "seed-"));
    const to = mkdtempSync(join(tmpdir(), "cache-"));
    await expect(seedBlobCache({ from: empty, to })).rejects.toThrow(
      `blobSeedDir: ${join(empty, "index.json")}: ENOENT`,
    );
    writeFileSync(join(empty, "index.json"), JSON.stringify({ version: 1, blobs: { x: {} } }));
    await expect(seedBlobCache({ from: empty, to })).rejects.toThrow(BlobSeedError);
    await expect(seedBlobCache({ from: empty, to })).rejects.toThrow('entry "x" is malformed');

    const from = mkdtempSync(join(tmpdir(), "seed-"));
    const entry = await blob(from, randomBytes(100));
    writeFileSync(join(from, entry.cid), randomBytes(100)); // not the bytes its name says
    const target = join(mkdtempSync(join(tmpdir(), "cache-")), "blobs");
    await expect(seedBlobCache({ from, to: target })).rejects.toThrow(`${join(from, entry.cid)}: hashes to`);
    expect(existsSync(target) ? readdirSync(target).filter((f) => f !== "index.json") : []).toEqual([]);
  });
});
