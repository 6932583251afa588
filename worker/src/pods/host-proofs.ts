import { Resolver } from "node:dns/promises";
import { type PodManifest, proofName, proofValue } from "@podnet/sdk/protocol";
import type { Logger } from "../log.js";
import type { WorkerState } from "../store/worker-state.js";

/**
 * Custom hosts are routed only to the lease the host's owner names in DNS: a TXT record at `_podnet-lease.<host>`
 * holding `lease=<chainId>:<leaseId>`. Without it, whoever asked first would get any name (first come, first served),
 * including a name another tenant uses elsewhere. A proof is kept in the worker's state, so a restart routes the
 * host at once; it is checked again every {@link PROOF_TTL_MS}, and a record that is gone (the answer names no such
 * lease) takes the host away. A lookup that fails (timeout, server failure) keeps what was proven. The name and value
 * of a proof are the protocol layer's (`proofName`, `proofValue` in host-proof.ts): podnet-dns publishes them.
 */
export const PROOF_TTL_MS = 10 * 60_000;
/** How soon a host without a proof is looked up again: the publisher may be adding the record right now. */
export const UNPROVEN_RETRY_MS = 2_000;
/**
 * How soon a request for an unproven host may look it up again ({@link HostProofs.proveNow}): requests come by the
 * thousand a second, DNS lookups must not.
 */
export const ON_DEMAND_RETRY_MS = 250;

/** Options of {@link HostProofs}. */
export interface HostProofsOptions {
  state: WorkerState;
  chainId: number;
  /** DNS servers (`ip` or `ip:port`); empty: the system's. */
  servers: string[];
  log: Logger;
}

/** The custom hosts this worker routes, each proven by DNS for one lease. */
export class HostProofs {
  readonly #opts: HostProofsOptions;
  readonly #resolver = new Resolver({ timeout: 2000, tries: 2 });
  /** host → when a lookup last found no proof for a lease (ms), so an unproven host is not looked up every pass. */
  readonly #misses = new Map<string, number>();
  /** `host leaseId` → when a request last looked it up ({@link proveNow}); dropped with the lease. */
  readonly #demanded = new Map<string, number>();

  constructor(opts: HostProofsOptions) {
    this.#opts = opts;
    if (opts.servers.length > 0) this.#resolver.setServers(opts.servers);
  }

  /** Whether `host` is proven for `leaseId` (from the state; no lookup). */
  holds(host: string, leaseId: string): boolean {
    return this.#opts.state.data.hosts[host]?.leaseId === leaseId;
  }

  /**
   * Looks `host`'s proof up for `leaseId` now, unless it holds already or a request looked it up within
   * {@link ON_DEMAND_RETRY_MS}; whether it holds afterwards. For a request that names a host its lease declares but has
   * not proven: App DNS publishes an instance's proof when the instance is placed, and may answer its address before
   * the reconcile pass that would look the proof up ({@link UNPROVEN_RETRY_MS}); the first requests would get 404.
   */
  async proveNow(host: string, leaseId: string, now = Date.now()): Promise<boolean> {
    if (this.holds(host, leaseId)) return true;
    const key = `${host} ${leaseId}`;
    if (now - (this.#demanded.get(key) ?? Number.NEGATIVE_INFINITY) < ON_DEMAND_RETRY_MS) return false;
    this.#demanded.set(key, now);
    // The pass's own retry window does not hold a request back: the record may have appeared since.
    this.#misses.delete(key);
    await this.#check(host, leaseId, now);
    return this.holds(host, leaseId);
  }

  /** Looks up the proofs of the manifest's custom hosts that are due; records events for hosts gained or lost. */
  async refresh(leaseId: string, manifest: PodManifest, now = Date.now()): Promise<void> {
    for (const expose of manifest.expose.http) {
      if (expose.host) await this.#check(expose.host, leaseId, now);
    }
  }

  /** Forgets every host of a lease that ended. */
  release(leaseId: string): void {
    const hosts = this.#opts.state.data.hosts;
    for (const [host, holder] of Object.entries(hosts)) if (holder.leaseId === leaseId) delete hosts[host];
    for (const key of this.#demanded.keys()) if (key.endsWith(` ${leaseId}`)) this.#demanded.delete(key);
    this.#opts.state.save();
  }

  async #check(host: string, leaseId: string, now: number): Promise<void> {
    const { state, chainId, log } = this.#opts;
    const holder = state.data.hosts[host];
    if (holder && now - holder.checkedAt < PROOF_TTL_MS) return;
    if (!holder && now - (this.#misses.get(`${host} ${leaseId}`) ?? 0) < UNPROVEN_RETRY_MS) return;
    let values: string[];
    try {
      values = (await this.#resolver.resolveTxt(proofName(host))).map((chunks) => chunks.join(""));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // No such name / no TXT: an answer (the proof is absent). Anything else: DNS trouble, keep what was proven.
      if (code !== "ENOTFOUND" && code !== "ENODATA") {
        this.#misses.set(`${host} ${leaseId}`, now);
        return;
      }
      values = [];
    }
    const proven = values.includes(proofValue(chainId, leaseId));
    if (proven && (!holder || holder.leaseId === leaseId || !values.includes(proofValue(chainId, holder.leaseId)))) {
      state.data.hosts[host] = { leaseId, checkedAt: now };
      if (holder?.leaseId !== leaseId) {
        state.recordEvent(leaseId, "host", `custom host ${host} proven by ${proofName(host)} and routed`);
        log.info("custom host proven", { host, leaseId });
      }
      this.#misses.delete(`${host} ${leaseId}`);
    } else {
      if (holder?.leaseId === leaseId) {
        delete state.data.hosts[host];
        state.recordEvent(leaseId, "host", `custom host ${host} no longer routed: ${proofName(host)} does not name it`);
      } else if (!this.#misses.has(`${host} ${leaseId}`)) {
        state.recordEvent(
          leaseId,
          "host",
          `custom host ${host} not routed until TXT ${proofName(host)} holds "${proofValue(chainId, leaseId)}"`,
        );
      }
      this.#misses.set(`${host} ${leaseId}`, now);
    }
    state.save();
  }
}
