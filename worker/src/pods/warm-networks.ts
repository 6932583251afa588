/**
 * Warm pod networks. Creating a bridge network costs about as much as a `docker run` (its bridge, its iptables rules,
 * the worker's firewall rules), and a pod cannot be created before its network exists: made when the lease starts, it
 * sat on the path from lease to serving pod (docs/worker-benchmarks.md, "Push"). So the worker keeps `warmNetworks`
 * networks made ahead, each on a slot of its subnet pool and firewalled like any pod network, and hands the lowest
 * one to the next lease (`leaseSlot` in subnets.ts), then makes another in the background.
 *
 * A warm network is named by its slot, not by a lease (Docker can neither rename nor relabel one); which lease uses
 * which slot is the worker's state (`subnets`), written before the slot is used. A network is never handed to a
 * second lease: it is removed with its lease's pod and its slot made warm again from scratch.
 */
import type { WorkerContext } from "../context.js";
import { dropSpare, reserveSpare, type SubnetPool, spareKey, spareSlots } from "./subnets.js";

export class WarmNetworks {
  /** Spare slots whose network (and infra container) this process made: handed out before one still being made. */
  readonly ready = new Set<number>();

  /** Counts the ready slots that are still spares into the metric (a lease may have taken one). */
  #count(): void {
    const spares = new Set(spareSlots(this.ctx.state, this.pool).map((slot) => slot.index));
    for (const index of this.ready) if (!spares.has(index)) this.ready.delete(index);
    this.ctx.metrics.warmSlotsReady.set(this.ready.size);
  }
  #filling: Promise<void> | undefined;
  #tidying: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly pool: SubnetPool,
    /** Where this provider starts allocating in the pool (poolStart). */
    private readonly start: number,
  ) {}

  /**
   * At start: removes slot networks that neither a lease nor a warm slot of the state holds (made just before a crash
   * wrote the state; a network some container still uses is left and logged), makes the state's warm slots' networks
   * that went missing, then fills up.
   */
  tidy(): Promise<void> {
    const tidying = this.#tidy();
    this.#tidying = tidying;
    return tidying.finally(() => {
      if (this.#tidying === tidying) this.#tidying = undefined;
    });
  }

  async #tidy(): Promise<void> {
    for (const network of await this.ctx.runtime.slotNetworks()) {
      // The state as it is now, not as it was before the listing: a lease may have taken a slot meanwhile (its slot is
      // written before its network is made, so a network of a lease is always held here).
      if (Object.values(this.ctx.state.data.subnets).includes(network.index)) continue;
      await this.ctx.runtime
        .removeSlotNetwork(network.index)
        .catch((error: Error) =>
          this.ctx.log.warn("pod network of no lease left in place", { slot: network.index, error: error.message }),
        );
    }
    for (const slot of spareSlots(this.ctx.state, this.pool)) {
      if (this.#stopped) return;
      await this.#make(slot).catch(() => undefined);
    }
    this.refill();
  }

  /**
   * Makes warm networks until `warmNetworks` are ready, in the background; one fill runs at a time. Cheap when they
   * are: it reads the state only (every reconcile pass calls it, so a fill cut short by a Docker outage resumes).
   */
  refill(): void {
    this.#count();
    if (this.#stopped) return;
    if (this.#filling) {
      this.#again = true;
      return;
    }
    this.#filling = this.#fill()
      .catch((error: Error) => this.ctx.log.warn("warm pod networks not made", { error: error.message }))
      .finally(() => {
        this.#filling = undefined;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          this.refill();
        }
      });
  }

  /**
   * Waits for the start's tidy and a fill in progress (tests, and a clean stop: a network or infra container whose
   * creation was under way would otherwise appear after the worker exited, unknown to anyone).
   */
  async settled(): Promise<void> {
    while (this.#filling || this.#tidying) await (this.#filling ?? this.#tidying)?.catch(() => undefined);
  }

  stop(): void {
    this.#stopped = true;
  }

  async #fill(): Promise<void> {
    const { state, config } = this.ctx;
    while (!this.#stopped && spareSlots(state, this.pool).length < config.warmNetworks) {
      const slot = reserveSpare(state, this.pool, this.start);
      this.ready.delete(slot.index);
      await this.#make(slot);
    }
  }

  /**
   * Makes one warm slot's network. A subnet another network overlaps is given up for good (blocked) and the fill goes
   * on; any other failure (Docker down) gives the slot up and ends this fill, to be tried at the next refill.
   */
  async #make(slot: { index: number; subnet: string }): Promise<void> {
    try {
      // With its infra container, where the worker makes them (`infraContainers`): the pod then skips its own endpoint.
      await this.ctx.runtime.ensureSlotNetwork(slot, { infra: true });
      this.ready.add(slot.index);
      this.#count();
    } catch (error) {
      const message = (error as Error).message;
      // A subnet someone else's network overlaps is never usable here; anything else (Docker down) is tried later.
      const overlap = /overlap/i.test(message);
      if (this.ctx.state.data.subnets[spareKey(slot.index)] !== undefined) {
        dropSpare(this.ctx.state, slot.index, { blocked: overlap });
      }
      if (!overlap) throw error;
    }
  }
}
