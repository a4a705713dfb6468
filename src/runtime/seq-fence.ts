/**
 * Each sequence number passes once. A channel's items are numbered by their source batch, and
 * a stage gives one result per batch: a second result for the same number is a bug in sluice
 * (a task answered twice, a retry whose first attempt also came back) that would write those
 * rows twice. The reorder buffer refuses it in ordered mode; this fence does in unordered mode.
 *
 * Memory stays small: numbers are dense from 0, so it keeps the lowest number not yet seen and
 * the numbers seen above it, which are no more than the items in flight out of order (bounded
 * by the channel's credit). Numbers that are not dense are still refused correctly, only kept.
 */
export class SeqFence {
  /** Every number below this one has passed. */
  private below = 0;
  private readonly above = new Set<number>();

  /** Whether `seq` has passed already; if not, it has now. */
  seen(seq: number): boolean {
    if (seq < this.below || this.above.has(seq)) return true;
    this.above.add(seq);
    while (this.above.delete(this.below)) this.below++;
    return false;
  }
}
