import {
  type Address,
  bytesToHex,
  compactSignatureToSignature,
  concat,
  domainSeparator,
  getAddress,
  type Hex,
  hexToBytes,
  isAddress,
  isHex,
  keccak256,
  type LocalAccount,
  numberToHex,
  parseCompactSignature,
  parseSignature,
  recoverAddress,
  serializeSignature,
  size,
  stringToBytes,
} from "viem";
import { PodnetError } from "./errors.js";

/**
 * Signed requests to a provider API. A publisher proves it owns a lease by signing, with the lease's publisher key,
 * EIP-712 typed data over the provider it talks to, the HTTP method, the path with its query, the keccak256 of the
 * body, a timestamp and a random nonce. The provider refuses stale timestamps and nonces it has seen, so a captured
 * request cannot be replayed, and a request for provider A cannot be replayed to provider B.
 *
 * Typed data (not a personal_sign string) so any viem account, hardware wallet or JSON-RPC signer can sign it and
 * show the user what they sign.
 *
 * A lease whose publisher is a contract (an app's AppVault) is used by the keys the contract vouches for (the app's
 * owner and controllers): such a key signs the same typed data as any publisher, and the verifier asks the contract
 * with ERC-1271 (`isValidSignature(digest, signature ‖ structHash)`, see {@link erc1271RequestCheck}).
 */

/** How far a request's timestamp may be from the provider's clock, in seconds. */
export const REQUEST_MAX_SKEW_SECONDS = 60;

/** The HTTP headers that carry a request signature. */
export const requestHeaders = {
  signer: "x-podnet-signer",
  timestamp: "x-podnet-timestamp",
  nonce: "x-podnet-nonce",
  signature: "x-podnet-signature",
} as const;

/** EIP-712 domain of signed provider API requests: not bound to a contract, only to the chain. */
export const requestDomain = (chainId: number) => ({ name: "Podnet Provider API", version: "1", chainId }) as const;

/** EIP-712 types of a signed provider API request. */
export const requestTypes = {
  Request: [
    { name: "provider", type: "address" },
    { name: "method", type: "string" },
    { name: "path", type: "string" },
    { name: "bodyHash", type: "bytes32" },
    { name: "timestamp", type: "uint64" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;

/** What the signature covers. `path` includes the query string, exactly as sent. */
export interface SignedRequestFields {
  provider: Address;
  method: string;
  path: string;
  body?: Uint8Array | string;
}

function bodyHash(body: Uint8Array | string | undefined): Hex {
  if (body === undefined) return keccak256(new Uint8Array());
  return keccak256(typeof body === "string" ? new TextEncoder().encode(body) : body);
}

/**
 * The EIP-712 typed data a request signature covers: what {@link signRequest} signs and {@link verifyRequest}
 * recovers from, built in one place so the two cannot drift. The method is upper-cased (HTTP methods are
 * case-insensitive) and the body is hashed.
 *
 * @example
 * const typedData = requestTypedData(31337, { provider, method: "GET", path: "/v1/leases/7" }, now, nonce);
 * const signature = await account.signTypedData(typedData);
 */
export function requestTypedData(chainId: number, request: SignedRequestFields, timestamp: number, nonce: Hex) {
  return {
    domain: requestDomain(chainId),
    types: requestTypes,
    primaryType: "Request",
    message: {
      provider: request.provider,
      method: request.method.toUpperCase(),
      path: request.path,
      bodyHash: bodyHash(request.body),
      timestamp: BigInt(timestamp),
      nonce,
    },
  } as const;
}

/** The typed data of one request, as {@link requestTypedData} builds it. */
export type RequestTypedData = ReturnType<typeof requestTypedData>;

const REQUEST_TYPEHASH = hexToBytes(
  keccak256(
    stringToBytes(
      "Request(address provider,string method,string path,bytes32 bodyHash,uint64 timestamp,bytes32 nonce)",
    ),
  ),
);
const domainSeparators = new Map<number, Uint8Array>();

/**
 * The EIP-712 struct hash of a request's typed data (`hashStruct(Request)`): what an AppVault rebuilds the digest from.
 * Encoded by hand, word by word, rather than through viem's generic `hashStruct`: a provider computes it for every
 * signed request, and the generic path (type parsing, ABI encoding, checks) cost about 0.9 ms of the ~1 ms a request's
 * verification took (`npm run bench:api` profile). The test checks it against viem's on random requests.
 */
export function requestStructHash(typedData: RequestTypedData): Hex {
  const m = typedData.message;
  if (!isAddress(m.provider, { strict: false }))
    throw new RequestAuthError(`provider: "${m.provider}" is not an address`);
  if (m.timestamp < 0n || m.timestamp >= 2n ** 64n) throw new RequestAuthError("timestamp: out of uint64 range");
  const words = new Uint8Array(32 * 7);
  words.set(REQUEST_TYPEHASH, 0);
  words.set(hexToBytes(m.provider), 32 + 12);
  words.set(hexToBytes(keccak256(stringToBytes(m.method))), 64);
  words.set(hexToBytes(keccak256(stringToBytes(m.path))), 96);
  words.set(hexToBytes(m.bodyHash, { size: 32 }), 128);
  words.set(hexToBytes(numberToHex(m.timestamp, { size: 32 })), 160);
  words.set(hexToBytes(m.nonce, { size: 32 }), 192);
  return keccak256(words);
}

/** The EIP-712 digest a request signature signs: `keccak256(0x1901 ‖ domainSeparator ‖ structHash)`. */
export function requestDigest(chainId: number, typedData: RequestTypedData): Hex {
  let separator = domainSeparators.get(chainId);
  if (!separator) {
    separator = hexToBytes(domainSeparator({ domain: requestDomain(chainId) }));
    domainSeparators.set(chainId, separator);
  }
  const bytes = new Uint8Array(66);
  bytes[0] = 0x19;
  bytes[1] = 0x01;
  bytes.set(separator, 2);
  bytes.set(hexToBytes(requestStructHash(typedData)), 34);
  return keccak256(bytes);
}

/**
 * The ERC-1271 signature bundle an AppVault's `isValidSignature` takes for a provider-API request: the signer's
 * 65-byte ECDSA signature (r, s, v with v 27 or 28) followed by the request's 32-byte struct hash. The vault rebuilds
 * the digest from the request domain and the struct hash, so the bundle proves the key signed a provider-API request
 * and nothing else (never a token permit). A 64-byte compact signature (EIP-2098) is expanded first.
 *
 * @throws {RequestAuthError} naming `x-podnet-signature` when the signature is not 64 or 65 bytes.
 */
export function erc1271RequestSignature(signature: Hex, structHash: Hex): Hex {
  let full: Hex;
  try {
    const bytes = size(signature);
    if (bytes === 64) full = serializeSignature(compactSignatureToSignature(parseCompactSignature(signature)));
    else if (bytes === 65) full = serializeSignature(parseSignature(signature));
    else throw new Error("length");
  } catch {
    throw new RequestAuthError(`${requestHeaders.signature}: must be a 65-byte (r, s, v) or 64-byte compact signature`);
  }
  return concat([full, structHash]);
}

/** What a contract publisher is asked for one request: `isValidSignature(hash, signature)` (ERC-1271). */
export interface Erc1271RequestCheck {
  /** The EIP-712 digest of the request (request domain, `Request` struct). */
  hash: Hex;
  /** The signer's signature followed by the request's struct hash ({@link erc1271RequestSignature}). */
  signature: Hex;
}

/**
 * The arguments of the ERC-1271 call that asks a contract publisher (an AppVault) whether the key that signed this
 * request acts for it, built from the same typed data {@link signRequest} signs.
 *
 * @example
 * const { hash, signature } = erc1271RequestCheck(31337, request, readRequestHeaders(headers));
 * const magic = await publicClient.readContract({ address: vault, abi: appVaultAbi, functionName: "isValidSignature", args: [hash, signature] });
 * // magic === ERC1271_MAGIC_VALUE: the signer is the app's owner or one of its controllers
 */
export function erc1271RequestCheck(
  chainId: number,
  request: SignedRequestFields,
  stated: Pick<SignedRequestHeaders, "timestamp" | "nonce" | "signature">,
): Erc1271RequestCheck {
  const typedData = requestTypedData(chainId, request, stated.timestamp, stated.nonce);
  return {
    hash: requestDigest(chainId, typedData),
    signature: erc1271RequestSignature(stated.signature, requestStructHash(typedData)),
  };
}

/** What `isValidSignature` returns for a valid signature (ERC-1271: its own selector). */
export const ERC1271_MAGIC_VALUE = "0x1626ba7e" as const;

/**
 * Signs a provider API request and returns the headers to send with it.
 *
 * @example
 * const headers = await signRequest(account, 31337, { provider, method: "GET", path: "/v1/leases/7" });
 * await fetch(`${endpoint}/v1/leases/7`, { headers });
 */
export async function signRequest(
  account: Pick<LocalAccount, "address" | "signTypedData">,
  chainId: number,
  request: SignedRequestFields,
  now: number = Math.floor(Date.now() / 1000),
): Promise<Record<string, string>> {
  const nonce = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
  const signature = await account.signTypedData(requestTypedData(chainId, request, now, nonce));
  return {
    [requestHeaders.signer]: account.address,
    [requestHeaders.timestamp]: String(now),
    [requestHeaders.nonce]: nonce,
    [requestHeaders.signature]: signature,
  };
}

export type RequestAuthErrorType = RequestAuthError & { name: "RequestAuthError" };

/** Why a signed request was refused; `reason` is safe to show to the caller. */
export class RequestAuthError extends PodnetError {
  override name = "RequestAuthError";
  constructor(readonly reason: string) {
    super("REQUEST_AUTH", reason, { docsPath: "docs/worker.md#provider-api" });
  }
}

/**
 * Where a verifier records the nonces it accepted: `claim` records `signer:nonce` and answers false when it was
 * already used. {@link NonceCache} is the in-memory one; the worker's store also bounds and indexes it and persists a
 * high-water mark across restarts.
 */
export interface RequestNonces {
  claim(signer: Address, nonce: Hex, timestamp: number, now: number): boolean;
}

/** Remembers nonces for as long as their timestamps are acceptable, so each signed request works once. */
export class NonceCache implements RequestNonces {
  private readonly seen = new Map<string, number>();

  /** Records `signer:nonce`; false when it was already used. */
  claim(signer: Address, nonce: Hex, timestamp: number, now: number): boolean {
    this.prune(now);
    const key = `${signer.toLowerCase()}:${nonce.toLowerCase()}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, timestamp + REQUEST_MAX_SKEW_SECONDS);
    return true;
  }

  /** Nonces remembered. */
  get size(): number {
    return this.seen.size;
  }

  /**
   * Forgets expired nonces from the oldest claimed, stopping at the first one still live: claims arrive in about
   * timestamp order, so this costs what it deletes (a scan of the whole map per claim made a flood quadratic). An
   * expired entry claimed after a live one waits for that one: only memory, never a replay (its timestamp is refused).
   */
  private prune(now: number) {
    for (const [key, expires] of this.seen) {
      if (expires >= now) break;
      this.seen.delete(key);
    }
  }
}

/** Options of {@link readRequestHeaders}. */
export interface RequestHeaderOptions {
  now?: number;
  /** Requests signed before this unix time are refused: a restarted provider has lost its nonce memory. */
  notBefore?: number;
}

export interface VerifyRequestOptions extends RequestHeaderOptions {
  chainId: number;
  nonces: RequestNonces;
  /**
   * Recovers a digest's signer; default viem's `recoverAddress` (pure JS). The worker passes a native one: the
   * recovery is most of a signed request's cost. It must throw on a malformed signature.
   */
  recoverAddress?: (digest: Hex, signature: Hex) => Address | Promise<Address>;
}

/** The signature headers of a request, checked for form and freshness (see {@link readRequestHeaders}). */
export interface SignedRequestHeaders {
  /** As the request states it: not yet proven by the signature. */
  signer: Address;
  timestamp: number;
  nonce: Hex;
  signature: Hex;
}

/**
 * The cheap part of {@link verifyRequest}: the four headers are present and well formed and the timestamp is fresh.
 * Nothing is recovered, so a verifier can refuse what fails here (or whose stated signer cannot be the one it wants)
 * before it pays for a signature recovery or reads a body.
 *
 * @throws {RequestAuthError} naming the header and the reason.
 */
export function readRequestHeaders(
  headers: { get(name: string): string | null | undefined },
  options: RequestHeaderOptions = {},
): SignedRequestHeaders {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const read = (name: string) => {
    const value = headers.get(name);
    if (!value) throw new RequestAuthError(`${name}: missing`);
    return value;
  };
  const signer = read(requestHeaders.signer);
  const timestampText = read(requestHeaders.timestamp);
  const nonce = read(requestHeaders.nonce);
  const signature = read(requestHeaders.signature);
  if (!isAddress(signer, { strict: false })) throw new RequestAuthError(`${requestHeaders.signer}: not an address`);
  if (!/^\d{1,12}$/.test(timestampText)) {
    throw new RequestAuthError(`${requestHeaders.timestamp}: not a unix time in seconds`);
  }
  const timestamp = Number(timestampText);
  if (Math.abs(now - timestamp) > REQUEST_MAX_SKEW_SECONDS) {
    throw new RequestAuthError(
      `${requestHeaders.timestamp}: ${timestamp} is more than ${REQUEST_MAX_SKEW_SECONDS}s from the provider's clock (${now})`,
    );
  }
  if (options.notBefore !== undefined && timestamp < options.notBefore) {
    throw new RequestAuthError(`${requestHeaders.timestamp}: signed before the provider restarted, sign again`);
  }
  if (!isHex(nonce, { strict: true }) || nonce.length !== 66) {
    throw new RequestAuthError(`${requestHeaders.nonce}: must be 32 bytes of hex`);
  }
  if (!isHex(signature, { strict: true })) throw new RequestAuthError(`${requestHeaders.signature}: not hex`);
  return { signer, timestamp, nonce, signature };
}

/**
 * Checks a signed request and returns the signer. The nonce is claimed only when everything else holds, so a
 * forged request cannot burn a publisher's nonce.
 *
 * @throws {RequestAuthError} naming the header or the reason: missing headers, stale or future timestamp,
 *   replayed nonce, or a signature that does not recover to the signer.
 */
export async function verifyRequest(
  headers: { get(name: string): string | null | undefined },
  request: SignedRequestFields,
  options: VerifyRequestOptions,
): Promise<Address> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const { signer, timestamp, nonce, signature } = readRequestHeaders(headers, { ...options, now });
  let recovered: Address;
  try {
    const digest = requestDigest(options.chainId, requestTypedData(options.chainId, request, timestamp, nonce));
    recovered = options.recoverAddress
      ? await options.recoverAddress(digest, signature)
      : await recoverAddress({ hash: digest, signature });
  } catch {
    throw new RequestAuthError(`${requestHeaders.signature}: malformed signature`);
  }
  if (recovered.toLowerCase() !== signer.toLowerCase()) {
    throw new RequestAuthError(`${requestHeaders.signature}: does not match the signer for this request`);
  }
  if (!options.nonces.claim(recovered, nonce, timestamp, now)) {
    throw new RequestAuthError(`${requestHeaders.nonce}: already used (replayed request)`);
  }
  return getAddress(recovered);
}
