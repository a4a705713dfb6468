/**
 * The first fatal error of something that runs on its own (a copy's thread or process, the
 * copies of a stage, the Parquet encoder's threads), kept and told to every listener, also to
 * one that registers after it happened.
 *
 * A copy can die before anyone listens: the scheduler registers its listeners when the run
 * starts moving batches, and a copy started early (runtime/early-start.ts) or set up before the
 * others finished may die in between. Told to nobody, that death was lost, and the run did all
 * its work on the copies left, failing only at flush (or never, had nothing asked the dead copy
 * again). Kept here, it reaches the scheduler the moment it listens, and the run stops there.
 */
export class FirstFatal<E> {
  private first: { error: E } | undefined;
  private readonly listeners: Array<(err: E) => void> = [];

  /** The first error reported, if one was. */
  get error(): E | undefined {
    return this.first?.error;
  }

  get reported(): boolean {
    return this.first !== undefined;
  }

  /**
   * Keep `err` and tell every listener, if it is the first; a later one is dropped (the first
   * failure is the one the run reports). True if it was the first.
   */
  report(err: E): boolean {
    if (this.first) return false;
    this.first = { error: err };
    this.tell([...this.listeners], err);
    return true;
  }

  /** Call `listener` with the first error: now if it already came, else when it comes. */
  listen(listener: (err: E) => void): void {
    this.listeners.push(listener);
    if (this.first) this.tell([listener], this.first.error);
  }

  /** Every listener hears of it, even if one before it throws; the first throw is rethrown after. */
  private tell(listeners: Array<(err: E) => void>, err: E): void {
    let thrown: { error: unknown } | undefined;
    for (const listener of listeners) {
      try {
        listener(err);
      } catch (error) {
        thrown ??= { error };
      }
    }
    if (thrown) throw thrown.error;
  }
}
