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
import { CopyTimeoutError } from './death';
import { CopyDiedError, type RequestCopy } from './types';

export { CopyTimeoutError };

export interface AttemptPolicy {
  /** Attempts per request after the first. */
  retries: number;
  /** Longest one attempt may take; absent: no limit. */
  timeoutMs?: number;
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
  /** Attempts per request after the first (the stage's `retries`): 0, a death is the run's failure. */
  retries: number;
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

  /** Kill `copy` for taking too long: every request it owes rejects with `why` (a death, retried). */
  async killSlow(copy: C, why: CopyTimeoutError): Promise<void> {
    this.stats.timedOut++;
    await copy.kill(why);
  }

  /**
   * A copy died with nobody asking (between tasks, or under one): the same decision in every
   * mode. With retries and a stage that can be replayed, a new copy takes its place (the
   * requests it owed are sent again by withRetries, each to its own attempt count); otherwise
   * `fail(unreplaceable)` makes the run's error (supervisor/death.ts), saying why it was not
   * replaced when retries were asked for. A replacement that cannot start is `failed` with its error.
   */
  died(dead: C, fail: (unreplaceable: string | undefined) => void, failed: (err: unknown) => void): void {
    const why = this.opts.retries > 0 ? this.unreplaceable() : undefined;
    if (this.opts.retries > 0 && why === undefined) {
      this.replace(dead).catch(failed);
      return;
    }
    fail(why);
  }
}

export interface Attempt<C, R> {
  /** The batch's sequence number (the report lists the batches retried). */
  seq?: number;
  /** A live copy to send to (undefined: none is alive or coming; `noCopy` then). */
  choose(): C | undefined;
  noCopy(): never;
  /** Send the request to `copy`, as attempt number `attempt` (1, 2, …) of this batch. */
  send(copy: C, attempt: number): Promise<R>;
  /** An answer of a superseded attempt (the watchdog gave up on it; another attempt counts): release what it holds. */
  discard(late: R): void;
  /**
   * The last attempt died (a CopyDiedError, or the stage cannot be replayed: `unreplaceable`
   * says why): the error the run fails with, naming stage and batch (supervisor/death.ts). The
   * seam for `onError: 'dead-letter'`: a batch that killed its copy every time may go to the
   * dead-letter output here instead.
   */
  exhausted(err: CopyDiedError, copy: C, attempts: number, unreplaceable: string | undefined): Promise<R> | never;
}

/**
 * Send a request until an attempt answers, replacing the copies that die under it. A rejection
 * that is a CopyDiedError (in every mode: see types.ts) is a death, retried; anything else is
 * the stage's own answer and passes through.
 *
 * Attempt ids: each attempt is numbered and is a request of its own (its own promise; on a
 * child's wire its own task id), and the loop moves on only once it has settled: by its answer,
 * by its copy's death (the copy rejects what it owes at once, also when killed: `kill(why)`), or
 * by the watchdog, after which whatever it still answers goes to `discard`, never to the caller.
 * So a hung copy that answers after all cannot deliver its batch a second time, in any channel:
 * the caller gets one result per input, from the attempt that counted.
 */
export async function withRetries<C extends RequestCopy<unknown, unknown>, R>(copies: Copies<C>, policy: AttemptPolicy, a: Attempt<C, R>): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    // Chosen and sent in one synchronous step when a copy is there: the next request chosen
    // right after this one must see this copy's load (an await between them sent both to one copy).
    const copy = a.choose() ?? (await copies.pick(() => a.choose())) ?? a.noCopy();
    try {
      return await watched(copies, copy, a.send(copy, attempt), policy.timeoutMs, a.discard, a.seq);
    } catch (err) {
      if (!(err instanceof CopyDiedError)) throw err;
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
