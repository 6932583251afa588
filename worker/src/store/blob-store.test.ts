import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { contentId, sealBlob } from "@podnet/sdk/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BlobError, BlobStore } from "./blob-store.js";

let dir: string;
const servers: Server[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "podnet-blobs-"));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
  rmSync(dir, { recursive: true, force: true });
});

/** A body in chunks, as a request stream delivers it. */
async function* chunks(bytes: Uint8Array, size = 1000): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const sealed = (size: number) => sealBlob(new Uint8Array(size).map((_, i) => (i * 7) % 251));
const tmpFiles = () => readdirSync(join(dir, "blobs", "tmp"));
/** The temporary files once every stream of a failed write has had time to open and close its file. */
const tmpFilesLater = async () => {
  await new Promise((done) => setTimeout(done, 100));
  return tmpFiles();
};
const storedFiles = () => readdirSync(join(dir, "blobs")).filter((name) => name !== "tmp");

async function refusal(promise: Promise<unknown>): Promise<BlobError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BlobError);
  return error as BlobError;
}

/** Serves `handler` on 127.0.0.1 and returns its base URL. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("BlobStore", () => {
  it("stores a blob under its content id and reads it back", async () => {
    const store = new BlobStore(dir, 1 << 20);
    const { cid, ciphertext } = sealed(10_000);
    expect(store.has(cid)).toBe(false);
    expect(await store.write(cid, chunks(ciphertext))).toEqual({ created: true, bytes: ciphertext.length });
    expect(store.has(cid)).toBe(true);
    expect(store.size(cid)).toBe(ciphertext.length);
    expect(store.path(cid)).toBe(join(dir, "blobs", cid));
    expect(new Uint8Array(readFileSync(store.path(cid)))).toEqual(ciphertext);
    expect(new Uint8Array(await buffer(store.read(cid)))).toEqual(ciphertext);
    expect(tmpFiles()).toEqual([]);
  });

  it("stores an empty blob", async () => {
    const store = new BlobStore(dir, 10);
    const cid = contentId(new Uint8Array());
    expect(await store.write(cid, chunks(new Uint8Array()))).toEqual({ created: true, bytes: 0 });
    expect(store.size(cid)).toBe(0);
  });

  it("answers a second write of the same blob with created: false and keeps the stored copy", async () => {
    const store = new BlobStore(dir, 1 << 20);
    const { cid, ciphertext } = sealed(5000);
    await store.write(cid, chunks(ciphertext));
    let consumed = 0;
    async function* counted() {
      for await (const chunk of chunks(ciphertext)) {
        consumed += chunk.length;
        yield chunk;
      }
    }
    expect(await store.write(cid, counted())).toEqual({ created: false, bytes: ciphertext.length });
    // The upload is read to its end (and dropped) so the client is not cut off mid-stream.
    expect(consumed).toBe(ciphertext.length);
    expect(new Uint8Array(readFileSync(store.path(cid)))).toEqual(ciphertext);
    expect(storedFiles()).toEqual([cid]);
  });

  it("survives reopening: a new store on the same directory has the blob", async () => {
    const { cid, ciphertext } = sealed(100);
    await new BlobStore(dir, 1000).write(cid, chunks(ciphertext));
    const reopened = new BlobStore(dir, 1000);
    expect(reopened.has(cid)).toBe(true);
    expect(reopened.size(cid)).toBe(ciphertext.length);
  });

  it("refuses bytes that do not hash to the id with 400, storing nothing", async () => {
    const store = new BlobStore(dir, 1 << 20);
    const { cid, ciphertext } = sealed(5000);
    const tampered = ciphertext.slice();
    tampered[4000] = (tampered[4000] ?? 0) ^ 1;
    const error = await refusal(store.write(cid, chunks(tampered)));
    expect(error.status).toBe(400);
    expect(error.message).toBe(`blob ${cid}: content hashes to ${contentId(tampered)}`);
    expect(store.has(cid)).toBe(false);
    expect(storedFiles()).toEqual([]);
    expect(await tmpFilesLater()).toEqual([]);
    // The right bytes are still accepted afterwards.
    expect((await store.write(cid, chunks(ciphertext))).created).toBe(true);
  });

  it("refuses a blob over the size limit with 413, storing nothing", async () => {
    const exact = sealed(4000);
    const limit = exact.ciphertext.length;
    const store = new BlobStore(dir, limit);
    const { cid, ciphertext } = sealed(10_000);
    const error = await refusal(store.write(cid, chunks(ciphertext)));
    expect(error.status).toBe(413);
    expect(error.message).toBe(`blob ${cid}: larger than the limit of ${limit} bytes`);
    expect(store.has(cid)).toBe(false);
    expect(storedFiles()).toEqual([]);
    expect(await tmpFilesLater()).toEqual([]);
    // A blob of exactly the limit is accepted.
    expect((await store.write(exact.cid, chunks(exact.ciphertext))).created).toBe(true);
  });

  it("refuses a blob over the limit even when its first chunk is already too big", async () => {
    const store = new BlobStore(dir, 100);
    const { cid, ciphertext } = sealed(1000);
    expect((await refusal(store.write(cid, chunks(ciphertext, 1 << 20)))).status).toBe(413);
    expect(storedFiles()).toEqual([]);
    // The refusal comes before the temporary file's stream would have opened it; it must not appear afterwards.
    expect(await tmpFilesLater()).toEqual([]);
  });

  it("leaves no temporary file when the body fails midway", async () => {
    const store = new BlobStore(dir, 1 << 20);
    const { cid, ciphertext } = sealed(5000);
    async function* broken() {
      yield ciphertext.subarray(0, 1000);
      throw new Error("client went away");
    }
    await expect(store.write(cid, broken())).rejects.toThrow("client went away");
    expect(store.has(cid)).toBe(false);
    expect(await tmpFilesLater()).toEqual([]);
  });

  it("answers a read of a missing blob with 404", () => {
    const store = new BlobStore(dir, 1000);
    const cid = contentId(new Uint8Array([1, 2, 3]));
    let error: unknown;
    try {
      store.read(cid);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BlobError);
    expect((error as BlobError).status).toBe(404);
    expect((error as BlobError).message).toBe(`blob ${cid}: not stored here`);
  });

  describe("fetch", () => {
    it("fetches a missing blob from a source that serves the right bytes", async () => {
      const store = new BlobStore(dir, 1 << 20, ["127.0.0.1"]);
      const { cid, ciphertext } = sealed(50_000);
      const base = await serve((_req, res) => res.end(ciphertext));
      await store.fetch(cid, [`${base}/v1/blobs/${cid}`]);
      expect(new Uint8Array(readFileSync(store.path(cid)))).toEqual(ciphertext);
      expect(tmpFiles()).toEqual([]);
    });

    it("refuses a source that serves other bytes with 502 naming the source by its position", async () => {
      const store = new BlobStore(dir, 1 << 20, ["127.0.0.1"]);
      const { cid } = sealed(1000);
      const base = await serve((_req, res) => res.end(sealed(1000).ciphertext));
      const source = `${base}/evil`;
      const error = await refusal(store.fetch(cid, [source]));
      expect(error.status).toBe(502);
      expect(error.message).toContain(`source 1: content hashes to`);
      expect(error.message).not.toContain(source);
      expect(store.has(cid)).toBe(false);
      expect(await tmpFilesLater()).toEqual([]);
    });

    it("moves on to the next source when one fails, and names every failure when all do", async () => {
      const store = new BlobStore(dir, 1 << 20, ["127.0.0.1"]);
      const { cid, ciphertext } = sealed(2000);
      let goodHits = 0;
      const bad = await serve((_req, res) => res.writeHead(404).end("no"));
      const good = await serve((_req, res) => {
        goodHits++;
        res.end(ciphertext);
      });
      await store.fetch(cid, [`${bad}/x`, `${good}/y`]);
      expect(store.has(cid)).toBe(true);
      expect(goodHits).toBe(1);

      // Stored now: no source is asked again.
      await store.fetch(cid, [`${good}/y`]);
      expect(goodHits).toBe(1);

      const other = sealed(10).cid;
      const error = await refusal(store.fetch(other, [`${bad}/a`, `${bad}/b`]));
      expect(error.status).toBe(502);
      expect(error.message).toBe(
        `blob ${other}: not stored here and no source served it (source 1: HTTP 404; source 2: HTTP 404)`,
      );
    });

    it("fails with 502 when there is no source at all", async () => {
      const store = new BlobStore(dir, 1000, ["127.0.0.1"]);
      const cid = sealed(10).cid;
      const error = await refusal(store.fetch(cid, []));
      expect(error.status).toBe(502);
      expect(error.message).toBe(`blob ${cid}: not stored here and no source served it`);
    });

    it("does not follow redirects", async () => {
      const store = new BlobStore(dir, 1 << 20, ["127.0.0.1"]);
      const { cid, ciphertext } = sealed(100);
      const good = await serve((_req, res) => res.end(ciphertext));
      const redirect = await serve((_req, res) => res.writeHead(302, { location: `${good}/blob` }).end());
      const error = await refusal(store.fetch(cid, [`${redirect}/r`]));
      expect(error.status).toBe(502);
      expect(error.message).toContain("source 1: HTTP 302");
      expect(existsSync(store.path(cid))).toBe(false);
    });

    it("fetches nothing from a source on loopback or a private address unless the operator allowed its host", async () => {
      const store = new BlobStore(dir, 1 << 20);
      const { cid, ciphertext } = sealed(100);
      let hits = 0;
      const base = await serve((_req, res) => {
        hits++;
        res.end(ciphertext);
      });
      const withCredentials = base.replace("http://", "http://user:pa55word@");
      const error = await refusal(
        store.fetch(cid, [`${withCredentials}/b`, "http://10.0.0.1/b", "http://localhost:1/b"]),
      );
      expect(error.message).toContain("source 1: refused: not a public address");
      expect(error.message).toContain("source 2: refused: not a public address");
      expect(error.message).not.toContain("pa55word");
      expect(hits).toBe(0);
    });

    it("refuses a source serving more than the limit", async () => {
      const store = new BlobStore(dir, 1000, ["127.0.0.1"]);
      const { cid, ciphertext } = sealed(5000);
      const base = await serve((_req, res) => res.end(ciphertext));
      const error = await refusal(store.fetch(cid, [`${base}/big`]));
      expect(error.status).toBe(502);
      expect(error.message).toContain("larger than the limit of 1000 bytes");
      expect(await tmpFilesLater()).toEqual([]);
    });
  });
});
