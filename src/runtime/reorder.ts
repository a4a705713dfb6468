/**
 * Releases values in sequence order: `put(seq, v)` returns every value that is now
 * contiguous from the next expected sequence number. Its size is bounded by the
 * caller's credit (a value is only produced after a channel slot was reserved).
 */
export class ReorderBuffer<T> {
  private next: number;
  private readonly pending = new Map<number, T>();

  constructor(firstSeq = 0) {
    this.next = firstSeq;
  }

  get size(): number {
    return this.pending.size;
  }

  /** The sequence number the buffer waits for. */
  get expected(): number {
    return this.next;
  }

  /** Whether `seq` may still be put: neither released nor waiting here. */
  accepts(seq: number): boolean {
    return seq >= this.next && !this.pending.has(seq);
  }

  put(seq: number, value: T): T[] {
    if (!this.accepts(seq)) {
      throw new Error(`reorder buffer: sequence ${seq} seen twice (expecting ${this.next})`);
    }
    if (seq !== this.next) {
      this.pending.set(seq, value);
      return [];
    }
    const out = [value];
    this.next++;
    for (let v = this.pending.get(this.next); v !== undefined; v = this.pending.get(this.next)) {
      this.pending.delete(this.next);
      out.push(v);
      this.next++;
    }
    return out;
  }

  /** Everything held, in no particular order (failure cleanup). */
  drain(): T[] {
    const values = [...this.pending.values()];
    this.pending.clear();
    return values;
  }
}
