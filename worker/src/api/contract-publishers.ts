import { ERC1271_MAGIC_VALUE, type Erc1271RequestCheck } from "@podnet/sdk/protocol";
import {
  type Address,
  BaseError,
  ContractFunctionRevertedError,
  ContractFunctionZeroDataError,
  type Hex,
  parseAbi,
} from "viem";
import { HttpError } from "./http-error.js";

/** ERC-1271's one function: any contract publisher may implement it, not only an AppVault. */
const erc1271Abi = parseAbi(["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"]);

/** What {@link ContractPublishers} reads the chain with (the worker's viem public client). */
export interface ContractReader {
  getCode(args: { address: Address }): Promise<Hex | undefined>;
  readContract(args: {
    address: Address;
    abi: typeof erc1271Abi;
    functionName: "isValidSignature";
    args: readonly [Hex, Hex];
  }): Promise<Hex>;
}

export interface ContractPublisherOptions {
  /**
   * How long an ERC-1271 answer for (publisher, signer) is reused. A removed controller keeps access at most this
   * long after its removal is mined; a controller refused a moment before it was added waits as long.
   */
  verdictTtlMs?: number;
  /** How long "has code" / "has no code" is reused for an address (EIP-7702 can add or remove an account's code). */
  codeTtlMs?: number;
  /** Entries kept in each cache, least recently used out first. */
  maxEntries?: number;
  /** ERC-1271 calls in flight at once for the whole worker; past it 503 with Retry-After. */
  maxInFlight?: number;
}

export const CONTRACT_PUBLISHER_DEFAULTS = {
  verdictTtlMs: 10_000,
  codeTtlMs: 600_000,
  maxEntries: 10_000,
  maxInFlight: 16,
} as const satisfies Required<ContractPublisherOptions>;

/** A refusal says why (shown to the caller). */
export type ContractRefusal = { vouched: false; reason: string };
/** Whether a contract publisher vouches for a signer. */
export type ContractVerdict = { vouched: true } | ContractRefusal;

/**
 * Leases whose publisher is a contract (an app's AppVault): the keys it acts through (the app's owner and
 * controllers) sign requests as any publisher does, and the contract says with ERC-1271 whether it stands behind a
 * signer (`isValidSignature(digest, signature ‖ structHash)`, built by the protocol's `erc1271RequestCheck`).
 *
 * What a stranger can make this cost, per request that reaches it (the auth checks form, freshness, the worker's own
 * records, the signature recovery and the nonce first, and the per-source rate limit charges every refusal):
 * - `eth_getCode` of a lease's publisher: once per address per `codeTtlMs` (10 min), both answers cached;
 * - `isValidSignature`: once per (publisher, signer) per `verdictTtlMs` (10 s), both answers cached and concurrent
 *   asks for one pair sharing one call; a new key each time costs a call each, so calls in flight are capped for the
 *   whole worker (`maxInFlight`, 503 past it), and every refusal takes a token of the caller's rate limit.
 */
export class ContractPublishers {
  private readonly options: Required<ContractPublisherOptions>;
  private readonly code = new ExpiringCache<boolean>();
  private readonly verdicts = new ExpiringCache<ContractVerdict>();
  private inFlight = 0;

  constructor(
    private readonly reader: ContractReader,
    options: ContractPublisherOptions = {},
  ) {
    this.options = { ...CONTRACT_PUBLISHER_DEFAULTS, ...options };
  }

  /** Whether `address` has code (a contract, or an EIP-7702 delegated account); cached per address. */
  isContract(address: Address, nowMs = Date.now()): Promise<boolean> {
    const key = address.toLowerCase();
    const cached = this.code.get(key, nowMs);
    if (cached) return cached;
    const answer = this.reader.getCode({ address }).then((code) => code !== undefined && code !== "0x");
    this.code.set(key, answer, nowMs + this.options.codeTtlMs, this.options.maxEntries);
    return answer;
  }

  /**
   * The refusal remembered for (publisher, signer), if any: lets the auth refuse a request that names a refused signer
   * before it reads the body or recovers the signature (whoever sends it, that signer is not let in).
   */
  knownRefusal(publisher: Address, signer: Address, nowMs = Date.now()): ContractRefusal | undefined {
    const verdict = this.verdicts.settled(verdictKey(publisher, signer), nowMs);
    return verdict?.vouched === false ? verdict : undefined;
  }

  /**
   * Whether contract `publisher` vouches for `signer` (whose signature the caller has already recovered): the
   * cached verdict for the pair when it is fresh, else `isValidSignature` with `check()`.
   *
   * @throws {HttpError} 503 when too many ERC-1271 calls are in flight; the RPC's own errors (not a revert) as they come.
   */
  vouches(publisher: Address, signer: Address, check: () => Erc1271RequestCheck, nowMs = Date.now()) {
    const key = verdictKey(publisher, signer);
    const cached = this.verdicts.get(key, nowMs);
    if (cached) return cached;
    if (this.inFlight >= this.options.maxInFlight) {
      throw HttpError.later(503, "signature: too many contract-publisher checks in progress, retry", 1);
    }
    const { hash, signature } = check();
    this.inFlight++;
    const verdict = this.ask(publisher, hash, signature).finally(() => this.inFlight--);
    this.verdicts.set(key, verdict, nowMs + this.options.verdictTtlMs, this.options.maxEntries);
    return verdict;
  }

  private async ask(publisher: Address, hash: Hex, signature: Hex): Promise<ContractVerdict> {
    try {
      const magic = await this.reader.readContract({
        address: publisher,
        abi: erc1271Abi,
        functionName: "isValidSignature",
        args: [hash, signature],
      });
      if (magic.toLowerCase() === ERC1271_MAGIC_VALUE) return { vouched: true };
      return {
        vouched: false,
        reason: "not an owner or controller of that contract (ERC-1271 isValidSignature refused)",
      };
    } catch (error) {
      // A contract without isValidSignature (or one that reverts) vouches for nobody; an RPC failure is not an answer.
      const refused = (e: unknown) =>
        e instanceof ContractFunctionRevertedError || e instanceof ContractFunctionZeroDataError;
      if (error instanceof BaseError && error.walk(refused)) {
        return { vouched: false, reason: "the contract accepts no signatures (ERC-1271 isValidSignature reverted)" };
      }
      throw error;
    }
  }
}

function verdictKey(publisher: Address, signer: Address) {
  return `${publisher.toLowerCase()}:${signer.toLowerCase()}`;
}

/**
 * Promises by key until their deadline, least recently used out first past `maxEntries`. A promise that rejects is
 * dropped at once, so an RPC failure is asked again next time rather than remembered.
 */
class ExpiringCache<T> {
  private readonly entries = new Map<string, { value: Promise<T>; until: number; settled?: T }>();

  /** The value stored for `key` once its promise resolved, while fresh. */
  settled(key: string, nowMs: number): T | undefined {
    const entry = this.entries.get(key);
    return entry && nowMs < entry.until ? entry.settled : undefined;
  }

  get(key: string, nowMs: number): Promise<T> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (nowMs >= entry.until) return undefined;
    // Re-inserted: a Map iterates in insertion order, so its first key is always the least recently used.
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: Promise<T>, until: number, maxEntries: number) {
    const entry: { value: Promise<T>; until: number; settled?: T } = { value, until };
    this.entries.delete(key);
    this.entries.set(key, entry);
    value.then(
      (settled) => {
        entry.settled = settled;
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= maxEntries) break;
      this.entries.delete(oldest);
    }
  }
}
