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

/** A pod network's place in the pool: its index (what names the network) and its subnet. */
export interface SubnetSlot {
  index: number;
  subnet: string;
}

/** The state key of a warm (spare) pod network's slot: made ahead of any lease, handed to the next one. */
export const spareKey = (index: number) => `spare:${index}`;

/** The warm networks' slots, in the order they are handed out (lowest index first). */
export function spareSlots(state: WorkerState, pool: SubnetPool): SubnetSlot[] {
  return Object.entries(state.data.subnets)
    .filter(([key]) => key.startsWith("spare:"))
    .map(([, index]) => ({ index, subnet: subnetAt(pool, index) }))
    .sort((a, b) => a.index - b.index);
}

/** The first free index from `start` on (wrapping); throws when the pool is full. */
function freeIndex(state: WorkerState, pool: SubnetPool, start: number): number {
  const taken = new Set(Object.values(state.data.subnets));
  const count = subnetCount(pool);
  for (let step = 0; step < count; step++) {
    const candidate = (start + step) % count;
    if (!taken.has(candidate)) return candidate;
  }
  throw new Error("podNetworkPool: every pod subnet is in use");
}

/**
 * The lease's slot, allocating one the first time: a warm network's slot when one is ready (its network exists, with
 * its firewall rules, so the lease's pod need not wait for a bridge to be made), else the first free index from
 * `start` on (wrapping). Workers of different providers sharing one Docker Engine pass different starts, so they
 * rarely collide. The allocation is written at once: a slot must never be handed out twice across a crash.
 */
export function leaseSlot(
  state: WorkerState,
  pool: SubnetPool,
  leaseId: string,
  start = 0,
  /** Spare slots whose network is made (warm-networks.ts): taken before one still being made, which would wait. */
  ready: ReadonlySet<number> = new Set(),
): SubnetSlot {
  const subnets = state.data.subnets;
  let index = subnets[leaseId];
  if (index === undefined) {
    const spares = spareSlots(state, pool);
    const spare = spares.find((slot) => ready.has(slot.index)) ?? spares[0];
    if (spare) {
      index = spare.index;
      delete subnets[spareKey(index)];
    } else {
      index = freeIndex(state, pool, start);
    }
    subnets[leaseId] = index;
    state.saveNow();
  }
  return { index, subnet: subnetAt(pool, index) };
}

/** The lease's subnet (allocating its slot the first time, see {@link leaseSlot}). */
export function leaseSubnet(state: WorkerState, pool: SubnetPool, leaseId: string, start = 0): string {
  return leaseSlot(state, pool, leaseId, start).subnet;
}

/** Reserves a free slot for a warm network (its network is made next; the slot is the spare's from now on). */
export function reserveSpare(state: WorkerState, pool: SubnetPool, start = 0): SubnetSlot {
  const index = freeIndex(state, pool, start);
  state.data.subnets[spareKey(index)] = index;
  state.saveNow();
  return { index, subnet: subnetAt(pool, index) };
}

/** Gives a spare's slot up (its network could not be made, or is gone); `blocked` keeps the index out of use. */
export function dropSpare(state: WorkerState, index: number, { blocked = false } = {}) {
  delete state.data.subnets[spareKey(index)];
  if (blocked) state.data.subnets[`blocked:${index}`] = index;
  state.saveNow();
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
