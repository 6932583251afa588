/**
 * Slots for long-lived streams (log follows): at most `perKey` per key (a lease) and `total` over all keys, so one
 * publisher cannot pin every Docker connection and descriptor with follows that never end.
 */
export class StreamSlots {
  private readonly held = new Map<string, number>();
  private count = 0;

  constructor(
    readonly perKey: number,
    readonly total: number,
  ) {}

  /**
   * Takes a slot for `key`: a release function (idempotent: call it from every way the stream can end), or the reason
   * there is none.
   */
  take(key: string): { release: () => void } | { refused: string } {
    const mine = this.held.get(key) ?? 0;
    if (mine >= this.perKey) return { refused: `${mine} streams are open for ${key}, the most allowed` };
    if (this.count >= this.total)
      return { refused: `${this.count} streams are open on this provider, the most allowed` };
    this.held.set(key, mine + 1);
    this.count++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.count--;
        const left = (this.held.get(key) ?? 1) - 1;
        if (left > 0) this.held.set(key, left);
        else this.held.delete(key);
      },
    };
  }

  /** Streams open now for `key`, or over all keys. */
  open(key?: string): number {
    return key === undefined ? this.count : (this.held.get(key) ?? 0);
  }
}
