import type { PodPhase } from "@podnet/sdk/protocol";

/**
 * The reconciler's phase of each lease's pod, telling `onChange` when a pod moves to another phase (not when the same
 * phase is set again with a new time or reason): the admin API's "leases" events come from here, one place for the
 * dozen spots that set a phase.
 */
export class PhaseMap extends Map<string, PodPhase> {
  readonly #onChange: (leaseId: string, phase: PodPhase) => void;

  constructor(onChange: (leaseId: string, phase: PodPhase) => void) {
    super();
    this.#onChange = onChange;
  }

  override set(leaseId: string, phase: PodPhase): this {
    const before = super.get(leaseId)?.phase;
    super.set(leaseId, phase);
    // Map's own constructor never calls set here (no initial entries), so the callback is always there.
    if (before !== phase.phase) this.#onChange(leaseId, phase);
    return this;
  }
}
