/**
 * Items that run at once (on several copies) can fail in any order, but the run must report
 * the failure of the earliest item in input order, as a one-at-a-time run would. Each item's
 * failure waits until every item before it has settled: waiting only for the item just before
 * is not enough, since that one can settle before an earlier item still running.
 */
const settled = (): void => undefined;

export class InputOrderFailures {
  /** Settled once every item tracked so far has settled. */
  private previous: Promise<unknown> = Promise.resolve();

  /** `work`, whose rejection (if `waits` says so for its error) comes only after every earlier item settled. */
  track<T>(work: Promise<T>, waits: (err: unknown) => boolean = () => true): Promise<T> {
    const previous = this.previous;
    const result = work.catch(async (err: unknown) => {
      if (waits(err)) await previous;
      throw err;
    });
    // Settled, not the values: a chain that kept them would hold every item's result (every
    // batch, every encoded part) for the rest of the run.
    this.previous = Promise.allSettled([previous, result]).then(settled);
    return result;
  }
}
