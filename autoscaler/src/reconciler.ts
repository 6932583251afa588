import { readFileSync } from "node:fs";
import {
  type FoundProvider,
  type GetAppReturnType,
  type GetLeaseReturnType,
  type PodnetClientWithActions,
  parseAppYaml,
  parsePodSpec,
} from "@podnet/sdk";
import {
  type AppConfig,
  appConfigHash,
  appVaultAbi,
  darkReportability,
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
import { desiredInstances, filterCandidates, judgeInstance, lower, quoteOrder, topUpAmount } from "./placement.js";
import { probeInstance } from "./probe.js";
import type { InstanceRecord, StateStore } from "./state.js";

/**
 * The reconcile loop: one pass at a time compares what app.yaml wants (within the vault's limits and balance) with
 * what runs (the vault's slots, their leases, the probes) and acts: fills empty slots, replaces failed instances in
 * their own slot (compare-and-swap on the vault, which closes the old lease in the same transaction), sends the
 * manifest with the content keys re-wrapped to the new provider, tops leases up. Healthy instances are not touched.
 */

export type InstanceHealth = "healthy" | "starting" | "failing" | "replacing";

/** One row of `GET /status`: what [App DNS] reads. */
export interface InstanceStatus {
  slot: number;
  leaseId: string;
  provider: Address;
  /** The pod's HTTP route through the provider's ingress, when known. */
  hostUrl: string | null;
  tcp: { host: string; port: number } | null;
  health: InstanceHealth;
  lastProbe: { at: string; ok: boolean; detail: string } | null;
}

export interface AppStatus {
  vault: Address;
  desired: number;
  instances: InstanceStatus[];
  /** Why the app is not where app.yaml wants it (cannot place, spec mismatch, ...); empty when it is. */
  problems: string[];
  /** ISO time of the last finished pass. */
  lastPass: string | null;
}

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
  random?: () => number;
}

/** The vault's ABI with the market's errors, so a revert from inside the market (through the vault) is decoded. */
const vaultCallAbi = [...appVaultAbi, ...podnetMarketAbi.filter((item) => item.type === "error")] as const;

type SlotPlan = { slot: number; expectedLease: bigint; reason: string; failedProvider?: Address };

export class Reconciler {
  private status: AppStatus;
  private heartbeatThreshold: bigint | undefined;
  /** The app.yaml of the last pass, for the prober between passes. */
  config: AppConfig | undefined;

  constructor(private readonly o: ReconcilerOptions) {
    this.status = { vault: o.vault, desired: 0, instances: [], problems: [], lastPass: null };
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
      const instances = await this.survey(app, desired, config, problems);
      const plans = instances.plans;
      // A spec the vault does not have would only get quotes the vault refuses: place nothing, keep what runs.
      const canPlace = !problems.some((p) => p.startsWith("spec:"));
      for (const plan of canPlace ? plans : []) {
        const outcome = await this.place(plan, app, config, manifest, instances.kept);
        if (outcome.placed) instances.kept.push(outcome.placed);
        else problems.push(`slot ${plan.slot}: cannot place (${outcome.why})`);
      }
      this.publishStatus(app, desired, problems);
    } finally {
      end();
      this.o.store.save();
    }
  }

  /** Reads every slot below `desired`, judges its instance, tops healthy ones up; returns the slots to (re)fill. */
  private async survey(app: GetAppReturnType, desired: number, config: AppConfig, problems: string[]) {
    const plans: SlotPlan[] = [];
    const kept: Address[] = [];
    const state = this.o.store.state;
    const inSlots = new Set<string>();
    let balance = app.balance;
    for (const { slot, leaseId } of app.slots) {
      if (leaseId !== 0n) inSlots.add(leaseId.toString());
      if (slot >= desired) {
        if (leaseId !== 0n) problems.push(`slot ${slot}: lease ${leaseId} runs above the target (scale-down not done)`);
        continue;
      }
      if (leaseId === 0n) {
        plans.push({ slot, expectedLease: 0n, reason: "empty" });
        continue;
      }
      const lease = await this.o.client.getLease({ leaseId });
      const record = state.instances[leaseId.toString()] ?? (await this.adopt(slot, lease));
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
      balance -= await this.topUp(slot, lease, config, app, balance);
    }
    // Records of leases no longer in any slot (replaced by us or another autoscaler, cleared by the owner).
    for (const id of Object.keys(state.instances)) if (!inSlots.has(id)) delete state.instances[id];
    return { plans, kept };
  }

  /** A lease in a slot this autoscaler knows nothing about: placed by another autoscaler, or by us before a restart. */
  private async adopt(slot: number, lease: GetLeaseReturnType): Promise<InstanceRecord> {
    const provider = await this.o.client.getProvider({ address: lease.provider }).catch(() => undefined);
    const record: InstanceRecord = {
      slot,
      leaseId: lease.leaseId.toString(),
      provider: lease.provider,
      endpoint: provider?.endpoint ?? "",
      httpUrl: null,
      tcp: null,
      manifestSent: false,
      since: Date.now(),
      everHealthy: false,
      consecutiveFailures: 0,
      lastProbe: null,
    };
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
  ): Promise<{ placed?: Address; why: string }> {
    const state = this.o.store.state;
    const now = Date.now();
    if (plan.failedProvider && this.o.avoidFailedProviderSec > 0) {
      state.avoid[plan.failedProvider.toLowerCase()] = now + this.o.avoidFailedProviderSec * 1000;
    }
    for (const [provider, until] of Object.entries(state.avoid)) if (until <= now) delete state.avoid[provider];
    // app.yaml's numbers within the vault's limits: the chain refuses anything above them anyway.
    const cap = lower(config.price.maxPerInstance, app.limits.maxPricePerSecond);
    const deposit = lower(config.funding.depositPerLease, app.limits.maxDepositPerLease);
    const fail = (why: string) => {
      this.o.metrics.placementFailures.inc({ reason: why.split(":")[0] });
      this.o.log.warn("cannot place", { slot: plan.slot, why });
      return { why };
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
      return fail(`indexer: ${(error as Error).message}`);
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
      return fail(`no provider: ${found.length} found${reasons ? `, excluded: ${reasons}` : ""}`);
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
      const leaseId = replaced?.args.newLease as bigint;
      const record: InstanceRecord = {
        slot: plan.slot,
        leaseId: leaseId.toString(),
        provider: candidate.address,
        endpoint: quoted.provider.endpoint,
        httpUrl: null,
        tcp: null,
        manifestSent: false,
        since: Date.now(),
        everHealthy: false,
        consecutiveFailures: 0,
        lastProbe: null,
      };
      // Recorded before the manifest goes out: a crash now leaves a known lease whose manifest the next pass sends.
      this.o.store.state.instances[record.leaseId] = record;
      if (plan.expectedLease !== 0n) delete this.o.store.state.instances[plan.expectedLease.toString()];
      this.o.store.save();
      this.o.metrics.replacements.inc({ reason: plan.reason });
      this.o.log.info("slot placed", {
        slot: plan.slot,
        lease: record.leaseId,
        replaced: plan.expectedLease.toString(),
        provider: candidate.address,
        reason: plan.reason,
        tx: receipt.transactionHash,
      });
      await this.sendManifest(record);
      return { placed: candidate.address, why: "" };
    }
    return fail(`no quote: ${refusals.join("; ")}`);
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
        const result = await probeInstance(config.health, record);
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
    this.status = { vault: app.vault, desired, instances: [], problems, lastPass: new Date().toISOString() };
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
