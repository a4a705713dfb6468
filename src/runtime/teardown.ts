/**
 * One teardown for a run: what the run opened is registered here as it is opened (the guard's
 * process listeners, copies started early, the sinks with their temporaries and locks, the
 * source, the stages' copies, the scheduler, the commit announced to the death watch), and
 * the first error tears it all down in one place, in reverse order, each exactly once. Node's
 * `stream.pipeline` is the model: one `destroys` list, one error.
 *
 * - First error wins: `fail` records it and rejects `stopped` (what the run races its steps
 *   against); later `fail`s change nothing. A resource whose teardown throws does not mask it:
 *   its error is attached to the first (`suppressedOf`).
 * - A resource registered after the failure (an open that was under way) is torn down at once.
 * - A step that must not be cut (publishing a commit: renames, fsyncs) is `hold`: a failure
 *   meanwhile waits for it to settle before tearing anything down.
 * - Success: `close` releases what is still held, in reverse order, each once.
 */
import { isError } from '../errors';

/** Something the run opened. */
export interface Resource {
  /** After a failure: stop it and remove what it left (temporaries, locks). Called at most once. */
  abort(cause: unknown): unknown;
  /** After success: let it go (a lock, a listener). Called at most once, never after `abort`. */
  release?(): unknown;
}

/** How an opener hands what it opened to the run's teardown (`Teardown.add`). */
export type Register = (name: string, resource: Resource) => void;

/** A teardown that failed after the run had failed: kept beside the first error, never instead of it. */
export class TeardownFailure extends Error {
  constructor(
    readonly resource: string,
    cause: unknown,
  ) {
    super(`tearing down ${resource} failed: ${isError(cause) ? cause.message : String(cause)}`, { cause });
    this.name = 'TeardownFailure';
  }
}

const SUPPRESSED = Symbol('sluice.teardown.suppressed');

/** The teardown failures attached to a run's error (empty when every teardown went well). */
export function suppressedOf(err: unknown): readonly TeardownFailure[] {
  return (err !== null && typeof err === 'object' && (err as { [SUPPRESSED]?: TeardownFailure[] })[SUPPRESSED]) || [];
}

export class Teardown {
  /** Rejects with the first error; never resolves. */
  readonly stopped: Promise<never>;
  private readonly held: { name: string; resource: Resource }[] = [];
  private first: { error: unknown } | undefined;
  private readonly later: TeardownFailure[] = [];
  private reject!: (err: unknown) => void;
  /** The teardown so far (each resource's abort chained after the previous one's). */
  private done: Promise<void> = Promise.resolve();
  private readonly holding = new Set<Promise<unknown>>();
  private closed = false;

  constructor() {
    this.stopped = new Promise<never>((_, reject) => (this.reject = reject));
    this.stopped.catch(() => undefined); // observed through race(); never unhandled
  }

  /** Register what was just opened; after a failure it is torn down at once. */
  add(name: string, resource: Resource): void {
    if (this.first) {
      this.done = this.done.then(() => this.down({ name, resource }));
      return;
    }
    if (this.closed) throw new Error(`teardown: ${name} was registered after the run ended (a bug in sluice)`);
    this.held.push({ name, resource });
  }

  /** `register` for openers that take one (`Register`). */
  readonly register: Register = (name, resource) => this.add(name, resource);

  /**
   * Fail with `err` unless already failed, and tear everything down. Resolves once every
   * resource registered so far is torn down (never rejects).
   */
  fail(err: unknown): Promise<void> {
    if (!this.first) {
      this.first = { error: err ?? new Error('unknown failure') };
      this.reject(this.first.error);
      const all = this.held.splice(0).reverse();
      const uncut = [...this.holding];
      this.done = this.done.then(async () => {
        await Promise.allSettled(uncut);
        for (const entry of all) await this.down(entry);
      });
    }
    return this.done;
  }

  /** The run has failed. */
  get failed(): boolean {
    return this.first !== undefined;
  }

  /** The first error, with the teardown failures that came after it attached (`suppressedOf`); undefined before a failure. */
  get error(): unknown {
    if (!this.first) return undefined;
    const { error } = this.first;
    if (this.later.length && error !== null && typeof error === 'object') {
      Object.defineProperty(error, SUPPRESSED, { value: [...this.later], configurable: true, enumerable: false });
    }
    return error;
  }

  /** Throw the first error, if there is one (between start-up steps). */
  throwIfFailed(): void {
    if (this.first) throw this.first.error;
  }

  /** Wait for `work` unless the run fails first. */
  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.stopped]);
  }

  /** `work` must not be cut: a failure while it runs tears down only once it settled. */
  async hold<T>(work: Promise<T>): Promise<T> {
    this.holding.add(work);
    try {
      return await work;
    } finally {
      this.holding.delete(work);
    }
  }

  /**
   * The run succeeded: release what is held, in reverse order, each once. Returns the release
   * failures (the run's outputs are committed by now: they are reported, not thrown). After a
   * failure it only waits for the teardown.
   */
  async close(): Promise<TeardownFailure[]> {
    if (this.first) {
      await this.done;
      return [];
    }
    this.closed = true;
    const failures: TeardownFailure[] = [];
    for (const { name, resource } of this.held.splice(0).reverse()) {
      try {
        await resource.release?.();
      } catch (err) {
        failures.push(new TeardownFailure(name, err));
      }
    }
    return failures;
  }

  private async down({ name, resource }: { name: string; resource: Resource }): Promise<void> {
    try {
      await resource.abort(this.first?.error);
    } catch (err) {
      this.later.push(new TeardownFailure(name, err));
    }
  }
}
