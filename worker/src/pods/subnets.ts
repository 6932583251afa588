import { type Address, keccak256 } from "viem";
import type { WorkerState } from "../store/worker-state.js";

/**
 * Subnets for pod networks, carved from the worker's own pool (`podNetworkPool`, split into `/podNetworkPrefix`).
 * Docker's default address pools run out after about 30 bridge networks; with one network per lease a provider
 * needs its own plan. Allocations are persisted with the state, so a lease keeps its subnet across restarts.
 */
export interface SubnetPool {
  base: number;
  poolPrefix: number;
  prefix: number;
}

export function parsePool(cidr: string, prefix: number): SubnetPool {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!match) throw new Error(`podNetworkPool: "${cidr}" is not an IPv4 CIDR`);
  const octets = match.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) throw new Error(`podNetworkPool: "${cidr}" is not an IPv4 CIDR`);
  const poolPrefix = Number(match[5]);
  if (poolPrefix > prefix) throw new Error(`podNetworkPool: /${poolPrefix} is smaller than one /${prefix} pod network`);
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - poolPrefix);
  if (address % size !== 0) throw new Error(`podNetworkPool: "${cidr}" has host bits set`);
  return { base: address, poolPrefix, prefix };
}

export const subnetCount = (pool: SubnetPool) => 2 ** (pool.prefix - pool.poolPrefix);

/** Addresses a pod network offers its containers (minus network, broadcast and the bridge gateway). */
export const usableAddresses = (prefix: number) => 2 ** (32 - prefix) - 3;

export function subnetAt(pool: SubnetPool, index: number): string {
  const address = pool.base + index * 2 ** (32 - pool.prefix);
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256);
  return `${octets.join(".")}/${pool.prefix}`;
}

/**
 * The lease's subnet, allocating one the first time: the first free index from `start` on (wrapping). Workers of
 * different providers sharing one Docker Engine pass different starts, so they rarely collide.
 */
export function leaseSubnet(state: WorkerState, pool: SubnetPool, leaseId: string, start = 0): string {
  const subnets = state.data.subnets;
  let index = subnets[leaseId];
  if (index === undefined) {
    const taken = new Set(Object.values(subnets));
    const count = subnetCount(pool);
    for (let step = 0; step < count; step++) {
      const candidate = (start + step) % count;
      if (!taken.has(candidate)) {
        index = candidate;
        break;
      }
    }
    if (index === undefined) throw new Error("podNetworkPool: every pod subnet is in use");
    subnets[leaseId] = index;
    state.save();
  }
  return subnetAt(pool, index);
}

/** Where a provider starts allocating in the pool: a hash of its address, stable across restarts. */
export function poolStart(pool: SubnetPool, provider: Address): number {
  return Number(BigInt(keccak256(provider)) % BigInt(subnetCount(pool)));
}

/**
 * Marks the lease's subnet as unusable (Docker reported it overlaps a network the worker does not own) and moves the
 * lease to another one on its next attempt.
 */
export function skipSubnet(state: WorkerState, leaseId: string) {
  const index = state.data.subnets[leaseId];
  if (index === undefined) return;
  state.data.subnets[`blocked:${index}`] = index;
  delete state.data.subnets[leaseId];
  state.save();
}

export function releaseSubnet(state: WorkerState, leaseId: string) {
  delete state.data.subnets[leaseId];
  state.save();
}
