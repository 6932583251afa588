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
  /** Seconds since the manifest was sent (or the lease adopted). */
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
