import { base58btc } from "multiformats/bases/base58";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { identity } from "multiformats/hashes/identity";
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, it } from "vitest";
import { ContentHasher, contentId, isContentId, parseContentId, verifyContentId } from "./content-id.js";

const EMPTY_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
const utf8 = (text: string) => new TextEncoder().encode(text);

describe("contentId", () => {
  it("matches the well-known CID of the empty blob", () => {
    expect(contentId(new Uint8Array())).toBe(EMPTY_CID);
  });

  it("agrees with multiformats' own CIDv1 raw sha2-256", async () => {
    const bytes = utf8("hello world");
    const expected = CID.create(1, raw.code, await sha256.digest(bytes)).toString();
    expect(contentId(bytes)).toBe(expected);
    expect(expected.startsWith("bafkrei")).toBe(true);
  });

  it("hashes incrementally to the id of the concatenation", () => {
    const parts = [utf8("hello"), new Uint8Array(), utf8(" "), new Uint8Array(100_000).fill(7), utf8("world")];
    const hasher = new ContentHasher();
    for (const part of parts) hasher.update(part);
    const whole = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
    parts.reduce((offset, part) => {
      whole.set(part, offset);
      return offset + part.length;
    }, 0);
    expect(hasher.digest()).toBe(contentId(whole));
  });
});

describe("parseContentId", () => {
  it("returns a valid id in its base32 form, whatever base it was written in", () => {
    expect(parseContentId(EMPTY_CID)).toBe(EMPTY_CID);
    expect(parseContentId(CID.parse(EMPTY_CID).toString(base58btc))).toBe(EMPTY_CID);
    expect(isContentId(EMPTY_CID)).toBe(true);
  });

  it("rejects what is not a CIDv1 raw sha2-256", async () => {
    const dagPbV1 = CID.create(1, 0x70 /* dag-pb */, await sha256.digest(utf8("x"))).toString();
    const cases: [string, RegExp][] = [
      ["", /^content id: not a CID/],
      ["hello", /^content id: not a CID/],
      ["QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", /^content id: must be CIDv1/],
      [dagPbV1, /^content id: must use the raw codec/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseContentId(text)).toThrow(message);
      expect(isContentId(text)).toBe(false);
    }
  });

  it("rejects a raw CID with another hash function", () => {
    const cid = CID.create(1, raw.code, identity.digest(utf8("x"))).toString();
    expect(() => parseContentId(cid)).toThrow(/^content id: must use sha2-256/);
  });
});

describe("verifyContentId", () => {
  it("accepts the bytes a cid names and refuses a flipped byte or a bad id", () => {
    const bytes = utf8("some encrypted blob");
    const cid = contentId(bytes);
    expect(verifyContentId(cid, bytes)).toBe(true);
    const flipped = bytes.slice();
    flipped[3] = (flipped[3] ?? 0) ^ 1;
    expect(verifyContentId(cid, flipped)).toBe(false);
    expect(verifyContentId("hello", bytes)).toBe(false);
  });
});
