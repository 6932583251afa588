import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REQUEST_MAX_SKEW_SECONDS } from "@podnet/sdk/protocol";
import type { Address, Hex } from "viem";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NonceStoreFull, RequestNonceStore } from "./request-nonces.js";

const alice: Address = "0x1111111111111111111111111111111111111111";
const bob: Address = "0x2222222222222222222222222222222222222222";
const nonce = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const now = 1_800_000_000;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "podnet-nonces-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("RequestNonceStore", () => {
  it("lets each signer:nonce through once, whatever the case, and keeps signers apart", () => {
    const store = RequestNonceStore.open(undefined, { startedAt: now });
    expect(store.claim(alice, nonce(1), now, now)).toBe(true);
    expect(store.claim(alice, nonce(1), now, now)).toBe(false);
    expect(store.claim(alice.toUpperCase().replace("0X", "0x") as Address, nonce(1), now, now)).toBe(false);
    expect(store.claim(bob, nonce(1), now, now)).toBe(true);
    expect(store.has(alice, nonce(1))).toBe(true);
    expect(store.has(alice, nonce(2))).toBe(false);
  });

  it("forgets a nonce once its timestamp can no longer be accepted, not before", () => {
    const store = RequestNonceStore.open(undefined, { startedAt: now });
    store.claim(alice, nonce(1), now, now);
    store.claim(alice, nonce(2), now + 30, now);
    // Still acceptable at now + skew: still remembered.
    expect(store.claim(alice, nonce(1), now, now + REQUEST_MAX_SKEW_SECONDS)).toBe(false);
    store.claim(bob, nonce(9), now + REQUEST_MAX_SKEW_SECONDS + 1, now + REQUEST_MAX_SKEW_SECONDS + 1);
    expect(store.has(alice, nonce(1))).toBe(false);
    expect(store.has(alice, nonce(2))).toBe(true);
    expect(store.size).toBe(2);
  });

  it("refuses (never forgets) when full, saying when a slot frees up", () => {
    const store = RequestNonceStore.open(undefined, { startedAt: now, maxEntries: 3 });
    for (let i = 0; i < 3; i++) expect(store.claim(alice, nonce(i), now - 10 + i, now)).toBe(true);
    const error = (() => {
      try {
        store.claim(alice, nonce(99), now, now);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(NonceStoreFull);
    // The oldest (signed at now - 10) expires after now - 10 + skew.
    expect((error as NonceStoreFull).retryAfterSeconds).toBe(REQUEST_MAX_SKEW_SECONDS - 10 + 1);
    expect(store.has(alice, nonce(0))).toBe(true);
  });

  it("persists the newest accepted timestamp, and a restarted store refuses everything signed up to it", () => {
    const first = RequestNonceStore.open(dir, { startedAt: now });
    expect(first.notBefore).toBe(now - 1);
    // A request signed 50 s ahead of the clock (within the skew) is accepted, then the worker restarts at once.
    first.claim(alice, nonce(1), now + 50, now);
    first.claim(alice, nonce(2), now + 20, now);
    expect(JSON.parse(readFileSync(join(dir, "request-mark.json"), "utf8"))).toEqual({ acceptedUpTo: now + 50 });
    const restarted = RequestNonceStore.open(dir, { startedAt: now + 2 });
    // Its memory is empty, so it refuses what could have been seen: up to the mark, and before its start.
    expect(restarted.notBefore).toBe(now + 51);
    expect(RequestNonceStore.open(dir, { startedAt: now + 100 }).notBefore).toBe(now + 99);
  });

  it("writes the mark only when it moves", () => {
    const store = RequestNonceStore.open(dir, { startedAt: now });
    store.claim(alice, nonce(1), now, now);
    rmSync(join(dir, "request-mark.json"));
    store.claim(alice, nonce(2), now - 5, now);
    store.claim(alice, nonce(3), now, now);
    expect(existsSync(join(dir, "request-mark.json"))).toBe(false);
    store.claim(alice, nonce(4), now + 1, now);
    expect(existsSync(join(dir, "request-mark.json"))).toBe(true);
  });

  it("takes an unreadable mark as the latest the last run could have accepted", () => {
    writeFileSync(join(dir, "request-mark.json"), "{not json");
    expect(RequestNonceStore.open(dir, { startedAt: now }).notBefore).toBe(now + REQUEST_MAX_SKEW_SECONDS + 1);
  });
});
