import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { appYamlTemplate } from "./app-yaml.js";
import {
  checkHandoverIssuedAt,
  type HandoverBlobKey,
  handoverBlobIndexHash,
  parseHandoverBundle,
  recoverHandoverSigner,
  signHandoverBundle,
} from "./network-handover-bundle.js";
import { podSpecTemplate } from "./pod-spec.js";
import { deriveEncryptionKeyPair } from "./protocol/crypto.js";
import { contentId, encodeWrappedKey, generateContentKey, wrapKey } from "./protocol/index.js";

const owner = privateKeyToAccount(`0x${"11".repeat(32)}`);
const stranger = privateKeyToAccount(`0x${"22".repeat(32)}`);
const vault = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const;
const nodeA = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as const;
const nodeB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" as const;
const nodeKey = deriveEncryptionKeyPair(`0x${"33".repeat(32)}`);

function blob(n: number): HandoverBlobKey {
  return {
    cid: contentId(new Uint8Array([n])),
    kind: "secret",
    size: 1,
    key: encodeWrappedKey(wrapKey(generateContentKey(), nodeKey.publicKey)),
  };
}

const files = { podYaml: podSpecTemplate(), appYaml: appYamlTemplate() };

describe("app handover bundles", () => {
  it("recovers the owner for the node it was signed for, and someone else for any other node or vault", async () => {
    const bundle = await signHandoverBundle(owner, 31337, { vault, node: nodeA, ...files, blobs: [blob(1)] }, 1000);
    const parsed = parseHandoverBundle(JSON.parse(JSON.stringify(bundle)));
    expect((await recoverHandoverSigner(31337, vault, nodeA, parsed)).signer).toBe(owner.address);
    expect((await recoverHandoverSigner(31337, vault, nodeB, parsed)).signer).not.toBe(owner.address);
    expect((await recoverHandoverSigner(1, vault, nodeA, parsed)).signer).not.toBe(owner.address);
    expect((await recoverHandoverSigner(31337, nodeB, nodeA, parsed)).signer).not.toBe(owner.address);
  });

  it("covers pod.yaml, app.yaml, every wrapped key and issuedAt", async () => {
    const blobs = [blob(1), blob(2)];
    const bundle = await signHandoverBundle(owner, 31337, { vault, node: nodeA, ...files, blobs }, 1000);
    const recovered = async (changed: Partial<typeof bundle>) =>
      (await recoverHandoverSigner(31337, vault, nodeA, { ...bundle, ...changed })).signer;
    expect(await recovered({ podYaml: files.podYaml.replace("replicas: 1", "replicas: 2") })).not.toBe(owner.address);
    expect(await recovered({ appYaml: files.appYaml.replace("target: 2", "target: 3") })).not.toBe(owner.address);
    expect(
      await recovered({ blobs: [blobs[0] as HandoverBlobKey, { ...(blobs[1] as HandoverBlobKey), key: blob(3).key }] }),
    ).not.toBe(owner.address);
    expect(await recovered({ blobs: [blobs[0] as HandoverBlobKey] })).not.toBe(owner.address);
    expect(await recovered({ issuedAt: 1001 })).not.toBe(owner.address);
    // Comments and order do not matter: the vault's own hashes are what is signed; neither does the order of blobs.
    expect(await recovered({ podYaml: `# a comment\n${files.podYaml}` })).toBe(owner.address);
    expect(await recovered({ blobs: [...blobs].reverse() })).toBe(owner.address);
    expect(await recoverHandoverSigner(31337, vault, nodeA, bundle).then((r) => r.blobIndexHash)).toBe(
      handoverBlobIndexHash(blobs),
    );
  });

  it("refuses a wrong signer's bundle by recovering another address", async () => {
    const bundle = await signHandoverBundle(stranger, 31337, { vault, node: nodeA, ...files, blobs: [] }, 1000);
    expect((await recoverHandoverSigner(31337, vault, nodeA, bundle)).signer).toBe(stranger.address);
  });

  it("issuedAt: not more than 5 minutes ahead, never older than the newest held, equal only for a resend", () => {
    const sig = "0xaa" as const;
    expect(() => checkHandoverIssuedAt({ issuedAt: 1301, signature: sig }, 1000)).toThrow(
      /^issuedAt: 1301 is more than 300s ahead of the node's clock \(1000\)$/,
    );
    expect(() => checkHandoverIssuedAt({ issuedAt: 1300, signature: sig }, 1000)).not.toThrow();
    expect(() =>
      checkHandoverIssuedAt({ issuedAt: 999, signature: sig }, 1000, { issuedAt: 1000, signature: sig }),
    ).toThrow(/^issuedAt: 999 is older than the bundle this node holds \(issued 1000\): a replay, refused$/);
    expect(() =>
      checkHandoverIssuedAt({ issuedAt: 1000, signature: sig }, 1000, { issuedAt: 1000, signature: sig }),
    ).not.toThrow();
    expect(() =>
      checkHandoverIssuedAt({ issuedAt: 1000, signature: "0xbb" }, 1000, { issuedAt: 1000, signature: sig }),
    ).toThrow(/the same second/);
  });

  it("parses untrusted JSON naming the bad field", async () => {
    const good = await signHandoverBundle(owner, 31337, { vault, node: nodeA, ...files, blobs: [blob(1)] }, 1000);
    const bad = (change: Record<string, unknown>) => () => parseHandoverBundle({ ...good, ...change });
    expect(() => parseHandoverBundle([])).toThrow(/^body: must be a JSON object$/);
    expect(bad({ podYaml: 7 })).toThrow(/^podYaml: must be a non-empty string$/);
    expect(bad({ appYaml: "" })).toThrow(/^appYaml: must be a non-empty string$/);
    expect(bad({ issuedAt: 1.5 })).toThrow(/^issuedAt: must be a unix time in seconds$/);
    expect(bad({ signature: "zz" })).toThrow(/^signature: must be 0x-prefixed hex$/);
    expect(bad({ node: "0x12" })).toThrow(/^node: must be the node's 0x address$/);
    expect(bad({ blobs: {} })).toThrow(/^blobs: must be a list$/);
    expect(bad({ blobs: [{ ...blob(1), cid: "../../etc/passwd" }] })).toThrow(/^blobs\[0\]\.cid: not a content id/);
    expect(bad({ blobs: [blob(1), blob(1)] })).toThrow(/^blobs\[1\]\.cid: .* is listed twice$/);
    expect(bad({ blobs: [{ ...blob(1), kind: "x" }] })).toThrow(/^blobs\[0\]\.kind: /);
    expect(bad({ blobs: [{ ...blob(1), size: -1 }] })).toThrow(/^blobs\[0\]\.size: /);
    expect(bad({ blobs: [{ ...blob(1), key: "abc" }] })).toThrow(/^blobs\[0\]\.key: wrapped key: expected 104 bytes/);
    await expect(recoverHandoverSigner(31337, vault, nodeA, { ...good, podYaml: "version: 9" })).rejects.toThrow(
      /^podYaml: /,
    );
    await expect(recoverHandoverSigner(31337, vault, nodeA, { ...good, signature: "0x1234" })).rejects.toThrow(
      /^signature: malformed signature$/,
    );
  });
});
