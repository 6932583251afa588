import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { afterAll, describe, expect, it } from "vitest";
import { prepareImage } from "./actions/prepare-image.js";
import { prepareSecret } from "./actions/prepare-secret.js";
import { BLOB_CACHE_KEY_MESSAGE, BlobCache, BlobSizeError, deriveSelfEncryptionKey } from "./blob-cache.js";
import { createPodnetClient } from "./create-podnet-client.js";
import { BlobCacheError, InvalidParameterError, WalletRequiredError } from "./errors.js";
import { contentId, type Deployment, decryptBytes, generateContentKey } from "./protocol/index.js";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "podnet-blob-cache-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// Nothing here reaches a chain: signing with a local account and the cache are offline.
const transport = http("http://127.0.0.1:9");
const deployment = {
  chainId: 31337,
  deployBlock: 0,
  deployer: "0x0000000000000000000000000000000000000001",
  contracts: {},
} as unknown as Deployment;
const keyA = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const keyB = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

function client(privateKey: `0x${string}`, blobCacheDir: string) {
  return createPodnetClient({
    publicClient: createPublicClient({ chain: foundry, transport }),
    walletClient: createWalletClient({ chain: foundry, transport, account: privateKeyToAccount(privateKey) }),
    deployment: { ...deployment, contracts: { podnetMarket: { blockNumber: 0 } } } as unknown as Deployment,
    blobCacheDir,
  });
}

describe("blob cache key", () => {
  it("is derived deterministically from the wallet's signature, and differs per wallet", async () => {
    const a = privateKeyToAccount(keyA);
    const b = privateKeyToAccount(keyB);
    const first = await deriveSelfEncryptionKey((message) => a.signMessage({ message }));
    const again = await deriveSelfEncryptionKey((message) => a.signMessage({ message }));
    const other = await deriveSelfEncryptionKey((message) => b.signMessage({ message }));
    expect(first.publicKeyHex).toBe(again.publicKeyHex);
    expect(first.publicKeyHex).not.toBe(other.publicKeyHex);
    let signed = "";
    await deriveSelfEncryptionKey(async (message) => {
      signed = message;
      return a.signMessage({ message });
    });
    expect(signed).toBe(BLOB_CACHE_KEY_MESSAGE);
  });
});

describe("BlobCache", () => {
  it("writes streamed ciphertext under its content id and keeps the index", async () => {
    const cache = new BlobCache(tempDir());
    const parts = [new Uint8Array([1, 2, 3]), new Uint8Array(70_000).fill(7), new Uint8Array([9])];
    async function* chunks() {
      yield* parts;
    }
    const { cid, size } = await cache.write(chunks());
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      all.set(p, offset);
      offset += p.length;
    }
    expect(cid).toBe(contentId(all));
    expect(size).toBe(all.length);
    expect(new Uint8Array(readFileSync(cache.path(cid)))).toEqual(all);
    expect(cache.has(cid)).toBe(false); // no entry yet
    const self = await deriveSelfEncryptionKey((message) => privateKeyToAccount(keyA).signMessage({ message }));
    const key = generateContentKey();
    cache.put({ cid, size, kind: "image", ...cache.seal(key, self), sources: [], createdAt: 1 });
    expect(cache.has(cid)).toBe(true);
    expect(cache.contentKey(cid, self)).toEqual(key);
    cache.addSource(cid, "http://a.example/v1/blobs/x");
    cache.addSource(cid, "http://a.example/v1/blobs/x");
    cache.addSource(cid, "http://b.example/v1/blobs/x");
    expect(new BlobCache(cache.dir).get(cid)?.sources).toEqual([
      "http://a.example/v1/blobs/x",
      "http://b.example/v1/blobs/x",
    ]);
    cache.removeSource(cid, "http://a.example/v1/blobs/x");
    expect(cache.get(cid)?.sources).toEqual(["http://b.example/v1/blobs/x"]);
    expect(statSync(join(cache.dir, "index.json")).mode & 0o777).toBe(0o600);
    expect(readdirSync(cache.dir).filter((f) => f.startsWith(".tmp"))).toEqual([]);
    cache.remove(cid);
    expect(cache.has(cid)).toBe(false);
  });

  it("write with expectCid keeps nothing that hashes to another id; with maxBytes refuses a longer stream", async () => {
    const cache = new BlobCache(tempDir());
    const bytes = new TextEncoder().encode("ciphertext");
    const other = contentId(new TextEncoder().encode("something else"));
    async function* stream(...chunks: Uint8Array[]) {
      yield* chunks;
    }
    await expect(cache.write(stream(bytes), { expectCid: other })).rejects.toThrow(
      new BlobCacheError(`the bytes hash to ${contentId(bytes)}, not ${other}; refused`),
    );
    await expect(cache.write(stream(bytes, bytes), { maxBytes: bytes.length + 1 })).rejects.toBeInstanceOf(
      BlobSizeError,
    );
    expect(readdirSync(cache.dir)).toEqual([]);
    expect(await cache.write(stream(bytes), { expectCid: contentId(bytes), maxBytes: bytes.length })).toEqual({
      cid: contentId(bytes),
      size: bytes.length,
    });
  });

  it("refuses to open a key sealed by another wallet, and names a corrupt index", async () => {
    const cache = new BlobCache(tempDir());
    const { cid, size } = await cache.write(
      (async function* () {
        yield new Uint8Array([1]);
      })(),
    );
    const mine = await deriveSelfEncryptionKey((message) => privateKeyToAccount(keyA).signMessage({ message }));
    const theirs = await deriveSelfEncryptionKey((message) => privateKeyToAccount(keyB).signMessage({ message }));
    cache.put({ cid, size, kind: "secret", ...cache.seal(generateContentKey(), mine), sources: [], createdAt: 1 });
    expect(() => cache.contentKey(cid, theirs)).toThrow(BlobCacheError);
    expect(() => cache.contentKey(cid, theirs)).toThrow(/another wallet/);
    writeFileSync(join(cache.dir, "index.json"), "{nope");
    expect(() => cache.get(cid)).toThrow(/not valid JSON/);
    expect(() => cache.path("not-a-cid")).toThrow(BlobCacheError);
  });
});

describe("prepareImage / prepareSecret", () => {
  it("encrypt into the cache with the content key only wrapped, and decrypt back to the input", async () => {
    const dir = tempDir();
    const podnet = client(keyA, dir);
    const tarball = new Uint8Array(200_000);
    for (let i = 0; i < tarball.length; i++) tarball[i] = (i * 31) % 251;
    const path = join(tempDir(), "image.tar");
    writeFileSync(path, tarball);
    const fromPath = await prepareImage(podnet, { tarball: path });
    const fromBytes = await podnet.prepareImage({ tarball });
    // A fresh content key per blob: the same tarball gives a different blob.
    expect(fromPath.cid).not.toBe(fromBytes.cid);
    expect(fromPath.image).toBe(`blob:${fromPath.cid}`);
    expect(fromPath.size).toBe(statSync(podnet.blobCache.path(fromPath.cid)).size);
    const self = await deriveSelfEncryptionKey((message) => privateKeyToAccount(keyA).signMessage({ message }));
    const key = podnet.blobCache.contentKey(fromPath.cid, self);
    expect(decryptBytes(readFileSync(podnet.blobCache.path(fromPath.cid)), key)).toEqual(tarball);
    // The content key never reaches the disk in plaintext.
    const needle = Buffer.from(key);
    for (const file of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, file));
      expect(bytes.includes(needle), file).toBe(false);
      expect(bytes.toString("utf8").includes(Buffer.from(key).toString("base64url")), file).toBe(false);
      expect(bytes.toString("utf8").includes(Buffer.from(key).toString("hex")), file).toBe(false);
    }

    const secret = await prepareSecret(podnet, { value: "hunter2" });
    expect(secret.blob).toBe(secret.cid);
    expect(podnet.blobCache.get(secret.cid)?.kind).toBe("secret");
    const secretKey = podnet.blobCache.contentKey(secret.cid, self);
    expect(new TextDecoder().decode(decryptBytes(readFileSync(podnet.blobCache.path(secret.cid)), secretKey))).toBe(
      "hunter2",
    );
    expect(readFileSync(podnet.blobCache.path(secret.cid)).includes(Buffer.from("hunter2"))).toBe(false);
    await expect(prepareSecret(podnet, { value: new Uint8Array(1024 * 1024 + 1) })).rejects.toThrow(
      InvalidParameterError,
    );
  });

  it("needs a wallet", async () => {
    const readOnly = createPodnetClient({
      publicClient: createPublicClient({ chain: foundry, transport }),
      deployment,
      blobCacheDir: tempDir(),
    });
    await expect(readOnly.prepareSecret({ value: "x" })).rejects.toThrow(WalletRequiredError);
    await expect(readOnly.prepareSecret({ value: "x" })).rejects.toThrow(/walletClient/);
  });
});
