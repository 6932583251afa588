import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REQUEST_MAX_SKEW_SECONDS, type RequestNonces } from "@podnet/sdk/protocol";
import type { Address, Hex } from "viem";
import { writeFileAtomic } from "./atomic-file.js";

/** The nonce memory holds as many live nonces as it may: refuse (503) rather than forget one (a replay window). */
export class NonceStoreFull extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`signed requests: too many in the last ${2 * REQUEST_MAX_SKEW_SECONDS} s, retry in ${retryAfterSeconds} s`);
    this.name = "NonceStoreFull";
  }
}

/** Live nonces the store holds at most (~200 bytes each): far above what signature recovery lets through in 2 min. */
export const MAX_LIVE_NONCES = 100_000;

/**
 * The nonces of accepted signed requests (`signer:nonce`), each kept while its timestamp is still acceptable
 * (timestamp + {@link REQUEST_MAX_SKEW_SECONDS}), so a captured request works once. Indexed by key for the lookup and
 * by expiry second for the cleanup, so neither scans the entries; bounded by {@link MAX_LIVE_NONCES}.
 *
 * Memory is lost with the process, so the newest timestamp ever accepted is persisted (`request-mark.json`, written
 * before the request is accepted) and a restarted store refuses everything signed at or before it, as well as what
 * was signed before the process started: no request accepted before a restart can be accepted again after it.
 */
export class RequestNonceStore implements RequestNonces {
  /** Requests signed before this unix time are refused (see the class comment). */
  readonly notBefore: number;
  private readonly expiryOf = new Map<string, number>();
  private readonly byExpiry = new Map<number, string[]>();
  private prunedAt = 0;
  private acceptedUpTo: number;

  private constructor(
    private readonly file: string | undefined,
    mark: number,
    startedAt: number,
    private readonly maxEntries: number,
  ) {
    this.acceptedUpTo = mark;
    this.notBefore = Math.max(startedAt - 1, mark + 1);
  }

  /**
   * The store of a worker whose data lives in `dataDir`; without one (tests) nothing is persisted. An unreadable mark
   * is replaced by the latest timestamp the last run could have accepted: up to the skew past any moment before now.
   */
  static open(
    dataDir: string | undefined,
    { startedAt = Math.floor(Date.now() / 1000), maxEntries = MAX_LIVE_NONCES } = {},
  ): RequestNonceStore {
    const file = dataDir ? join(dataDir, "request-mark.json") : undefined;
    let mark = 0;
    if (file && existsSync(file)) {
      try {
        const parsed = JSON.parse(readFileSync(file, "utf8")) as { acceptedUpTo?: unknown };
        if (!Number.isSafeInteger(parsed.acceptedUpTo)) throw new Error("no acceptedUpTo");
        mark = parsed.acceptedUpTo as number;
      } catch {
        mark = startedAt + REQUEST_MAX_SKEW_SECONDS;
      }
    }
    return new RequestNonceStore(file, mark, startedAt, maxEntries);
  }

  /** Live nonces held now. */
  get size() {
    return this.expiryOf.size;
  }

  /** Whether `signer:nonce` was accepted and is still remembered. */
  has(signer: Address, nonce: Hex): boolean {
    return this.expiryOf.has(key(signer, nonce));
  }

  /**
   * Records `signer:nonce` of a request signed at `timestamp`; false when it was used already.
   * @throws {NonceStoreFull} when the store holds {@link MAX_LIVE_NONCES} live nonces.
   */
  claim(signer: Address, nonce: Hex, timestamp: number, now: number): boolean {
    this.prune(now);
    const k = key(signer, nonce);
    if (this.expiryOf.has(k)) return false;
    if (this.expiryOf.size >= this.maxEntries) {
      const soonest = Math.min(...this.byExpiry.keys());
      throw new NonceStoreFull(Math.max(1, soonest - now + 1));
    }
    if (timestamp > this.acceptedUpTo) {
      // Before the request is accepted: a crash right after it must not forget that this timestamp was used.
      if (this.file) writeFileAtomic(this.file, JSON.stringify({ acceptedUpTo: timestamp }));
      this.acceptedUpTo = timestamp;
    }
    const expiry = timestamp + REQUEST_MAX_SKEW_SECONDS;
    this.expiryOf.set(k, expiry);
    const bucket = this.byExpiry.get(expiry);
    if (bucket) bucket.push(k);
    else this.byExpiry.set(expiry, [k]);
    return true;
  }

  /** Drops the nonces whose timestamps are no longer acceptable; at most once a second, over buckets, not entries. */
  private prune(now: number) {
    if (now === this.prunedAt) return;
    this.prunedAt = now;
    for (const [expiry, keys] of this.byExpiry) {
      if (expiry >= now) continue;
      for (const k of keys) this.expiryOf.delete(k);
      this.byExpiry.delete(expiry);
    }
  }
}

const key = (signer: Address, nonce: Hex) => `${signer.slice(2).toLowerCase()}${nonce.slice(2).toLowerCase()}`;
