import type { Resources } from "@podnet/sdk/protocol";
import type { WorkerStateData } from "../store/worker-state.js";

const dims = ["cpuMillis", "memoryMiB", "storageMiB"] as const;

export const zeroResources = (): Resources => ({ cpuMillis: 0, memoryMiB: 0, storageMiB: 0 });

/**
 * What the provider has promised: running leases, bids that may still win, and quotes that may still be used.
 * Everything that can turn into a lease counts, so no combination of accepted bids and used quotes can exceed the
 * registered capacity.
 */
export function committedResources(state: WorkerStateData, nowSeconds: number): Resources {
  const total = zeroResources();
  const add = (r: Resources) => {
    for (const d of dims) total[d] += r[d];
  };
  for (const lease of Object.values(state.leases)) if (lease.status === "active") add(lease.resources);
  for (const bid of Object.values(state.bids))
    if (bid.status === "pending" || bid.status === "placed") add(bid.resources);
  for (const quote of state.quotes) if (quote.validUntil >= nowSeconds) add(quote.resources);
  return total;
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
