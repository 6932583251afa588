import { readFileSync } from "node:fs";
import {
  acceptAppBid,
  cancelAppOrder,
  createAppOrder,
  type FoundProvider,
  type GetAppReturnType,
  type GetLeaseReturnType,
  getBids,
  type PodnetClientWithActions,
  parseAppYaml,
  parsePodSpec,
  updateAppLeaseSpec,
} from "@podnet/sdk";
import {
  type AppConfig,
  appBidWindowSeconds,
  appConfigHash,
  appVaultAbi,
  darkReportability,
  type IngressAddress,
  manifestHash,
  type PodManifest,
  podnetMarketAbi,
} from "@podnet/sdk/protocol";
import {
  type Address,
  BaseError,
  ContractFunctionRevertedError,
  type Hex,
  type PublicClient,
  parseEventLogs,
  type WalletClient,
} from "viem";
import type { Logger } from "./log.js";
import type { Metrics } from "./metrics.js";
import {
  adoptedInstanceStart,
  desiredInstances,
  filterCandidates,
  judgeInstance,
  lower,
  nextSpecUpdate,
  orderStep,
  pickBid,
  probeWindowSeconds,
  quoteOrder,
  type RolloutInstance,
  type SurplusInstance,
  scaleDownSlots,
  topUpAmount,
} from "./placement.js";
import { probeInstance } from "./probe.js";
import { clearSurplus, errorNameOf, lostSlotRace } from "./slot-writes.js";
import { type InstanceRecord, newInstanceRecord, type OrderRecord, type StateStore } from "./state.js";
import type { AppStatus, InstanceHealth, InstanceStatus } from "./status-wire.js";

/**
 * The reconcile loop: one pass at a time compares what app.yaml wants (within the vault's limits and balance) with
 * what runs (the vault's slots, their leases, the probes) and acts: fills empty slots, replaces failed instances in
 * their own slot (compare-and-swap on the vault, which closes the old lease in the same transaction), sends the
 * manifest with the content keys re-wrapped to the new provider, tops leases up. Healthy instances are not touched.
 */

export interface ReconcilerOptions {
  client: PodnetClientWithActions;
  publicClient: PublicClient;
  walletClient: WalletClient;
  vault: Address;
  appYaml: string;
  podYaml: string;
  store: StateStore;
  metrics: Metrics;
  log: Logger;
  startupGraceSec: number;
  avoidFailedProviderSec: number;
  /** Where `*.localhost` probe targets connect (config `localhostAddress`); default 127.0.0.1. */
  localhostAddress?: string;
  /** The chain's id, for the status (host proofs name `lease=<chainId>:<leaseId>`). */
  chainId: number;
  random?: () => number;
}

/** The vault's ABI with the market's errors, so a revert from inside the market (through the vault) is decoded. */
const vaultCallAbi = [...appVaultAbi, ...podnetMarketAbi.filter((item) => item.type === "error")] as const;

/** How long a provider's published ingress address is used before it is read again. */
const INGRESS_TTL_MS = 30_000;

/** `OrderStatus.Open` in the market's enum (None, Open, Matched, Cancelled). */
const ORDER_OPEN = 1;

type SlotPlan = { slot: number; expectedLease: bigint; reason: string; failedProvider?: Address };

export class Reconciler {
  private status: AppStatus;
  private heartbeatThreshold: bigint | undefined;
  /** Provider (lowercase) → its published ingress address and when it was read. */
  private readonly ingressCache = new Map<string, { ingress: IngressAddress | null; at: number }>();
  /** Slot → unix ms before which no new order is opened for it (its last one got no bid it could take). */
  private readonly orderBackoff = new Map<number, number>();
  /** The app.yaml of the last pass, for the prober between passes. */
  config: AppConfig | undefined;

  constructor(private readonly o: ReconcilerOptions) {
    this.status = { vault: o.vault, chainId: o.chainId, desired: 0, instances: [], problems: [], lastPass: null };
  }

  currentStatus(): AppStatus {
    return this.status;
  }

  /** One pass. Never throws for a problem of the app (reported in the status); throws for an unreadable chain. */
  async pass(): Promise<void> {
    const end = this.o.metrics.passSeconds.startTimer();
    const problems: string[] = [];
    try {
      let config: AppConfig;
      let manifest: PodManifest;
      try {
        config = parseAppYaml(readFileSync(this.o.appYaml, "utf8"), this.o.appYaml);
        manifest = parsePodSpec(readFileSync(this.o.podYaml, "utf8"), this.o.podYaml);
      } catch (error) {
        // A broken file must not tear the app down: keep what runs, report, and act again once it is fixed.
        problems.push(`config: ${(error as Error).message}`);
        this.status = { ...this.status, problems, lastPass: new Date().toISOString() };
        return;
      }
      this.config = config;
      const app = await this.o.client.getApp({ vault: this.o.vault });
      const specHash = manifestHash(manifest);
      if (specHash.toLowerCase() !== app.specHash.toLowerCase()) {
        problems.push(`spec: ${this.o.podYaml} hashes to ${specHash}, the vault's specHash is ${app.specHash}`);
      }
      if (app.configHash.toLowerCase() !== appConfigHash(config).toLowerCase()) {
        problems.push(`config: ${this.o.appYaml} does not hash to the vault's configHash ${app.configHash}`);
      }
      const desired = desiredInstances(config, app.limits.maxInstances);
      if (desired < config.instances.target) {
        problems.push(
          `limits: app.yaml wants ${config.instances.target} instances, the vault allows ${app.limits.maxInstances}`,
        );
      }
      this.o.metrics.desired.set(desired);
      const instances = await this.survey(app, desired, config);
      const plans = instances.plans;
      // A spec the vault does not have would only get quotes the vault refuses: place nothing, keep what runs.
      const canPlace = !problems.some((p) => p.startsWith("spec:"));
      const filling = canPlace ? plans : [];
      // Orders for slots this pass does not fill (filled meanwhile, scaled away, spec changed) give their deposit back.
      await this.cancelOrders((order) => !filling.some((plan) => plan.slot === order.slot), "slot not to be filled");
      // The next block's time, as the market will see it: a dev chain mines only on transactions, so its latest block
      // can be minutes old while nobody sends any (an order's bid window would then never seem to close).
      const chainNow =
        filling.length > 0
          ? Math.max(Number((await this.o.publicClient.getBlock()).timestamp), Math.floor(Date.now() / 1000))
          : 0;
      for (const plan of filling) {
        const outcome = await this.fill(plan, app, config, manifest, instances.kept, chainNow);
        if (outcome.placed) instances.kept.push(outcome.placed);
        else problems.push(`slot ${plan.slot}: ${outcome.problem}`);
      }
      if (canPlace) await this.rollSpec(instances.running, app.specHash);
      await this.scaleDown(instances.surplus, instances.healthyBelow, desired);
      await this.refreshIngresses();
      this.publishStatus(app, desired, problems);
    } finally {
      end();
      this.o.store.save();
    }
  }

  /** Reads every slot below `desired`, judges its instance, tops healthy ones up; returns the slots to (re)fill. */
  private async survey(app: GetAppReturnType, desired: number, config: AppConfig) {
    const plans: SlotPlan[] = [];
    const kept: Address[] = [];
    const surplus: SurplusInstance[] = [];
    const running: RolloutInstance[] = [];
    let healthyBelow = 0;
    const state = this.o.store.state;
    const inSlots = new Set<string>();
    let balance = app.balance;
    for (const { slot, leaseId } of app.slots) {
      if (leaseId !== 0n) inSlots.add(leaseId.toString());
      if (slot >= desired) {
        // Above the target (the owner lowered it, or the vault's maxInstances): cleared by scaleDown, still probed
        // meanwhile so that a healthy one stays while the lower slots are not serving yet.
        if (leaseId !== 0n) {
          const record =
            state.instances[leaseId.toString()] ??
            (await this.adopt(slot, await this.o.client.getLease({ leaseId, blockNumber: app.blockNumber }), config));
          surplus.push({ slot, leaseId, healthy: this.serving(record, config) });
        }
        continue;
      }
      if (leaseId === 0n) {
        plans.push({ slot, expectedLease: 0n, reason: "empty" });
        continue;
      }
      // At the block the slots were read at: read later, a lease the owner cleared (or another autoscaler replaced)
      // meanwhile looked ended while still in its slot, and was judged failed, its provider avoided (a fresh-clone
      // run's autoscaler.test: the cleared slot's only possible provider avoided, the slot left empty, 2026-12-07).
      const lease = await this.o.client.getLease({ leaseId, blockNumber: app.blockNumber });
      const record = state.instances[leaseId.toString()] ?? (await this.adopt(slot, lease, config));
      const dark = lease.status === "active" && (await this.providerDark(lease.provider));
      if (lease.status === "active" && !dark && !record.manifestSent) await this.sendManifest(record);
      const verdict = judgeInstance(
        {
          leaseStatus: lease.status,
          outOfFunds: lease.outOfFunds,
          providerDark: dark,
          consecutiveFailures: record.consecutiveFailures,
          everHealthy: record.everHealthy,
          ageSeconds: (Date.now() - record.since) / 1000,
        },
        config.health,
        this.o.startupGraceSec,
      );
      if (verdict.replace) {
        this.o.log.warn("instance failed", { slot, lease: leaseId.toString(), reason: verdict.reason });
        plans.push({ slot, expectedLease: leaseId, reason: verdict.reason, failedProvider: lease.provider });
        continue;
      }
      kept.push(lease.provider);
      const healthy = this.serving(record, config);
      if (healthy) {
        healthyBelow++;
        delete record.specUpdate;
      }
      running.push({ slot, leaseId, leaseSpec: lease.specHash, updating: !record.manifestSent, healthy });
      balance -= await this.topUp(slot, lease, config, app, balance);
    }
    // Records of leases no longer in any slot (replaced by us or another autoscaler, cleared by the owner).
    for (const id of Object.keys(state.instances)) if (!inSlots.has(id)) delete state.instances[id];
    return { plans, kept, surplus, running, healthyBelow };
  }

  /** The instance answers its probes (it served, and fewer than N probes failed since). */
  private serving(record: InstanceRecord, config: AppConfig): boolean {
    return (
      record.manifestSent && record.everHealthy && record.consecutiveFailures < config.health.failuresBeforeReplace
    );
  }

  /** Scale-down: clears surplus slots (highest first, never below the target's healthy count); see scaleDownSlots. */
  private async scaleDown(surplus: SurplusInstance[], healthyBelow: number, desired: number): Promise<void> {
    const targets = scaleDownSlots({ desired, healthyBelow, surplus });
    if (targets.length === 0) return;
    for (const outcome of await clearSurplus(this.o.client, this.o.vault, targets, this.o.log)) {
      this.o.metrics.scaleDowns.inc({ result: outcome.result });
      if (outcome.result === "cleared") delete this.o.store.state.instances[outcome.leaseId.toString()];
    }
    this.o.store.save();
  }

  /**
   * Rolling spec update after the owner's setSpec: moves one instance at a time to the vault's spec
   * (`updateLeaseSpec` through the vault, then the new manifest with `deployPod`), the next only once the updated one
   * answered a probe (nextSpecUpdate). The lease and its slot stay: no new lease, no deposit.
   */
  private async rollSpec(running: RolloutInstance[], specHash: Hex): Promise<void> {
    const next = nextSpecUpdate(running, specHash);
    const record = next && this.o.store.state.instances[next.leaseId.toString()];
    if (!next || !record) return;
    try {
      const { txHash } = await updateAppLeaseSpec(this.o.client, {
        vault: this.o.vault,
        slot: next.slot,
        leaseId: next.leaseId,
      });
      // From here the instance counts as starting again: the rollout waits for it to answer on the new spec, and one
      // that never does is replaced after the startup grace (its successor runs the new spec).
      Object.assign(record, {
        specUpdate: specHash,
        manifestSent: false,
        everHealthy: false,
        consecutiveFailures: 0,
        since: Date.now(),
      });
      this.o.store.save();
      this.o.metrics.specUpdates.inc();
      this.o.log.info("lease moved to the new spec", {
        slot: next.slot,
        lease: record.leaseId,
        spec: specHash,
        tx: txHash,
      });
      await this.sendManifest(record);
    } catch (error) {
      const why = lostSlotRace(error) ? "raced: the slot changed first" : (error as Error).message.split("\n")[0];
      this.o.log.warn("spec update failed", { slot: next.slot, lease: record.leaseId, why });
    }
  }

  /** A lease in a slot this autoscaler knows nothing about: placed by another autoscaler, or by us before a restart. */
  private async adopt(slot: number, lease: GetLeaseReturnType, config: AppConfig): Promise<InstanceRecord> {
    const provider = await this.o.client.getProvider({ address: lease.provider }).catch(() => undefined);
    const record = newInstanceRecord(slot, lease.leaseId, lease.provider, provider?.endpoint ?? "");
    if (provider) this.ingressCache.set(lease.provider.toLowerCase(), { ingress: provider.ingress, at: Date.now() });
    record.ingress = provider?.ingress ?? null;
    // Its grace runs from the lease's start, not from now, with a window left for this node's first probes; past it,
    // its probes decide from the first one (failuresBeforeReplace). A node taking over a dead node's app would
    // otherwise leave an instance on a dead provider alone for a whole grace more.
    if (lease.status === "active") {
      const window = probeWindowSeconds(config.health);
      Object.assign(record, adoptedInstanceStart(lease.startedAt, Date.now(), this.o.startupGraceSec, window));
    }
    this.o.store.state.instances[record.leaseId] = record;
    this.o.log.info("adopted lease", { slot, lease: record.leaseId, provider: lease.provider });
    if (lease.status === "active") await this.refreshRoutes(record);
    return record;
  }

  /** Reads the pod's routes from its provider; also learns whether the manifest arrived (adoption after a crash). */
  async refreshRoutes(record: InstanceRecord): Promise<void> {
    try {
      const status = await this.o.client.getPodStatus({ leaseId: BigInt(record.leaseId) });
      if (status.manifestSpecHash !== null) record.manifestSent = true;
      record.httpUrl = status.http[0]?.url ?? record.httpUrl;
      const health = this.config?.health;
      if (health?.type === "tcp") {
        const published = status.tcp.find((t) => t.port === health.port);
        if (published) record.tcp = { host: new URL(record.endpoint).hostname, port: published.hostPort };
      }
    } catch (error) {
      this.o.log.debug("pod status unavailable", { lease: record.leaseId, error: (error as Error).message });
    }
  }

  private async providerDark(provider: Address): Promise<boolean> {
    const market = this.o.client.deployment.contracts.podnetMarket.address;
    this.heartbeatThreshold ??= BigInt(
      (await this.o.publicClient.readContract({ address: market, abi: podnetMarketAbi, functionName: "params" }))
        .heartbeatThreshold,
    );
    const [stake, block] = await Promise.all([
      this.o.publicClient.readContract({
        address: market,
        abi: podnetMarketAbi,
        functionName: "stakeOf",
        args: [provider],
      }),
      this.o.publicClient.getBlock(),
    ]);
    return darkReportability(stake, this.heartbeatThreshold, block.timestamp).reportable;
  }

  /**
   * Copies each provider's published ingress address (the registry's `getIngress`, read at most every
   * {@link INGRESS_TTL_MS}) onto its instances, for the status App DNS answers from. A failed read keeps the last one.
   */
  private async refreshIngresses(now = Date.now()): Promise<void> {
    const records = Object.values(this.o.store.state.instances);
    const providers = [...new Set(records.map((record) => record.provider.toLowerCase()))];
    await Promise.all(
      providers.map(async (provider) => {
        const cached = this.ingressCache.get(provider);
        if (cached && now - cached.at < INGRESS_TTL_MS) return;
        try {
          const { ingress } = await this.o.client.getProvider({ address: provider as Address });
          this.ingressCache.set(provider, { ingress, at: now });
        } catch (error) {
          this.o.log.debug("provider ingress unreadable", { provider, error: (error as Error).message });
        }
      }),
    );
    for (const record of records) {
      const cached = this.ingressCache.get(record.provider.toLowerCase());
      if (cached) record.ingress = cached.ingress;
    }
  }

  /** Sends the manifest (content keys re-wrapped to the provider by the SDK's deployPod); failures retry next pass. */
  private async sendManifest(record: InstanceRecord): Promise<void> {
    const manifest = parsePodSpec(readFileSync(this.o.podYaml, "utf8"), this.o.podYaml);
    try {
      const sent = await this.o.client.deployPod({ leaseId: BigInt(record.leaseId), manifest });
      record.manifestSent = true;
      this.o.store.save();
      this.o.log.info("manifest sent", { lease: record.leaseId, provider: record.provider, uploads: sent.uploads });
      await this.refreshRoutes(record);
    } catch (error) {
      this.o.log.warn("manifest not sent", { lease: record.leaseId, error: (error as Error).message });
    }
  }

  /** Tops a kept lease up per app.yaml's keepFunded; returns what left the balance. */
  private async topUp(
    slot: number,
    lease: GetLeaseReturnType,
    config: AppConfig,
    app: GetAppReturnType,
    balance: bigint,
  ): Promise<bigint> {
    const amount = topUpAmount({
      pricePerSecond: lease.pricePerSecond,
      unspent: lease.balance - lease.withdrawable,
      keepFundedSeconds: config.funding.keepFunded,
      maxDepositPerLease: app.limits.maxDepositPerLease,
      appBalance: balance,
    });
    if (amount === 0n) return 0n;
    try {
      await this.write("topUp", [BigInt(slot), lease.leaseId, amount]);
      this.o.metrics.topUps.inc();
      this.o.log.info("topped up", { slot, lease: lease.leaseId.toString(), amount: amount.toString() });
      return amount;
    } catch (error) {
      this.o.log.warn("top-up failed", { slot, lease: lease.leaseId.toString(), error: revertName(error) });
      return 0n;
    }
  }

  /**
   * Fills one slot: candidates from the indexer filtered by app.yaml, quotes in top-K random order, then
   * `replaceSlot` with the slot's expected lease. Another autoscaler that acted first makes the chain refuse
   * (`VaultSlotMismatch`): nothing is retried, the next pass reads the slot again.
   */
  private async place(
    plan: SlotPlan,
    app: GetAppReturnType,
    config: AppConfig,
    manifest: PodManifest,
    kept: Address[],
  ): Promise<{ placed?: Address; why: string; fallback?: boolean }> {
    const state = this.o.store.state;
    const now = Date.now();
    if (plan.failedProvider && this.o.avoidFailedProviderSec > 0) {
      state.avoid[plan.failedProvider.toLowerCase()] = now + this.o.avoidFailedProviderSec * 1000;
    }
    for (const [provider, until] of Object.entries(state.avoid)) if (until <= now) delete state.avoid[provider];
    // app.yaml's numbers within the vault's limits: the chain refuses anything above them anyway.
    const cap = lower(config.price.maxPerInstance, app.limits.maxPricePerSecond);
    const deposit = lower(config.funding.depositPerLease, app.limits.maxDepositPerLease);
    // fallback: no provider quoted (none found, or every one refused): the reverse market may still find one.
    const fail = (why: string, fallback = false) => {
      this.o.metrics.placementFailures.inc({ reason: why.split(":")[0] });
      this.o.log.warn("cannot place", { slot: plan.slot, why });
      return { why, fallback };
    };
    // An empty slot is paid from the balance alone (no refund of an old lease comes first): asking providers for quotes
    // the vault cannot pay would only burn their quote budget every pass.
    if (plan.expectedLease === 0n && app.balance < deposit) {
      return fail(`balance: the app's balance ${app.balance} does not cover a deposit of ${deposit}`);
    }
    let found: FoundProvider[];
    try {
      found = await this.o.client.findProviders({
        manifest,
        maxPricePerSecond: cap,
        attributes: config.placement.attributes,
        minFreeStake: config.placement.minFreeStake,
        minUptimeBps: config.placement.minUptimeBps,
        limit: 100,
      });
    } catch (error) {
      return fail(`indexer: ${(error as Error).message}`, true);
    }
    const { candidates, excluded } = filterCandidates({
      found,
      placement: config.placement,
      maxPricePerSecond: cap,
      maxPerProvider: config.instances.maxPerProvider,
      keptProviders: kept,
      avoid: new Set(Object.keys(state.avoid)),
    });
    if (candidates.length === 0) {
      const reasons = excluded.map((e) => `${e.provider} ${e.reason}`).join(", ");
      return fail(`no provider: ${found.length} found${reasons ? `, excluded: ${reasons}` : ""}`, true);
    }
    const refusals: string[] = [];
    for (const candidate of quoteOrder(candidates, config.placement.topK, this.o.random)) {
      let quoted: Awaited<ReturnType<PodnetClientWithActions["getQuote"]>>;
      try {
        quoted = await this.o.client.getQuote({
          provider: candidate.address,
          manifest,
          publisher: this.o.vault,
          policy: { maxPricePerSecond: cap },
        });
      } catch (error) {
        refusals.push(`${candidate.address}: ${(error as Error).message.split("\n")[0]}`);
        continue;
      }
      let receipt: Awaited<ReturnType<Reconciler["write"]>>;
      try {
        receipt = await this.write("replaceSlot", [
          BigInt(plan.slot),
          plan.expectedLease,
          quoted.quote,
          quoted.signature,
          deposit,
        ]);
      } catch (error) {
        const name = revertName(error);
        // Someone else changed the slot: never retry with the lease we expected; the next pass reads it again.
        if (name === "VaultSlotMismatch") return fail("raced: another controller changed the slot first");
        if (name === "VaultInsufficientBalance") return fail(`balance: the app's balance does not cover ${deposit}`);
        if (name.startsWith("Vault")) return fail(`vault refused: ${name}`);
        refusals.push(`${candidate.address}: ${name}`);
        continue;
      }
      const [replaced] = parseEventLogs({ abi: appVaultAbi, eventName: "SlotReplaced", logs: receipt.logs });
      // Why a cheaper candidate was passed over is otherwise nowhere: the placement log names its refusals.
      await this.placed(plan, replaced?.args.newLease as bigint, candidate.address, quoted.provider.endpoint, {
        tx: receipt.transactionHash,
        ...(refusals.length > 0 ? { passedOver: refusals } : {}),
      });
      return { placed: candidate.address, why: "" };
    }
    return fail(`no quote: ${refusals.join("; ")}`, true);
  }

  /** Records a lease just put into a slot, then sends its manifest. */
  private async placed(
    plan: SlotPlan,
    leaseId: bigint,
    provider: Address,
    endpoint: string,
    fields: Record<string, unknown>,
  ): Promise<void> {
    const record = newInstanceRecord(plan.slot, leaseId, provider, endpoint);
    // Recorded before the manifest goes out: a crash now leaves a known lease whose manifest the next pass sends.
    this.o.store.state.instances[record.leaseId] = record;
    if (plan.expectedLease !== 0n) delete this.o.store.state.instances[plan.expectedLease.toString()];
    this.o.store.save();
    this.o.metrics.replacements.inc({ reason: plan.reason });
    this.o.log.info("slot placed", {
      slot: plan.slot,
      lease: record.leaseId,
      replaced: plan.expectedLease.toString(),
      provider,
      reason: plan.reason,
      ...fields,
    });
    await this.sendManifest(record);
  }

  /**
   * Fills one slot: through the app's open order for it when there is one (reverse market), else with direct quotes
   * (`place`); when no provider quotes, an order is opened through the vault for the next passes to follow.
   */
  private async fill(
    plan: SlotPlan,
    app: GetAppReturnType,
    config: AppConfig,
    manifest: PodManifest,
    kept: Address[],
    chainNow: number,
  ): Promise<{ placed?: Address; problem: string }> {
    const open = Object.values(this.o.store.state.orders).find((order) => order.slot === plan.slot);
    if (open) return this.followOrder(open, plan, config, app, kept, chainNow);
    const outcome = await this.place(plan, app, config, manifest, kept);
    if (outcome.placed) return { placed: outcome.placed, problem: "" };
    if (!outcome.fallback) return { problem: `cannot place (${outcome.why})` };
    // An order nobody could win was just cancelled: not one more every bid window (each costs the controller gas).
    const backoff = this.orderBackoff.get(plan.slot) ?? 0;
    if (backoff > Date.now()) {
      return { problem: `cannot place (${outcome.why}); no new order before ${new Date(backoff).toISOString()}` };
    }
    return { problem: `cannot place (${outcome.why}); ${await this.openOrder(plan, app, config, manifest)}` };
  }

  /** Opens an order through the vault for a slot no provider quoted; recorded in the state before anything else. */
  private async openOrder(
    plan: SlotPlan,
    app: GetAppReturnType,
    config: AppConfig,
    manifest: PodManifest,
  ): Promise<string> {
    const deposit = lower(config.funding.depositPerLease, app.limits.maxDepositPerLease);
    try {
      const created = await createAppOrder(this.o.client, {
        vault: this.o.vault,
        manifest,
        maxPricePerSecond: lower(config.price.maxPerInstance, app.limits.maxPricePerSecond),
        deposit,
        bidWindowSeconds: appBidWindowSeconds(config),
        attributes: config.placement.attributes,
      });
      const order: OrderRecord = {
        orderId: created.orderId.toString(),
        slot: plan.slot,
        bidDeadline: created.bidDeadline,
        deposit: deposit.toString(),
      };
      this.o.store.state.orders[order.orderId] = order;
      this.o.store.save();
      this.o.metrics.orders.inc({ result: "created" });
      this.o.log.info("order created", { slot: plan.slot, order: order.orderId, bidDeadline: order.bidDeadline });
      return `order ${order.orderId} open for bids until ${new Date(order.bidDeadline * 1000).toISOString()}`;
    } catch (error) {
      const why = errorNameOf(error) ?? (error as Error).message.split("\n")[0];
      this.o.log.warn("order not created", { slot: plan.slot, why });
      return `no order either (${why})`;
    }
  }

  /**
   * Follows the slot's open order: waits out its bid window, then accepts the cheapest bid app.yaml allows into the
   * slot (`acceptBid` with the lease this pass read: compare-and-swap) or cancels it (deposit back to the app).
   */
  private async followOrder(
    order: OrderRecord,
    plan: SlotPlan,
    config: AppConfig,
    app: GetAppReturnType,
    kept: Address[],
    chainNow: number,
  ): Promise<{ placed?: Address; problem: string }> {
    const orderId = BigInt(order.orderId);
    const onChain = await this.o.publicClient.readContract({
      address: this.o.client.deployment.contracts.podnetMarket.address,
      abi: podnetMarketAbi,
      functionName: "getOrder",
      args: [orderId],
    });
    // Matched (by us before a crash: its lease is in the slot and adopted) or cancelled: nothing left to follow.
    if (onChain.status !== ORDER_OPEN) {
      delete this.o.store.state.orders[order.orderId];
      this.o.store.save();
      return { problem: `order ${order.orderId} is no longer open; placing again next pass` };
    }
    const bids = await getBids(this.o.client, { orderId });
    const { bid, passedOver } = pickBid({
      bids,
      placement: config.placement,
      maxPricePerSecond: lower(config.price.maxPerInstance, app.limits.maxPricePerSecond),
      maxPerProvider: config.instances.maxPerProvider,
      keptProviders: kept,
      avoid: new Set(Object.keys(this.o.store.state.avoid)),
    });
    const step = orderStep({
      slotNeedsFilling: true,
      now: chainNow,
      bidDeadline: order.bidDeadline,
      hasEligibleBid: bid !== undefined,
    });
    const until = new Date(order.bidDeadline * 1000).toISOString();
    if (step === "wait") return { problem: `waiting for bids on order ${order.orderId} until ${until}` };
    const passed = passedOver.map((p) => `${p.provider} ${p.reason}`).join(", ");
    if (step === "cancel" || !bid) {
      await this.cancelOrder(order, "no eligible bid");
      this.orderBackoff.set(plan.slot, Date.now() + 4 * appBidWindowSeconds(config) * 1000);
      this.o.metrics.placementFailures.inc({ reason: "no bid" });
      return {
        problem: `cannot place (no bid: order ${order.orderId} got ${bids.length}${passed ? `, passed over: ${passed}` : ""})`,
      };
    }
    try {
      const matched = await acceptAppBid(this.o.client, {
        vault: this.o.vault,
        orderId,
        provider: bid.provider,
        slot: plan.slot,
        expectedLease: plan.expectedLease,
      });
      delete this.o.store.state.orders[order.orderId];
      this.o.metrics.orders.inc({ result: "accepted" });
      const provider = await this.o.client.getProvider({ address: matched.provider });
      await this.placed(plan, matched.leaseId, matched.provider, provider.endpoint, {
        order: order.orderId,
        tx: matched.txHash,
      });
      return { placed: matched.provider, problem: "" };
    } catch (error) {
      // Another controller changed the slot: keep the order; the next pass cancels it if the slot is no longer ours.
      if (lostSlotRace(error)) return { problem: "cannot place (raced: another controller changed the slot first)" };
      const why = errorNameOf(error) ?? (error as Error).message.split("\n")[0];
      await this.cancelOrder(order, `bid not accepted: ${why}`);
      return { problem: `cannot place (bid of ${bid.provider} not accepted: ${why})` };
    }
  }

  /** Cancels the app's open orders that `which` selects (all of them when the autoscaler stops). */
  async cancelOrders(which: (order: OrderRecord) => boolean = () => true, why = "stopping"): Promise<void> {
    for (const order of Object.values(this.o.store.state.orders)) if (which(order)) await this.cancelOrder(order, why);
  }

  private async cancelOrder(order: OrderRecord, why: string): Promise<void> {
    try {
      const { refund, txHash } = await cancelAppOrder(this.o.client, {
        vault: this.o.vault,
        orderId: BigInt(order.orderId),
      });
      this.o.metrics.orders.inc({ result: "cancelled" });
      this.o.log.info("order cancelled", {
        order: order.orderId,
        slot: order.slot,
        why,
        refund: `${refund}`,
        tx: txHash,
      });
    } catch (error) {
      // Not open any more (matched or cancelled by another controller): nothing to give back. Else retried next pass.
      if (errorNameOf(error) !== "MarketOrderNotOpen") {
        this.o.log.warn("order not cancelled", {
          order: order.orderId,
          error: (error as Error).message.split("\n")[0],
        });
        return;
      }
    }
    delete this.o.store.state.orders[order.orderId];
    this.o.store.save();
  }

  /** Simulates, then sends a vault call as the controller and waits for it; reverts surface before any gas is spent. */
  private async write(functionName: "replaceSlot" | "topUp", args: readonly unknown[]) {
    const account = this.o.walletClient.account;
    if (!account) throw new Error("the wallet client has no account");
    const { request } = await this.o.publicClient.simulateContract({
      address: this.o.vault,
      abi: vaultCallAbi,
      functionName,
      args: args as never,
      account,
    });
    // simulateContract narrows request.abi to the function: give the errors back, so a revert at send time (another
    // controller's transaction mined in between) is still decoded as VaultSlotMismatch, not an anonymous selector.
    const hash: Hex = await this.o.walletClient.writeContract({ ...request, abi: vaultCallAbi } as never);
    const receipt = await this.o.publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${functionName} reverted (${hash})`);
    return receipt;
  }

  /** Probes every known instance once (called every health.interval); returns whether one just crossed N failures. */
  async probeAll(): Promise<boolean> {
    const config = this.config;
    if (!config) return false;
    let crossed = false;
    const records = Object.values(this.o.store.state.instances);
    await Promise.all(
      records.map(async (record) => {
        if (!record.manifestSent) return;
        if (!record.httpUrl && !record.tcp) await this.refreshRoutes(record);
        const result = await probeInstance(config.health, record, this.o.localhostAddress);
        record.lastProbe = result;
        this.o.metrics.probes.inc({ result: result.ok ? "ok" : "failed" });
        if (result.ok) {
          record.everHealthy = true;
          record.consecutiveFailures = 0;
        } else {
          record.consecutiveFailures++;
          if (record.everHealthy && record.consecutiveFailures === config.health.failuresBeforeReplace) crossed = true;
        }
      }),
    );
    if (records.length > 0) this.o.store.save();
    this.refreshHealth();
    return crossed;
  }

  private publishStatus(app: GetAppReturnType, desired: number, problems: string[]) {
    const lastPass = new Date().toISOString();
    this.status = { vault: app.vault, chainId: this.o.chainId, desired, instances: [], problems, lastPass };
    this.refreshHealth();
  }

  /** The status rows from the records (after a pass or a probe round). */
  private refreshHealth() {
    const health = this.config?.health;
    const rows: InstanceStatus[] = Object.values(this.o.store.state.instances)
      .sort((a, b) => a.slot - b.slot)
      .map((record) => {
        let state: InstanceHealth;
        if (!record.everHealthy) state = "starting";
        else if (health && record.consecutiveFailures >= health.failuresBeforeReplace) state = "replacing";
        else state = record.consecutiveFailures > 0 ? "failing" : "healthy";
        return {
          slot: record.slot,
          leaseId: record.leaseId,
          provider: record.provider,
          hostUrl: record.httpUrl,
          tcp: record.tcp,
          ingress: record.ingress ?? null,
          health: state,
          lastProbe: record.lastProbe && { ...record.lastProbe, at: new Date(record.lastProbe.at).toISOString() },
        };
      });
    this.status = { ...this.status, instances: rows };
    for (const h of ["healthy", "starting", "failing", "replacing"] as const) {
      this.o.metrics.instances.set({ health: h }, rows.filter((r) => r.health === h).length);
    }
  }
}

/** The custom error a call reverted with (`VaultSlotMismatch`, ...), else the error's short message. */
export function revertName(error: unknown): string {
  if (error instanceof BaseError) {
    const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError && revert.data?.errorName) return revert.data.errorName;
    return error.shortMessage;
  }
  return (error as Error).message;
}
