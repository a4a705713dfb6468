/**
 * Retries and the watchdog, the same for every kind of copy that answers requests (a stage's
 * threads, its child processes): a request whose copy dies, or takes longer than the timeout
 * (the copy is then killed), is sent again, up to `retries` more times, on the copies left or
 * on the one that replaced the dead copy (the same index, so the same `ctx.copy`, started and
 * set up again). Only a copy's death is retried: a stage's own error is its answer.
 *
 * Exactly once: a request settles once, by its answer or by its copy's death, never both. A
 * late answer of an attempt the watchdog gave up on is dropped here (`discard`) and never
 * reaches a channel: the attempt that counts is the one whose answer came first.
 */
import { CopyDiedError, type RequestCopy } from './types';

export interface AttemptPolicy {
  /** Attempts per request after the first. */
  retries: number;
  /** Longest one attempt may take; absent: no limit. */
  timeoutMs?: number;
}

/** The watchdog gave up on a request: its copy was killed. */
export class CopyTimeoutError extends CopyDiedError {
  /** `seq`: the batch that got no answer (what the copy's other requests, killed with it, are told). */
  constructor(
    readonly timeoutMs: number,
    readonly seq?: number,
  ) {
    super({ exitCode: null, signal: null });
    this.message = `took longer than its timeout of ${timeoutMs} ms; the copy was killed`;
    this.name = 'CopyTimeoutError';
  }
}

/** What retries did, per stage (the run report shows it). */
export interface RetryStats {
  /** Requests sent again after their copy died or timed out. */
  retried: number;
  /** Copies started again in place of a dead one. */
  replaced: number;
  /** Attempts the watchdog ended. */
  timedOut: number;
  /** The sequence numbers of the batches sent again, in the order they were. */
  batches: number[];
}

export interface CopiesOptions<C> {
  /** A new copy at index `copy`, started and set up (rejects when its setup fails). */
  start(copy: number): Promise<C>;
  /** Why a copy of this stage cannot be replaced without losing what it holds (a stage with flush); undefined: it can. */
  unreplaceable?(): string | undefined;
  /** Kill a copy the watchdog gave up on; every request it owes must reject as a death (`isDeath`). Default: `copy.kill()`. */
  kill?(copy: C, why: CopyTimeoutError): Promise<void>;
}

/**
 * The copies of one stage, each replaceable in place. `list` is the executor's own array:
 * a replacement takes the dead copy's index in it.
 */
export class Copies<C extends RequestCopy<unknown, unknown>> {
  readonly stats: RetryStats = { retried: 0, replaced: 0, timedOut: 0, batches: [] };
  /** One replacement per dead copy, however many of its requests ask for it. */
  private readonly replacing = new Map<C, Promise<C>>();

  constructor(
    readonly list: C[],
    private readonly opts: CopiesOptions<C>,
  ) {}

  /** Why a dead copy cannot be replaced (undefined: it can). */
  unreplaceable(): string | undefined {
    return this.opts.unreplaceable?.();
  }

  /** The copy at `dead.copy`, killed (if it is not gone yet) and replaced by a new one; once, however many ask. */
  replace(dead: C): Promise<C> {
    let fresh = this.replacing.get(dead);
    if (!fresh) {
      fresh = (async () => {
        await dead.kill();
        const c = await this.opts.start(dead.copy);
        this.list[dead.copy] = c;
        this.stats.replaced++;
        return c;
      })();
      this.replacing.set(dead, fresh);
    }
    return fresh;
  }

  /** A copy `choose` picks, once one is there: while every copy is being replaced, after the first replacement. */
  async pick(choose: () => C | undefined): Promise<C | undefined> {
    for (;;) {
      const c = choose();
      if (c) return c;
      const pending = [...this.replacing].filter(([dead]) => this.list[dead.copy] === dead).map(([, p]) => p);
      if (!pending.length) return undefined;
      await Promise.race(pending);
    }
  }

  /** Kill `copy` for taking too long (its requests then reject as deaths). */
  async killSlow(copy: C, why: CopyTimeoutError): Promise<void> {
    this.stats.timedOut++;
    await (this.opts.kill ? this.opts.kill(copy, why) : copy.kill());
  }
}

export interface Attempt<C, R> {
  /** The batch's sequence number (the report lists the batches retried). */
  seq?: number;
  /** A live copy to send to (undefined: none is alive or coming; `noCopy` then). */
  choose(): C | undefined;
  noCopy(): never;
  /** Send the request to `copy`. */
  send(copy: C): Promise<R>;
  /** An answer that came after the watchdog gave up on its attempt: release what it holds. */
  discard(late: R): void;
  /** Does `err` (a rejection of `send`) mean the copy died? */
  isDeath(err: unknown): boolean;
  /**
   * The last attempt died (or the stage cannot be replayed: `unreplaceable` says why): the error
   * the run fails with, naming stage and batch. The seam for `onError: 'dead-letter'`: a
   * batch that killed its copy every time may go to the dead-letter output here instead.
   */
  exhausted(err: unknown, copy: C, attempts: number, unreplaceable: string | undefined): Promise<R> | never;
}

/** Send a request until an attempt answers, replacing the copies that die under it. */
export async function withRetries<C extends RequestCopy<unknown, unknown>, R>(copies: Copies<C>, policy: AttemptPolicy, a: Attempt<C, R>): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    // Chosen and sent in one synchronous step when a copy is there: the next request chosen
    // right after this one must see this copy's load (an await between them sent both to one copy).
    const copy = a.choose() ?? (await copies.pick(() => a.choose())) ?? a.noCopy();
    try {
      return await watched(copies, copy, a.send(copy), policy.timeoutMs, a.discard, a.seq);
    } catch (err) {
      if (!a.isDeath(err)) throw err;
      const why = policy.retries > 0 ? copies.unreplaceable() : undefined;
      if (attempt > policy.retries || why !== undefined) return a.exhausted(err, copy, attempt, why);
      copies.stats.retried++;
      if (a.seq !== undefined) copies.stats.batches.push(a.seq);
      // Its other requests (the queue of a thread, the pipeline of a child) die with it and come here too.
      await copies.replace(copy);
    }
  }
}

/**
 * `work`, or the error `expired()` makes once `ms` passed (undefined: no limit); a result that
 * comes after that is given to `discard` (released, never delivered). The timer is not unref'd:
 * a request the run waits on keeps it alive until the deadline ends it. One watchdog for every
 * mode: a copy's request here (the copy is killed), an inline stage's promise (inline.ts).
 */
export function withDeadline<R>(work: Promise<R>, ms: number | undefined, expired: () => Error, discard: (late: R) => void): Promise<R> {
  if (ms === undefined) return work;
  let gaveUp = false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      gaveUp = true;
      reject(expired());
    }, ms);
  });
  work.then(
    (late) => {
      clearTimeout(timer);
      if (gaveUp) discard(late);
    },
    () => clearTimeout(timer),
  );
  return Promise.race([work, timeout]);
}

/** A copy's request under its stage's timeout: past it the copy is killed (an attempt, see retries). */
function watched<C extends RequestCopy<unknown, unknown>, R>(copies: Copies<C>, copy: C, work: Promise<R>, ms: number | undefined, discard: (late: R) => void, seq: number | undefined): Promise<R> {
  return withDeadline(
    work,
    ms,
    () => {
      const err = new CopyTimeoutError(ms!, seq);
      void copies.killSlow(copy, err);
      return err;
    },
    discard,
  );
}
