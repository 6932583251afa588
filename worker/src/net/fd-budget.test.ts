import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { budgetFileDescriptors, openFileCount, openFileLimits } from "./fd-budget.js";
import { StreamSlots } from "./stream-slots.js";

describe("budgetFileDescriptors", () => {
  it("keeps a reserve and never hands the listeners more descriptors than the limit", () => {
    for (const limit of [1024, 4096, 20_000, 65_536, 1_048_576]) {
      const b = budgetFileDescriptors(limit, { apiConnections: 1024, ingressConnections: 1_000_000 });
      expect(b.reserve).toBeGreaterThanOrEqual(256);
      // Two descriptors per ingress connection (the client's and the pod's).
      expect(b.reserve + b.apiConnections + 2 * b.ingressConnections).toBeLessThanOrEqual(limit);
      expect(b.logFollows).toBeLessThan(b.reserve);
    }
  });

  it("takes the configured maxima when the limit allows them", () => {
    expect(budgetFileDescriptors(65_536, { apiConnections: 1024, ingressConnections: 8192 })).toMatchObject({
      apiConnections: 1024,
      ingressConnections: 8192,
    });
    expect(budgetFileDescriptors(4096, { apiConnections: 1024, ingressConnections: 8192 })).toMatchObject({
      reserve: 512,
      apiConnections: 716,
      ingressConnections: 1434,
    });
  });

  it("reads this process' limit and descriptor count", () => {
    const limits = openFileLimits();
    expect(limits?.soft).toBeGreaterThan(0);
    expect(openFileCount()).toBeGreaterThan(2);
  });
});

describe("StreamSlots", () => {
  it("caps streams per key and in total, and frees a slot once however often it is released", () => {
    const slots = new StreamSlots(2, 3);
    const a1 = slots.take("a");
    const a2 = slots.take("a");
    expect(slots.take("a")).toEqual({ refused: "2 streams are open for a, the most allowed" });
    const b1 = slots.take("b");
    expect(slots.take("c")).toEqual({ refused: "3 streams are open on this provider, the most allowed" });
    if (!("release" in a1) || !("release" in a2) || !("release" in b1)) throw new Error("expected slots");
    a1.release();
    a1.release();
    expect(slots.open("a")).toBe(1);
    expect(slots.open()).toBe(2);
    expect("release" in slots.take("c")).toBe(true);
  });
});

/** Whether this process may raise hard limits (CAP_SYS_RESOURCE, bit 24 of CapEff): root outside a locked container. */
function maySetHardLimits(): boolean {
  const capEff = /CapEff:\s+([0-9a-f]+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
  return capEff !== undefined && (BigInt(`0x${capEff}`) & (1n << 24n)) !== 0n;
}

describe("raiseOpenFileLimit", () => {
  it("raises the limit past the hard one when allowed, and otherwise says what is short and how to fix it", () => {
    // A child started with a limit of 1,024 (soft and hard), as a provider's shell might give it.
    const script = `
      import { raiseOpenFileLimit, openFileLimits } from ${JSON.stringify(new URL("./fd-budget.ts", import.meta.url).pathname)};
      const before = openFileLimits();
      const raised = raiseOpenFileLimit(8192);
      console.log(JSON.stringify({ before, raised, after: openFileLimits() }));
    `;
    const out = execFileSync(
      "/bin/sh",
      ["-c", 'ulimit -n 1024 && exec "$0" --import tsx --input-type=module -e "$1"', process.execPath, script],
      { encoding: "utf8" },
    );
    const { before, raised, after } = JSON.parse(out);
    expect(before).toEqual({ soft: 1024, hard: 1024 });
    if (maySetHardLimits()) {
      expect(raised).toEqual({ limit: 8192 });
      expect(after).toEqual({ soft: 8192, hard: 8192 });
    } else {
      expect(raised).toEqual({
        limit: 1024,
        shortBy: "open-file limit 1024 < nofile 8192 (raise the hard limit: ulimit -Hn, LimitNOFILE=, or run as root)",
      });
      expect(after).toEqual(before);
    }
  });
});
