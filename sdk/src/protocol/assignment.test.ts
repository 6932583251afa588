import { type Address, encodePacked, getAddress, hexToBigInt, keccak256, numberToHex } from "viem";
import { describe, expect, it } from "vitest";
import { assignApps, rendezvousScore, servingNode } from "./assignment.js";

/** A deterministic address from a number (not a real account: the rule only hashes it). */
const addr = (n: number, tag: number): Address =>
  getAddress(numberToHex((BigInt(tag) << 128n) + BigInt(n), { size: 20 }));

const nodes = [addr(1, 0xa), addr(2, 0xa), addr(3, 0xa)];
const apps = Array.from({ length: 1000 }, (_, i) => addr(i, 0xb));

describe("rendezvous assignment", () => {
  it("scores keccak256(abi.encodePacked(app, node)), whatever the case of the hex", () => {
    const app = "0xAbCdEf0123456789abcdef0123456789ABCDEF01" as Address;
    const node = nodes[0] as Address;
    const expected = hexToBigInt(keccak256(encodePacked(["address", "address"], [app.toLowerCase() as Address, node])));
    expect(rendezvousScore(app, node)).toBe(expected);
    expect(rendezvousScore(app.toLowerCase() as Address, node.toUpperCase().replace("0X", "0x") as Address)).toBe(
      expected,
    );
  });

  it("is deterministic and independent of the order of the live nodes", () => {
    const reversed = [...nodes].reverse();
    const rotated = [nodes[1], nodes[2], nodes[0]] as Address[];
    for (const app of apps.slice(0, 200)) {
      const serving = servingNode(app, nodes);
      expect(serving).toBeDefined();
      expect(servingNode(app, reversed)).toBe(serving);
      expect(servingNode(app, rotated)).toBe(serving);
      expect(
        servingNode(
          app,
          nodes.map((n) => n.toLowerCase() as Address),
        ),
      ).toBe(serving);
    }
  });

  it("names no node when none is live", () => {
    expect(servingNode(apps[0] as Address, [])).toBeUndefined();
    expect(assignApps(apps.slice(0, 5), []).size).toBe(0);
  });

  it("moves only the removed node's apps", () => {
    const before = assignApps(apps, nodes);
    const gone = nodes[1] as Address;
    const after = assignApps(
      apps,
      nodes.filter((n) => n !== gone),
    );
    let moved = 0;
    for (const [app, node] of before) {
      if (node === gone) {
        moved++;
        expect(after.get(app)).not.toBe(gone);
      } else expect(after.get(app)).toBe(node);
    }
    expect(moved).toBeGreaterThan(0);
    // And a node joining takes apps only for itself.
    const joined = addr(4, 0xa);
    const withNew = assignApps(apps, [...nodes, joined]);
    for (const [app, node] of withNew) if (node !== joined) expect(node).toBe(before.get(app));
  });

  it("spreads 1000 apps over 3 nodes within ±15% of even", () => {
    const counts = new Map<Address, number>();
    for (const node of assignApps(apps, nodes).values()) counts.set(node, (counts.get(node) ?? 0) + 1);
    expect(counts.size).toBe(3);
    const even = 1000 / 3;
    for (const count of counts.values()) {
      expect(count).toBeGreaterThanOrEqual(Math.floor(even * 0.85));
      expect(count).toBeLessThanOrEqual(Math.ceil(even * 1.15));
    }
  });
});
