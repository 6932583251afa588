import { clearAppSlot, type PodnetClientWithActions } from "@podnet/sdk";
import type { Address } from "viem";
import type { Logger } from "./log.js";

/**
 * Vault writes the autoscaler sends through the SDK's vault actions, with the one rule that makes them safe next to
 * another controller: every slot write names the lease it expects (compare-and-swap), and a refusal because the slot
 * changed (`VaultSlotMismatch`, `VaultSlotEmpty`) ends the attempt; the next pass reads the slot again. Never a retry
 * with the lease read now: that could close what another controller just placed.
 */

/** The custom error name of an SDK ContractError (or of anything carrying `errorName`), if any. */
export function errorNameOf(error: unknown): string | undefined {
  const name = (error as { errorName?: unknown } | undefined)?.errorName;
  return typeof name === "string" ? name : undefined;
}

/** The slot no longer holds what this pass read: another controller (or the owner) acted first. */
export function lostSlotRace(error: unknown): boolean {
  const name = errorNameOf(error);
  return name === "VaultSlotMismatch" || name === "VaultSlotEmpty";
}

export type ClearOutcome =
  | { slot: number; leaseId: bigint; result: "cleared"; closed: boolean; refund: bigint }
  | { slot: number; leaseId: bigint; result: "raced" | "failed"; error: string };

/**
 * Clears surplus slots in the order given (highest first from `scaleDownSlots`), each with the lease this pass read;
 * the vault closes an active lease in the same transaction and its unspent escrow returns to the app's balance. Stops
 * at the first lost race: what the other controller did is read again next pass.
 */
export async function clearSurplus(
  client: PodnetClientWithActions,
  vault: Address,
  targets: readonly { slot: number; leaseId: bigint }[],
  log: Logger,
): Promise<ClearOutcome[]> {
  const outcomes: ClearOutcome[] = [];
  for (const { slot, leaseId } of targets) {
    try {
      const { closed, refund, txHash } = await clearAppSlot(client, { vault, slot, leaseId });
      log.info("slot cleared (scale-down)", {
        slot,
        lease: leaseId.toString(),
        closed,
        refund: refund.toString(),
        tx: txHash,
      });
      outcomes.push({ slot, leaseId, result: "cleared", closed, refund });
    } catch (error) {
      const message = (error as Error).message.split("\n")[0] ?? "";
      if (lostSlotRace(error)) {
        log.info("scale-down raced: the slot changed first, read again next pass", { slot, lease: `${leaseId}` });
        outcomes.push({ slot, leaseId, result: "raced", error: message });
        break;
      }
      log.warn("scale-down failed", { slot, lease: leaseId.toString(), error: message });
      outcomes.push({ slot, leaseId, result: "failed", error: message });
    }
  }
  return outcomes;
}
