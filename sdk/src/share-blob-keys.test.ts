import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, type Hex, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareSecret } from "./actions/prepare-secret.js";
import { BlobCache, deriveSelfEncryptionKey, type SelfEncryptionKey } from "./blob-cache.js";
import { createPodnetClient } from "./create-podnet-client.js";
import { BlobCacheError, InvalidParameterError } from "./errors.js";
import { type Deployment, decryptBytes } from "./protocol/index.js";
import { shareBlobKeys } from "./share-blob-keys.js";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "podnet-share-keys-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// Offline: a local account signs, nothing reaches a chain.
const transport = http("http://127.0.0.1:9");
const ownerKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const controllerKey = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const strangerKey = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
const selfKeyOf = (key: Hex) => {
  const account = privateKeyToAccount(key);
  return deriveSelfEncryptionKey((message) => account.signMessage({ message }));
};

const secretText = "the app's database password, never on disk in the clear";
let ownerDir: string;
let owner: SelfEncryptionKey;
let controller: SelfEncryptionKey;
let stranger: SelfEncryptionKey;
let cid: string;

beforeAll(async () => {
  ownerDir = tempDir();
  const client = createPodnetClient({
    publicClient: createPublicClient({ chain: foundry, transport }),
    walletClient: createWalletClient({ chain: foundry, transport, account: privateKeyToAccount(ownerKey) }),
    deployment: { chainId: 31337, contracts: { podnetMarket: { blockNumber: 0 } } } as unknown as Deployment,
    blobCacheDir: ownerDir,
  });
  ({ cid } = await prepareSecret(client, { value: secretText }));
  [owner, controller, stranger] = await Promise.all([
    selfKeyOf(ownerKey),
    selfKeyOf(controllerKey),
    selfKeyOf(strangerKey),
  ]);
});

/** Every byte of every file under a directory. */
function filesUnder(dir: string): Buffer[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name)));
}

describe("shareBlobKeys", () => {
  it("hands a blob to the recipient's key: only that key opens it, and it decrypts to the owner's bytes", async () => {
    const to = join(tempDir(), "blobs");
    const shared = await shareBlobKeys({
      from: new BlobCache(ownerDir),
      self: owner,
      to,
      recipient: controller.publicKeyHex,
      cids: [cid],
    });
    expect(shared).toEqual([{ cid, kind: "secret", size: expect.any(Number) }]);
    const cache = new BlobCache(to);
    const key = cache.contentKey(cid, controller);
    expect(new TextDecoder().decode(decryptBytes(readFileSync(cache.path(cid)), key))).toBe(secretText);
    // The wrong key: neither another wallet nor the owner opens the recipient's entry.
    expect(() => cache.contentKey(cid, stranger)).toThrow(BlobCacheError);
    expect(() => cache.contentKey(cid, owner)).toThrow(BlobCacheError);
    // Even with the entry relabelled to the stranger's key, the sealed key does not open for it.
    const index = JSON.parse(readFileSync(join(to, "index.json"), "utf8"));
    index.blobs[cid].selfKey = stranger.publicKeyHex;
    writeFileSync(join(to, "index.json"), JSON.stringify(index));
    expect(() => cache.contentKey(cid, stranger)).toThrow(/does not open/);
  });

  it("writes nothing plaintext: neither the content key (raw, hex, base64) nor the secret is in any file", async () => {
    const to = join(tempDir(), "blobs");
    await shareBlobKeys({
      from: new BlobCache(ownerDir),
      self: owner,
      to,
      recipient: controller.publicKeyHex,
      cids: [cid],
    });
    const key = Buffer.from(new BlobCache(ownerDir).contentKey(cid, owner));
    const needles = [
      key,
      Buffer.from(key.toString("hex")),
      Buffer.from(key.toString("base64")),
      Buffer.from(key.toString("base64url")),
      Buffer.from(secretText),
    ];
    const files = filesUnder(to);
    expect(files.length).toBe(2); // the ciphertext and index.json
    for (const bytes of files) for (const needle of needles) expect(bytes.includes(needle)).toBe(false);
  });

  it("refuses a tampered entry at the recipient, naming the index file", async () => {
    const to = join(tempDir(), "blobs");
    await shareBlobKeys({
      from: new BlobCache(ownerDir),
      self: owner,
      to,
      recipient: controller.publicKeyHex,
      cids: [cid],
    });
    const file = join(to, "index.json");
    const index = JSON.parse(readFileSync(file, "utf8"));
    const wrapped = Buffer.from(index.blobs[cid].keyForSelf, "base64url");
    wrapped[wrapped.length - 1] = (wrapped[wrapped.length - 1] as number) ^ 1;
    index.blobs[cid].keyForSelf = wrapped.toString("base64url");
    writeFileSync(file, JSON.stringify(index));
    expect(() => new BlobCache(to).contentKey(cid, controller)).toThrow(file);
  });

  it("refuses a tampered owner's entry or ciphertext before writing, naming the file", async () => {
    const copy = tempDir();
    for (const name of readdirSync(ownerDir)) writeFileSync(join(copy, name), readFileSync(join(ownerDir, name)));
    const indexFile = join(copy, "index.json");
    const index = JSON.parse(readFileSync(indexFile, "utf8"));
    const good = index.blobs[cid].keyForSelf as string;
    index.blobs[cid].keyForSelf = `${good.slice(0, -4)}AAAA`;
    writeFileSync(indexFile, JSON.stringify(index));
    const to = join(tempDir(), "blobs");
    const share = () =>
      shareBlobKeys({ from: new BlobCache(copy), self: owner, to, recipient: controller.publicKeyHex, cids: [cid] });
    await expect(share()).rejects.toThrow(indexFile);
    expect(existsSync(to)).toBe(false);

    index.blobs[cid].keyForSelf = good;
    writeFileSync(indexFile, JSON.stringify(index));
    const blob = readFileSync(join(copy, cid));
    blob[blob.length - 1] = (blob[blob.length - 1] as number) ^ 1;
    writeFileSync(join(copy, cid), blob);
    await expect(share()).rejects.toThrow(`${join(copy, cid)}: the ciphertext does not hash to its content id`);
    expect(new BlobCache(to).list()).toEqual([]);
  });

  it("refuses a recipient that is not a usable X25519 key, an unknown blob and the owner's own cache, writing nothing", async () => {
    const to = join(tempDir(), "blobs");
    const share = (recipient: string, cids = [cid], dir = to) =>
      shareBlobKeys({ from: new BlobCache(ownerDir), self: owner, to: dir, recipient, cids });
    for (const bad of [
      "",
      "0x1234",
      controller.publicKeyHex.slice(2),
      "0xzz".padEnd(66, "0"),
      `0x${"00".repeat(32)}`,
    ]) {
      await expect(share(bad)).rejects.toThrow(InvalidParameterError);
      await expect(share(bad)).rejects.toThrow(/^recipient: /);
    }
    await expect(share(controller.publicKeyHex, [])).rejects.toThrow(/^cids: /);
    const unknown = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    await expect(share(controller.publicKeyHex, [cid, unknown])).rejects.toThrow(`blob ${unknown} is not in`);
    await expect(share(controller.publicKeyHex, [cid], ownerDir)).rejects.toThrow(/^to: /);
    expect(existsSync(to)).toBe(false);
  });
});
