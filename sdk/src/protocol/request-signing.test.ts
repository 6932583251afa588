import {
  type Address,
  concat,
  encodeAbiParameters,
  getAddress,
  type Hex,
  hashStruct,
  hashTypedData,
  keccak256,
  parseAbiParameters,
  parseSignature,
  recoverAddress,
  recoverTypedDataAddress,
  serializeCompactSignature,
  signatureToCompactSignature,
  size,
  slice,
  stringToBytes,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import {
  erc1271RequestCheck,
  erc1271RequestSignature,
  NonceCache,
  REQUEST_MAX_SKEW_SECONDS,
  RequestAuthError,
  readRequestHeaders,
  requestDigest,
  requestHeaders,
  requestStructHash,
  requestTypedData,
  type SignedRequestFields,
  signRequest,
  type VerifyRequestOptions,
  verifyRequest,
} from "./request-signing.js";

const publisher = privateKeyToAccount("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const other = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const provider: Address = getAddress("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc");
const otherProvider: Address = getAddress("0x90f79bf6eb2c4f870365e785982e1f101e93b906");
const chainId = 31337;
const now = 1_800_000_000;

const request: SignedRequestFields = {
  provider,
  method: "PUT",
  path: "/v1/leases/7/manifest?dry=1",
  body: '{"manifest":{}}',
};

async function signed(fields: SignedRequestFields = request, at = now, account = publisher): Promise<Headers> {
  return new Headers(await signRequest(account, chainId, fields, at));
}

function options(overrides: Partial<VerifyRequestOptions> = {}): VerifyRequestOptions {
  return { chainId, nonces: new NonceCache(), now, ...overrides };
}

/** The reason `verifyRequest` refuses with; fails the test when it accepts. */
async function refusal(
  headers: Headers,
  fields: SignedRequestFields = request,
  opts: VerifyRequestOptions = options(),
): Promise<string> {
  const error = await verifyRequest(headers, fields, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RequestAuthError);
  return (error as RequestAuthError).reason;
}

describe("signRequest / verifyRequest", () => {
  it("accepts a fresh signed request and returns the checksummed signer", async () => {
    const headers = await signed();
    expect(headers.get(requestHeaders.signer)).toBe(publisher.address);
    expect(headers.get(requestHeaders.timestamp)).toBe(String(now));
    expect(headers.get(requestHeaders.nonce)).toMatch(/^0x[0-9a-f]{64}$/);
    expect(headers.get(requestHeaders.signature)).toMatch(/^0x[0-9a-f]{130}$/);
    const signer = await verifyRequest(headers, request, options());
    expect(signer).toBe(getAddress(publisher.address));
    expect(signer).toBe("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  });

  it("returns the checksummed signer even when the header is lowercase", async () => {
    const headers = await signed();
    headers.set(requestHeaders.signer, publisher.address.toLowerCase());
    expect(await verifyRequest(headers, request, options())).toBe(publisher.address);
  });

  it("makes a new nonce for each request", async () => {
    const a = await signed();
    const b = await signed();
    expect(a.get(requestHeaders.nonce)).not.toBe(b.get(requestHeaders.nonce));
  });

  it("covers string and byte bodies alike", async () => {
    const bytes = new TextEncoder().encode('{"manifest":{}}');
    const fromString = await signed();
    expect(await verifyRequest(fromString, { ...request, body: bytes }, options())).toBe(publisher.address);
    const fromBytes = await signed({ ...request, body: bytes });
    expect(await verifyRequest(fromBytes, request, options())).toBe(publisher.address);
    const other = await signed({ ...request, body: bytes });
    const changed = new Uint8Array(bytes);
    changed[0] = 0x5b;
    expect(await refusal(other, { ...request, body: changed })).toContain("does not match");
  });

  it("treats a missing body as an empty one", async () => {
    const get = { provider, method: "GET", path: "/v1/leases/7" };
    const headers = await signed(get);
    expect(await verifyRequest(headers, { ...get, body: "" }, options())).toBe(publisher.address);
    expect(await refusal(await signed(get), { ...get, body: "x" })).toContain("does not match");
  });

  it("does not care about the method's case", async () => {
    const headers = await signed({ ...request, method: "put" });
    expect(await verifyRequest(headers, request, options())).toBe(publisher.address);
  });

  it("refuses a replay of the same headers", async () => {
    const headers = await signed();
    const opts = options();
    await verifyRequest(headers, request, opts);
    const reason = await refusal(headers, request, opts);
    expect(reason).toContain(requestHeaders.nonce);
    expect(reason).toContain("already used");
    // A second provider process (own nonce cache) is a different matter; the cache is what refuses.
    expect(await verifyRequest(headers, request, options())).toBe(publisher.address);
  });

  it("refuses timestamps more than 60 s off, and accepts exactly 60 s", async () => {
    expect(REQUEST_MAX_SKEW_SECONDS).toBe(60);
    for (const at of [now - 61, now + 61, now - 3600]) {
      const reason = await refusal(await signed(request, at));
      expect(reason).toContain(requestHeaders.timestamp);
      expect(reason).toContain("provider's clock");
    }
    for (const at of [now - 60, now + 60]) {
      expect(await verifyRequest(await signed(request, at), request, options())).toBe(publisher.address);
    }
  });

  it("refuses a timestamp that is not a unix time in seconds", async () => {
    for (const text of ["1.8e9", "-5", "abc", "1800000000000"]) {
      const headers = await signed();
      headers.set(requestHeaders.timestamp, text);
      const reason = await refusal(headers);
      expect(reason).toContain(requestHeaders.timestamp);
    }
  });

  it("refuses requests signed before notBefore", async () => {
    const reason = await refusal(await signed(request, now - 10), request, options({ notBefore: now - 5 }));
    expect(reason).toContain(requestHeaders.timestamp);
    expect(reason).toContain("restarted");
    const atBoundary = await signed(request, now - 5);
    expect(await verifyRequest(atBoundary, request, options({ notBefore: now - 5 }))).toBe(publisher.address);
  });

  it("refuses a request whose method, path, query, body, provider or chain differ from what was signed", async () => {
    const tampered: [SignedRequestFields, number][] = [
      [{ ...request, method: "POST" }, chainId],
      [{ ...request, path: "/v1/leases/8/manifest?dry=1" }, chainId],
      [{ ...request, path: "/v1/leases/7/manifest?dry=0" }, chainId],
      [{ ...request, path: "/v1/leases/7/manifest" }, chainId],
      [{ ...request, body: '{"manifest":{"x":1}}' }, chainId],
      [{ ...request, body: undefined }, chainId],
      [{ ...request, provider: otherProvider }, chainId],
      [request, 1],
    ];
    for (const [fields, chain] of tampered) {
      const reason = await refusal(await signed(), fields, options({ chainId: chain }));
      expect(reason).toContain(requestHeaders.signature);
      expect(reason).toContain("does not match");
    }
  });

  it("refuses a request whose signer header names someone else", async () => {
    const headers = await signed();
    headers.set(requestHeaders.signer, other.address);
    expect(await refusal(headers)).toContain("does not match");
    // The other key signing for itself is fine.
    expect(await verifyRequest(await signed(request, now, other), request, options())).toBe(other.address);
  });

  it("refuses a signer header that is not an address", async () => {
    const headers = await signed();
    headers.set(requestHeaders.signer, "0x1234");
    const reason = await refusal(headers);
    expect(reason).toContain(requestHeaders.signer);
    expect(reason).toContain("not an address");
  });

  it("names each missing header", async () => {
    for (const name of Object.values(requestHeaders)) {
      const headers = await signed();
      headers.delete(name);
      expect(await refusal(headers)).toBe(`${name}: missing`);
    }
  });

  it("refuses a nonce that is not 32 bytes of hex", async () => {
    for (const nonce of ["0x1234", `0x${"ab".repeat(33)}`, `0x${"zz".repeat(32)}`, "ab".repeat(33)]) {
      const headers = await signed();
      headers.set(requestHeaders.nonce, nonce);
      const reason = await refusal(headers);
      expect(reason).toContain(requestHeaders.nonce);
      expect(reason).toContain("32 bytes");
    }
  });

  it("refuses a malformed signature", async () => {
    const notHex = await signed();
    notHex.set(requestHeaders.signature, "0xnothex");
    expect(await refusal(notHex)).toBe(`${requestHeaders.signature}: not hex`);
    const short = await signed();
    short.set(requestHeaders.signature, "0x1234");
    const reason = await refusal(short);
    expect(reason).toContain(requestHeaders.signature);
    expect(reason).toContain("malformed");
  });

  it("does not let a forged request burn the nonce of a real one", async () => {
    const headers = await signed();
    const opts = options();
    expect(await refusal(headers, { ...request, path: "/v1/leases/8/manifest?dry=1" }, opts)).toContain(
      "does not match",
    );
    const forgedSigner = new Headers(headers);
    forgedSigner.set(requestHeaders.signer, other.address);
    expect(await refusal(forgedSigner, request, opts)).toContain("does not match");
    const stale = await refusal(headers, request, { ...opts, now: now + 61 });
    expect(stale).toContain(requestHeaders.timestamp);
    expect(await verifyRequest(headers, request, opts)).toBe(publisher.address);
    expect(await refusal(headers, request, opts)).toContain("already used");
  });
});

describe("requestStructHash / requestDigest (hand-encoded)", () => {
  it("equal viem's hashStruct / hashTypedData on varied requests", () => {
    const methods = ["GET", "put", "PoSt", "HEAD", "DELETE", "ünïcode", ""];
    for (let i = 0; i < 300; i++) {
      const seed = keccak256(stringToBytes(`case ${i}`));
      const path = `/v1/leases/${BigInt(seed) % 10n ** BigInt(i % 30)}${i % 3 === 0 ? `?q=${seed.slice(2, 2 + (i % 60))}` : ""}${"é".repeat(i % 5)}`;
      const typedData = requestTypedData(
        [1, 31337, 8453, 2 ** 40][i % 4] as number,
        {
          provider: getAddress(`0x${seed.slice(26)}`),
          method: methods[i % methods.length] as string,
          path,
          ...(i % 2 === 0 ? { body: seed.repeat(i % 7) } : {}),
        },
        [0, 1, 1_800_000_000, 2 ** 53 - 1][i % 4] as number,
        keccak256(seed),
      );
      expect(requestStructHash(typedData)).toBe(
        hashStruct({ data: typedData.message, primaryType: typedData.primaryType, types: typedData.types }),
      );
      expect(requestDigest(typedData.domain.chainId, typedData)).toBe(hashTypedData(typedData));
    }
  });
});

describe("requestTypedData", () => {
  it("is what signRequest signs and what verifyRequest recovers from", async () => {
    const headers = await signed();
    const nonce = headers.get(requestHeaders.nonce) as Hex;
    const typedData = requestTypedData(chainId, request, now, nonce);
    // The same bytes signed directly over the builder's output give the very signature signRequest sent.
    expect(await publisher.signTypedData(typedData)).toBe(headers.get(requestHeaders.signature));
    expect(
      await recoverTypedDataAddress({ ...typedData, signature: headers.get(requestHeaders.signature) as Hex }),
    ).toBe(publisher.address);
  });

  it("upper-cases the method and hashes the body", () => {
    const nonce: Hex = `0x${"11".repeat(32)}`;
    const { message, primaryType, domain } = requestTypedData(chainId, { ...request, method: "put" }, now, nonce);
    expect(primaryType).toBe("Request");
    expect(domain).toEqual({ name: "Podnet Provider API", version: "1", chainId });
    expect(message).toEqual({
      provider,
      method: "PUT",
      path: request.path,
      bodyHash: keccak256(stringToBytes(request.body as string)),
      timestamp: BigInt(now),
      nonce,
    });
    const empty = requestTypedData(chainId, { provider, method: "GET", path: "/v1/leases/7" }, now, nonce);
    expect(empty.message.bodyHash).toBe(keccak256(new Uint8Array()));
  });

  it("lets verifyRequest accept a request signed over it by any signer of typed data", async () => {
    const nonce: Hex = `0x${"22".repeat(32)}`;
    const signature = await other.signTypedData(requestTypedData(chainId, request, now, nonce));
    const headers = new Headers({
      [requestHeaders.signer]: other.address,
      [requestHeaders.timestamp]: String(now),
      [requestHeaders.nonce]: nonce,
      [requestHeaders.signature]: signature,
    });
    expect(await verifyRequest(headers, request, options())).toBe(other.address);
    // One field off (the path) and the same signature no longer verifies.
    const tampered = new Headers(headers);
    expect(await refusal(tampered, { ...request, path: "/v1/leases/7/manifest" })).toContain("does not match");
  });
});

describe("readRequestHeaders", () => {
  it("returns the stated headers without recovering anything, refusing what verifyRequest refuses cheaply", async () => {
    const headers = await signed();
    expect(readRequestHeaders(headers, { now })).toEqual({
      signer: publisher.address,
      timestamp: now,
      nonce: headers.get(requestHeaders.nonce),
      signature: headers.get(requestHeaders.signature),
    });
    // A stated signer that did not sign is only found out by verifyRequest.
    const claimed = new Headers(headers);
    claimed.set(requestHeaders.signer, other.address);
    expect(readRequestHeaders(claimed, { now }).signer).toBe(other.address);
    const stale = () => readRequestHeaders(headers, { now: now + REQUEST_MAX_SKEW_SECONDS + 1 });
    expect(stale).toThrow(RequestAuthError);
    expect(() => readRequestHeaders(headers, { now, notBefore: now + 1 })).toThrow(
      /signed before the provider restarted/,
    );
    const noNonce = new Headers(headers);
    noNonce.delete(requestHeaders.nonce);
    expect(() => readRequestHeaders(noNonce, { now })).toThrow(`${requestHeaders.nonce}: missing`);
  });
});

describe("NonceCache", () => {
  const nonce: Hex = `0x${"11".repeat(32)}`;

  it("lets each signer:nonce through once", () => {
    const cache = new NonceCache();
    expect(cache.claim(publisher.address, nonce, now, now)).toBe(true);
    expect(cache.claim(publisher.address, nonce, now, now)).toBe(false);
    expect(cache.claim(publisher.address, `0x${"22".repeat(32)}`, now, now)).toBe(true);
  });

  it("keeps the same nonce from two signers apart", () => {
    const cache = new NonceCache();
    expect(cache.claim(publisher.address, nonce, now, now)).toBe(true);
    expect(cache.claim(other.address, nonce, now, now)).toBe(true);
    expect(cache.claim(other.address, nonce, now, now)).toBe(false);
    expect(cache.claim(publisher.address, nonce, now, now)).toBe(false);
  });

  it("forgets nonces once expired, oldest first, and keeps every live one", () => {
    const cache = new NonceCache();
    const nonceOf = (i: number) => keccak256(stringToBytes(`nonce ${i}`));
    for (let i = 0; i < 20_000; i++) expect(cache.claim(publisher.address, nonceOf(i), now + (i % 2), now)).toBe(true);
    expect(cache.size).toBe(20_000);
    // Past the even ones' expiry, not the odd ones': the first claim drops the leading expired entry only up to a live one.
    const later = now + REQUEST_MAX_SKEW_SECONDS + 1;
    expect(cache.claim(publisher.address, nonceOf(1), now + 1, later)).toBe(false);
    expect(cache.size).toBe(19_999);
    // Once all are expired, one claim forgets them all.
    cache.claim(other.address, nonce, later + 2, later + 2);
    expect(cache.size).toBe(1);
  });

  it("ignores the case of the signer and the nonce", () => {
    const cache = new NonceCache();
    const mixed = `0x${"aB".repeat(32)}` as Hex;
    expect(cache.claim(publisher.address, mixed, now, now)).toBe(true);
    expect(cache.claim(publisher.address.toLowerCase() as Address, mixed.toLowerCase() as Hex, now, now)).toBe(false);
    expect(cache.claim(publisher.address.toUpperCase().replace("0X", "0x") as Address, mixed, now, now)).toBe(false);
  });
});

describe("erc1271RequestCheck (a contract publisher: AppVault.isValidSignature)", () => {
  async function stated(fields: SignedRequestFields = request, account = publisher) {
    return readRequestHeaders(await signed(fields, now, account), { now });
  }

  it("asks for the request's EIP-712 digest with the signature followed by its struct hash", async () => {
    const headers = await stated();
    const check = erc1271RequestCheck(chainId, request, headers);
    const typedData = requestTypedData(chainId, request, headers.timestamp, headers.nonce);
    const structHash = requestStructHash(typedData);
    // What the vault rebuilds: keccak256("\x19\x01" ‖ requestDomainSeparator ‖ structHash).
    const domainSeparator = keccak256(
      encodeAbiParameters(parseAbiParameters("bytes32, bytes32, bytes32, uint256"), [
        keccak256(stringToBytes("EIP712Domain(string name,string version,uint256 chainId)")),
        keccak256(stringToBytes("Podnet Provider API")),
        keccak256(stringToBytes("1")),
        BigInt(chainId),
      ]),
    );
    expect(check.hash).toBe(keccak256(concat(["0x1901", domainSeparator, structHash])));
    expect(size(check.signature)).toBe(97);
    expect(slice(check.signature, 65)).toBe(structHash);
    expect(await recoverAddress({ hash: check.hash, signature: slice(check.signature, 0, 65) })).toBe(
      publisher.address,
    );
  });

  it("binds the bundle to the request: another path, body or provider gives another digest and struct hash", async () => {
    const headers = await stated();
    const check = erc1271RequestCheck(chainId, request, headers);
    for (const changed of [
      { ...request, path: "/v1/leases/8/manifest?dry=1" },
      { ...request, body: '{"manifest":{"x":1}}' },
      { ...request, provider: otherProvider },
    ]) {
      const moved = erc1271RequestCheck(chainId, changed, headers);
      expect(moved.hash).not.toBe(check.hash);
      expect(slice(moved.signature, 65)).not.toBe(slice(check.signature, 65));
    }
  });

  it("writes v as 27/28 and expands a compact signature, as OpenZeppelin's ECDSA wants", async () => {
    const headers = await stated();
    const structHash = `0x${"cd".repeat(32)}` as Hex;
    const expected = erc1271RequestSignature(headers.signature, structHash);
    const parsed = parseSignature(headers.signature);
    const lowV = concat([slice(headers.signature, 0, 64), parsed.yParity === 1 ? "0x01" : "0x00"]);
    expect(erc1271RequestSignature(lowV, structHash)).toBe(expected);
    const compact = serializeCompactSignature(signatureToCompactSignature(parsed));
    expect(erc1271RequestSignature(compact, structHash)).toBe(expected);
    expect([27, 28]).toContain(Number.parseInt(expected.slice(130, 132), 16));
  });

  it("refuses a signature of any other length, naming the header", () => {
    for (const signature of ["0x", `0x${"11".repeat(66)}`, `0x${"11".repeat(63)}`] as Hex[]) {
      expect(() => erc1271RequestSignature(signature, `0x${"cd".repeat(32)}`)).toThrow(
        `${requestHeaders.signature}: must be a 65-byte (r, s, v) or 64-byte compact signature`,
      );
    }
  });
});
