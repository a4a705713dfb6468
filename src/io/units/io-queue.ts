/**
 * What a resumable run's staging waits on the disk for (io/units: fsyncs, renames, manifest
 * lines), in order, off the main thread's path: each operation starts once every one queued
 * before it has settled, so a unit's manifest line, queued after its files' fsyncs and
 * renames, is written only once they are durable. The first failure stops
 * the rest (what was queued after it does not run, except `always`) and is thrown by `check`
 * (the next write) and `idle` (the end of the units), so it fails the run.
 *
 * No frame waits here: a unit's frames are written beside the queue as they come (staging.ts),
 * so they never wait behind an earlier unit's fsyncs; each batch is held by its owner until it
 * is written, so a disk slower than the run holds the run back through its channels.
 */
export class IoQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private failure: { err: unknown } | undefined;

  /** Queue `op`; its result, once it ran (a rejected promise if it or an earlier one failed). */
  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.tail.then(() => {
      if (this.failure) throw this.failure.err;
      return op();
    });
    this.tail = result.catch((err: unknown) => {
      this.failure ??= { err };
    });
    // The failure is reported by check/idle; a result nobody awaits must not be an unhandled rejection.
    result.catch(() => undefined);
    return result;
  }

  /** Queue `op` (its result unused: a failure is reported by check/idle). */
  push(op: () => Promise<unknown>): void {
    void this.run(op);
  }

  /** Queue `op` to run even after a failure (closing what was opened). */
  always(op: () => Promise<unknown>): void {
    this.tail = this.tail.then(op).catch(() => undefined);
  }

  /** Throws the first failure, if there was one. */
  check(): void {
    if (this.failure) throw this.failure.err;
  }

  /** Resolves once everything queued so far has run; throws the first failure. */
  async idle(): Promise<void> {
    await this.tail;
    this.check();
  }

  /** Resolves once everything queued so far has settled, whatever happened. */
  async settled(): Promise<void> {
    await this.tail;
  }
}
