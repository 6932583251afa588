import { describe, expect, it } from "vitest";
import { LeaseCache } from "./lease-cache.js";

describe("LeaseCache", () => {
  it("answers within the TTL while the stamp is the same", () => {
    const cache = new LeaseCache<string>(10, 1000);
    cache.set("7", "lease 7", "active:0xab", 0);
    expect(cache.get("7", "active:0xab", 1000)).toBe("lease 7");
    expect(cache.get("7", "active:0xab", 2001)).toBeUndefined();
    cache.set("7", "lease 7", "active:0xab", 0);
    // The worker's record changed (closed, new spec): the cached chain view is stale.
    expect(cache.get("7", "closed:0xab", 1)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("is bounded, dropping the least recently used", () => {
    const cache = new LeaseCache<number>(3, 60_000);
    for (const id of [1, 2, 3]) cache.set(String(id), id, "s", 0);
    expect(cache.get("1", "s", 1)).toBe(1);
    cache.set("4", 4, "s", 2);
    expect(cache.size).toBe(3);
    expect(cache.get("2", "s", 3)).toBeUndefined();
    expect([cache.get("1", "s", 3), cache.get("3", "s", 3), cache.get("4", "s", 3)]).toEqual([1, 3, 4]);
  });
});
