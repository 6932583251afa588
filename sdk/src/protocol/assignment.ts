import { type Address, encodePacked, getAddress, hexToBigInt, keccak256 } from "viem";

/**
 * Which autoscaler node serves which network-mode app: rendezvous (highest random weight) hashing over the live
 * nodes of the AutoscalerNetwork. Every node computes the same answer from the same chain state, so no node asks
 * another; and when a node joins or leaves, only the apps whose top score it held (or now holds) move. The vault's
 * slot compare-and-swap stays the only arbiter when two nodes disagree for a moment (different blocks read).
 *
 * The one implementation of the rule: the node daemon, the CLI's `app status` and the indexer import it from here.
 */

/** keccak256(abi.encodePacked(app, node)) as an unsigned integer; case of the hex digits does not matter. */
export function rendezvousScore(app: Address, node: Address): bigint {
  return hexToBigInt(keccak256(encodePacked(["address", "address"], [getAddress(app), getAddress(node)])));
}

/**
 * The live node with the highest score for `app`, checksummed; undefined when there is none. Ties (a keccak collision)
 * go to the lower address, so the answer never depends on the list's order.
 */
export function servingNode(app: Address, liveNodes: readonly Address[]): Address | undefined {
  let best: { node: Address; score: bigint } | undefined;
  for (const raw of liveNodes) {
    const node = getAddress(raw);
    const score = rendezvousScore(app, node);
    if (
      best === undefined ||
      score > best.score ||
      (score === best.score && node.toLowerCase() < best.node.toLowerCase())
    ) {
      best = { node, score };
    }
  }
  return best?.node;
}

/** Each app's serving node (checksummed app → node); apps with no live node are left out. */
export function assignApps(apps: readonly Address[], liveNodes: readonly Address[]): Map<Address, Address> {
  const nodes = liveNodes.map((node) => getAddress(node));
  const assignment = new Map<Address, Address>();
  for (const app of apps) {
    const node = servingNode(app, nodes);
    if (node !== undefined) assignment.set(getAddress(app), node);
  }
  return assignment;
}
