import { gzipSync } from "node:zlib";
import { extract, pack } from "tar-stream";
import { describe, expect, it } from "vitest";
import { cleanEntryName, ImageArchiveError, rebuildManifest, rewriteImageArchive } from "./image-archive.js";

type Entry = { name: string; content?: Buffer; type?: "file" | "directory" | "symlink"; linkname?: string };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const out = pack();
  for (const e of entries) {
    if (e.type === "directory") out.entry({ name: e.name, type: "directory" });
    else if (e.type === "symlink") out.entry({ name: e.name, type: "symlink", linkname: e.linkname });
    else out.entry({ name: e.name }, e.content ?? Buffer.alloc(0));
  }
  out.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of out) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Runs the rewrite; resolves with the entries written (name → content). */
async function rewrite(archive: Buffer, maxBytes = 10 * 1024 * 1024): Promise<Map<string, string>> {
  const out = pack();
  const reading = (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of out) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  })();
  // A refused archive destroys the output mid-entry; the rewrite's own rejection is what the cases check.
  reading.catch(() => {});
  await rewriteImageArchive(
    (async function* () {
      yield archive;
    })(),
    out,
    { maxBytes },
  );
  const collected = new Map<string, string>();
  const ex = extract();
  for await (const entry of ex.end(await reading) as unknown as AsyncIterable<NodeJS.ReadableStream>) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    collected.set((entry as unknown as { header: { name: string } }).header.name, Buffer.concat(chunks).toString());
  }
  return collected;
}

const manifest = (extra: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify([{ Config: "c.json", RepoTags: ["a:b"], Layers: ["l/layer.tar"], ...extra }]));
const layer = () => tarOf([{ name: "etc/hello", content: Buffer.from("hi") }]);

describe("image archive rules", () => {
  it("rebuilds manifest.json from Config and Layers only: no tag survives in any spelling", async () => {
    const rebuilt = JSON.parse(rebuildManifest(manifest({ repotags: ["victim:1"] })).toString());
    expect(rebuilt).toEqual([{ Config: "c.json", Layers: ["l/layer.tar"] }]);
    expect(() => rebuildManifest(manifest({ config: "other.json" }))).toThrow(/Config must appear exactly once/);
    expect(() => rebuildManifest(Buffer.from("[]"))).toThrow(/0 images/);
    expect(() => rebuildManifest(manifest({ Layers: ["../x"] }))).toThrow(/not a clean relative path/);
  });

  it("refuses names Docker would clean, duplicates, OCI index files and links out of the archive", async () => {
    for (const name of ["x/../manifest.json", "./manifest.json", "a//b", "/abs", "../up"]) {
      expect(() => cleanEntryName(name), name).toThrow(ImageArchiveError);
    }
    expect(cleanEntryName("dir/")).toBe("dir");
    const base: Entry[] = [{ name: "manifest.json", content: manifest() }];
    await expect(rewrite(await tarOf([...base, { name: "manifest.json", content: manifest() }]))).rejects.toThrow(
      /appears twice/,
    );
    await expect(rewrite(await tarOf([...base, { name: "index.json", content: Buffer.from("{}") }]))).rejects.toThrow(
      /OCI index/,
    );
    await expect(rewrite(await tarOf([...base, { name: "oci-layout", content: Buffer.from("{}") }]))).rejects.toThrow(
      /OCI index/,
    );
    await expect(
      rewrite(await tarOf([...base, { name: "l/layer.tar", type: "symlink", linkname: "../../etc/passwd" }])),
    ).rejects.toThrow(/leaves the archive/);
    await expect(rewrite(await tarOf([{ name: "c.json", content: Buffer.from("{}") }]))).rejects.toThrow(
      /no manifest.json/,
    );
  });

  it("passes a clean archive through with its tags and the repositories file gone", async () => {
    const written = await rewrite(
      await tarOf([
        { name: "l", type: "directory" },
        { name: "l/layer.tar", content: await layer() },
        { name: "c.json", content: Buffer.from("{}") },
        { name: "repositories", content: Buffer.from('{"victim":{"1":"x"}}') },
        { name: "manifest.json", content: manifest() },
      ]),
    );
    expect([...written.keys()].sort()).toEqual(["c.json", "l", "l/layer.tar", "manifest.json"]);
    expect(JSON.parse(written.get("manifest.json") as string)).toEqual([{ Config: "c.json", Layers: ["l/layer.tar"] }]);
  });

  it("refuses compressed layers, sparse layer files and archives over the budget", async () => {
    const base: Entry[] = [{ name: "manifest.json", content: manifest() }];
    await expect(
      rewrite(await tarOf([{ name: "l/layer.tar", content: gzipSync(await layer()) }, ...base])),
    ).rejects.toThrow(/compressed/);
    const sparse = await (async () => {
      const out = pack();
      out.entry({ name: "big", size: 0, pax: { "GNU.sparse.realsize": "107374182400" } }, Buffer.alloc(0));
      out.finalize();
      const chunks: Buffer[] = [];
      for await (const chunk of out) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    })();
    await expect(rewrite(await tarOf([{ name: "l/layer.tar", content: sparse }, ...base]))).rejects.toThrow(/sparse/);
    await expect(
      rewrite(await tarOf([{ name: "l/layer.tar", content: Buffer.alloc(4096) }, ...base]), 1024),
    ).rejects.toThrow(/larger than 1024 bytes/);
  });
});
