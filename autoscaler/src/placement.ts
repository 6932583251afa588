/**
 * The autoscaler's decisions as pure functions of what it read: which providers may take an instance, which one it
 * picks, when an instance counts as failed, how much a lease is topped up. No I/O here, so every rule is unit-tested
 * without a chain.
 */
import type { FoundProvider } from "@podnet/sdk";
import type { AppConfig } from "@podnet/sdk/protocol";
import type { Address } from "viem";

/** Why a provider from the indexer's search was left out (reported in the status and the log). */
export type Exclusion =
  | "not-allowed"
  | "denied"
  | "price-above-cap"
  | "missing-attribute"
  | "stake-too-low"
  | "uptime-too-low"
  | "provider-full"
  | "failed-here";

export type CandidateFilterInput = {
  /** The indexer's answer, best first (cheapest, then uptime, disputes, free stake). */
  found: readonly FoundProvider[];
  placement: AppConfig["placement"];
  /** The price cap per instance in force: the lower of app.yaml's and the vault's. */
  maxPricePerSecond: bigint;
  maxPerProvider: number;
  /** Providers of the app's instances that stay (healthy or starting), one entry per instance. */
  keptProviders: readonly Address[];
  /** Providers an instance just failed on: not picked again for this app until they recover. */
  avoid: ReadonlySet<string>;
};

export type CandidateFilterResult = {
  candidates: FoundProvider[];
  excluded: { provider: Address; reason: Exclusion }[];
};

const key = (address: string) => address.toLowerCase();

/**
 * The providers that may take one more instance, in the indexer's order. The indexer already filters by price,
 * attributes, stake and uptime; they are checked again here because the autoscaler must not trust an indexer to
 * enforce the owner's rules (a stale or hostile one could steer instances anywhere).
 */
export function filterCandidates(input: CandidateFilterInput): CandidateFilterResult {
  const { placement } = input;
  const allow = new Set(placement.allowProviders.map(key));
  const deny = new Set(placement.denyProviders.map(key));
  const perProvider = new Map<string, number>();
  for (const provider of input.keptProviders) perProvider.set(key(provider), (perProvider.get(key(provider)) ?? 0) + 1);
  const candidates: FoundProvider[] = [];
  const excluded: CandidateFilterResult["excluded"] = [];
  const seen = new Set<string>();
  for (const found of input.found) {
    const id = key(found.address);
    if (seen.has(id)) continue;
    seen.add(id);
    const reason = exclusionOf(found, input, allow, deny, perProvider.get(id) ?? 0);
    if (reason) excluded.push({ provider: found.address, reason });
    else candidates.push(found);
  }
  return { candidates, excluded };
}

function exclusionOf(
  found: FoundProvider,
  input: CandidateFilterInput,
  allow: Set<string>,
  deny: Set<string>,
  instancesThere: number,
): Exclusion | undefined {
  const id = key(found.address);
  const { placement } = input;
  if (allow.size > 0 && !allow.has(id)) return "not-allowed";
  if (deny.has(id)) return "denied";
  if (input.avoid.has(id)) return "failed-here";
  if (found.pricePerSecond > input.maxPricePerSecond) return "price-above-cap";
  const listed = new Set(found.attributes);
  if (placement.attributes.some((attribute) => !listed.has(attribute))) return "missing-attribute";
  if (found.stakeFree < placement.minFreeStake) return "stake-too-low";
  if (found.uptimeBps < placement.minUptimeBps) return "uptime-too-low";
  if (instancesThere >= input.maxPerProvider) return "provider-full";
  return undefined;
}

/**
 * The order to ask providers for quotes in: one picked at random among the first `topK` candidates (so autoscalers
 * of many apps, all reading the same ranking, do not pile onto the cheapest provider), then the rest of the top K in
 * random order, then the others in ranking order as fallbacks when every top-K provider refuses.
 *
 * @param random a number in [0, 1), injected so tests are deterministic.
 */
export function quoteOrder<T>(candidates: readonly T[], topK: number, random: () => number = Math.random): T[] {
  const top = candidates.slice(0, Math.max(1, topK));
  // Fisher-Yates over the top K.
  for (let i = top.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [top[i], top[j]] = [top[j] as T, top[i] as T];
  }
  return [...top, ...candidates.slice(top.length)];
}

/** How many slots the app should fill: app.yaml's target, within the vault's `maxInstances`. */
export function desiredInstances(config: AppConfig, maxInstances: number): number {
  return Math.max(0, Math.min(config.instances.target, maxInstances));
}

/** What the autoscaler knows about one instance when it decides whether to keep it. */
export type InstanceFacts = {
  /** The lease on chain. */
  leaseStatus: "active" | "closed";
  outOfFunds: boolean;
  /** The provider missed heartbeats past the market's threshold (it can be reported dark). */
  providerDark: boolean;
  /** Consecutive failed probes since the last success. */
  consecutiveFailures: number;
  /** The instance answered a probe at least once. */
  everHealthy: boolean;
  /** Seconds since the manifest was sent (for an adopted lease: since the lease started, adoptedInstanceStart). */
  ageSeconds: number;
};

export type InstanceVerdict =
  | { replace: false; health: "healthy" | "starting" | "failing" }
  | { replace: true; reason: "lease-closed" | "out-of-funds" | "provider-dark" | "probes-failed" | "never-started" };

/**
 * Whether an instance's slot must be replaced. The chain's verdicts (lease closed, out of funds, provider dark) are
 * final. Probes count only once the instance served, or once `startupGraceSeconds` passed: a pod that is still
 * pulling its image is not failing yet, but one that never comes up is replaced after the grace.
 */
export function judgeInstance(
  facts: InstanceFacts,
  health: { failuresBeforeReplace: number },
  startupGraceSeconds: number,
): InstanceVerdict {
  if (facts.leaseStatus === "closed") return { replace: true, reason: "lease-closed" };
  if (facts.outOfFunds) return { replace: true, reason: "out-of-funds" };
  if (facts.providerDark) return { replace: true, reason: "provider-dark" };
  if (!facts.everHealthy) {
    if (facts.ageSeconds > startupGraceSeconds) return { replace: true, reason: "never-started" };
    return { replace: false, health: "starting" };
  }
  if (facts.consecutiveFailures >= health.failuresBeforeReplace) return { replace: true, reason: "probes-failed" };
  return { replace: false, health: facts.consecutiveFailures > 0 ? "failing" : "healthy" };
}

/**
 * Where the startup grace of a lease this autoscaler adopts (one another node placed: a takeover, or its own before a
 * restart) starts: at the lease's start on chain, not at the adoption. The placing node sent the manifest as it
 * placed the lease, so the pod has been starting since then; counted from the adoption, an instance on a provider that
 * died with the node was left alone for up to a whole grace more (issue 19's acceptance: apps back at target 26 s
 * after the kills with a 20 s grace, the dead provider's instance replaced only when the adopter's fresh grace ran
 * out). The adopter has never probed the pod, though: at least `probeWindowSec` of the grace is left after the
 * adoption, the time its probes take to condemn a lease that served (a running pod is not replaced before its first
 * probe). A lease older than the grace is judged by its probes from the first (`everHealthy`). A chain clock ahead of
 * this machine's (a warped devnet) counts from now.
 */
export function adoptedInstanceStart(
  leaseStartedAtSec: number,
  nowMs: number,
  startupGraceSec: number,
  probeWindowSec: number,
): { since: number; everHealthy: boolean } {
  const startedMs = Math.min(nowMs, leaseStartedAtSec * 1000);
  if ((nowMs - startedMs) / 1000 > startupGraceSec) return { since: startedMs, everHealthy: true };
  const latestSince = nowMs - Math.max(0, startupGraceSec - probeWindowSec) * 1000;
  return { since: Math.max(startedMs, latestSince), everHealthy: false };
}

/** The seconds an app's probes take to condemn an instance that served: N failures, one interval each, and one more. */
export function probeWindowSeconds(health: { interval: number; failuresBeforeReplace: number }): number {
  return health.interval * (health.failuresBeforeReplace + 1);
}

/**
 * The top-up that keeps a lease funded for app.yaml's `keepFunded`, or 0n when none is due. Due when the lease runs
 * out within `keepFunded`; then it is brought to twice that (so top-ups are not sent every pass), but never above
 * what the vault lets a lease hold unspent (`maxDepositPerLease`), nor above the app's balance.
 */
export function topUpAmount(input: {
  pricePerSecond: bigint;
  /** Funds the lease holds that the provider has not earned yet (`balance - withdrawable`). */
  unspent: bigint;
  keepFundedSeconds: number;
  maxDepositPerLease: bigint;
  appBalance: bigint;
}): bigint {
  const keep = input.pricePerSecond * BigInt(input.keepFundedSeconds);
  if (input.unspent >= keep) return 0n;
  let wanted = 2n * keep;
  if (wanted > input.maxDepositPerLease) wanted = input.maxDepositPerLease;
  let amount = wanted - input.unspent;
  if (amount > input.appBalance) amount = input.appBalance;
  return amount > 0n ? amount : 0n;
}

/** The lower of two amounts (Math.min takes no bigints). */
export function lower(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** A lease in a slot at or above the desired count (the owner lowered instances.target or maxInstances). */
export type SurplusInstance = { slot: number; leaseId: bigint; healthy: boolean };

/**
 * The surplus leases to clear now, highest slot first. An unhealthy one serves nobody: it goes at once. A healthy one
 * goes only while the healthy instances left stay at or above `desired`, so a scale-down never takes the app below
 * its target while a lower slot is still empty or starting; the rest follow in a later pass.
 */
export function scaleDownSlots(input: {
  desired: number;
  /** Healthy instances in the slots below `desired`. */
  healthyBelow: number;
  surplus: readonly SurplusInstance[];
}): SurplusInstance[] {
  const ordered = [...input.surplus].sort((a, b) => b.slot - a.slot);
  let healthyLeft = input.healthyBelow + ordered.filter((s) => s.healthy).length;
  const clear: SurplusInstance[] = [];
  for (const instance of ordered) {
    if (!instance.healthy) {
      clear.push(instance);
    } else if (healthyLeft - 1 >= input.desired) {
      clear.push(instance);
      healthyLeft--;
    }
  }
  return clear;
}

/** A running instance as the spec rollout sees it. */
export type RolloutInstance = {
  slot: number;
  leaseId: bigint;
  /** The spec hash its lease holds on chain. */
  leaseSpec: string;
  /** Its last spec update has not been confirmed by the provider and a probe since. */
  updating: boolean;
  healthy: boolean;
};

/**
 * The next instance to move to the vault's spec, one at a time (rolling): none while one is mid-update or while an
 * instance on the new spec has not answered a probe yet; otherwise the lowest slot whose lease holds another spec.
 * An unhealthy instance on the old spec is left to the replacement rules (its successor gets the new spec anyway).
 */
export function nextSpecUpdate(instances: readonly RolloutInstance[], specHash: string): RolloutInstance | undefined {
  const current = (i: RolloutInstance) => i.leaseSpec.toLowerCase() === specHash.toLowerCase();
  if (instances.some((i) => i.updating || (current(i) && !i.healthy))) return undefined;
  return [...instances].sort((a, b) => a.slot - b.slot).find((i) => !current(i) && i.healthy);
}

/** A bid on the app's fallback order (from `getBids`). */
export type OrderBidFacts = { provider: Address; pricePerSecond: bigint; status: string };

/**
 * The bid to accept into a slot: the cheapest active bid (earliest on a tie: `bids` comes in the market's ranking)
 * from a provider app.yaml's rules allow, as for a quote (allow/deny lists, price cap, avoided providers,
 * maxPerProvider). Anyone who meets the order's on-chain requirements can bid, so a denied provider's bid is simply
 * passed over, however cheap.
 */
export function pickBid(input: {
  bids: readonly OrderBidFacts[];
  placement: AppConfig["placement"];
  maxPricePerSecond: bigint;
  maxPerProvider: number;
  keptProviders: readonly Address[];
  avoid: ReadonlySet<string>;
}): { bid?: OrderBidFacts; passedOver: { provider: Address; reason: Exclusion }[] } {
  const allow = new Set(input.placement.allowProviders.map(key));
  const deny = new Set(input.placement.denyProviders.map(key));
  const passedOver: { provider: Address; reason: Exclusion }[] = [];
  for (const bid of input.bids) {
    if (bid.status !== "active") continue;
    const id = key(bid.provider);
    const there = input.keptProviders.filter((p) => key(p) === id).length;
    let reason: Exclusion | undefined;
    if (allow.size > 0 && !allow.has(id)) reason = "not-allowed";
    else if (deny.has(id)) reason = "denied";
    else if (input.avoid.has(id)) reason = "failed-here";
    else if (bid.pricePerSecond > input.maxPricePerSecond) reason = "price-above-cap";
    else if (there >= input.maxPerProvider) reason = "provider-full";
    if (reason) passedOver.push({ provider: bid.provider, reason });
    else return { bid, passedOver };
  }
  return { passedOver };
}

/** What to do with the app's open fallback order for a slot this pass. */
export type OrderStep = "wait" | "accept" | "cancel";

/**
 * The step for an open order: bids are taken only once its bid window closed (the cheapest of all bids wins, not the
 * first); then the best eligible bid is accepted, or, when there is none, the order is cancelled (its deposit returns
 * to the app) and the next pass tries quotes again. An order the slot no longer needs is cancelled at once.
 */
export function orderStep(input: {
  slotNeedsFilling: boolean;
  /** Chain time, unix seconds. */
  now: number;
  bidDeadline: number;
  hasEligibleBid: boolean;
}): OrderStep {
  if (!input.slotNeedsFilling) return "cancel";
  if (input.now < input.bidDeadline) return "wait";
  return input.hasEligibleBid ? "accept" : "cancel";
}
