import type { WorkerState } from "./worker-state.js";

/** Quote nonces reserved per state write: one word of the market's nonce bitmap. */
export const QUOTE_NONCE_BLOCK = 256n;

/**
 * Hands out quote nonces. Each must be persisted before its quote leaves (a restart must never sign a nonce twice),
 * but a state write per anonymous quote would make quotes an easy way to keep the disk busy: the nonces are reserved
 * in blocks of {@link QUOTE_NONCE_BLOCK}, the end of the block persisted as `nextQuoteNonce`, and a restart continues
 * after it. The nonces a restart skips are harmless: the market refuses a nonce used twice, not a gap.
 */
export class QuoteNonces {
  private next: bigint;
  private reservedUntil: bigint;

  constructor(private readonly state: WorkerState) {
    this.next = BigInt(state.data.nextQuoteNonce);
    this.reservedUntil = this.next;
  }

  take(): bigint {
    if (this.next >= this.reservedUntil) {
      this.reservedUntil = this.next + QUOTE_NONCE_BLOCK;
      this.state.data.nextQuoteNonce = this.reservedUntil.toString();
      this.state.saveNow();
    }
    const nonce = this.next;
    this.next += 1n;
    return nonce;
  }
}
