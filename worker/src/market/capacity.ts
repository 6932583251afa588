import type { Resources } from "@podnet/sdk/protocol";
import type { LeaseRecord, WorkerStateData } from "../store/worker-state.js";

const dims = ["cpuMillis", "memoryMiB", "storageMiB"] as const;

export const zeroResources = (): Resources => ({ cpuMillis: 0, memoryMiB: 0, storageMiB: 0 });

/**
 * What the provider has promised: running leases and bids that may still win (a bid is on chain, a winner becomes a
 * lease without asking the worker). Quotes are not promises: they are anonymous and reserve nothing, else one caller
 * could take all the capacity without paying; a lease made from a quote is checked again when its manifest arrives
 * ({@link leaseShortfall}).
 */
export function committedResources(state: WorkerStateData): Resources {
  const total = zeroResources();
  for (const lease of Object.values(state.leases)) if (lease.status === "active") add(total, lease.resources);
  addOpenBids(total, state);
  return total;
}

/**
 * Why `lease` does not fit next to what was promised before it, or undefined when it fits: the active leases made
 * before it (lower ids: the chain's order) and the open bids. More leases can be made from quotes than the capacity
 * holds; the earlier one keeps its place, and the later one is told which resource is short.
 */
export function leaseShortfall(state: WorkerStateData, capacity: Resources, lease: LeaseRecord): string | undefined {
  const ahead = zeroResources();
  for (const other of Object.values(state.leases)) {
    if (other.status === "active" && BigInt(other.id) < BigInt(lease.id)) add(ahead, other.resources);
  }
  addOpenBids(ahead, state);
  return shortfall(lease.resources, freeResources(capacity, ahead));
}

function add(total: Resources, r: Resources) {
  for (const d of dims) total[d] += r[d];
}

function addOpenBids(total: Resources, state: WorkerStateData) {
  for (const bid of Object.values(state.bids)) {
    if (bid.status === "pending" || bid.status === "placed") add(total, bid.resources);
  }
}

export function freeResources(capacity: Resources, committed: Resources): Resources {
  return {
    cpuMillis: capacity.cpuMillis - committed.cpuMillis,
    memoryMiB: capacity.memoryMiB - committed.memoryMiB,
    storageMiB: capacity.storageMiB - committed.storageMiB,
  };
}

/** The first dimension `wanted` does not fit in, or undefined when it fits. */
export function shortfall(wanted: Resources, free: Resources): string | undefined {
  for (const d of dims) if (wanted[d] > free[d]) return `${d}: ${wanted[d]} wanted, ${Math.max(free[d], 0)} free`;
  return undefined;
}

/** Whether `inner` fits in `outer` in every dimension. */
export function fitsWithin(inner: Resources, outer: Resources): boolean {
  return dims.every((d) => inner[d] <= outer[d]);
}
