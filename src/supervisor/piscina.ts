/**
 * One copy of a thread stage: a piscina pool of exactly one thread. Each copy is its own
 * pool, so the executor addresses a copy by itself (setup and flush go to each copy once; a
 * batch goes to the least busy one) and a stateful copy keeps its identity, with no
 * barrier across threads.
 *
 * Its thread's death is watched here rather than trusted to the task's promise: piscina
 * rejects a running task when its thread exits, but `process.exit()` inside a task can
 * leave it pending (piscina#304), and a thread that dies between tasks would be replaced
 * quietly, losing the copy's state. Either way it is this copy's one death signal.
 */
import type { Worker } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { copyEntry, copyExecArgv } from '../loader';
import { CopyDiedError, STOP_GRACE_MS, type CopyExit, type RequestCopy } from './types';
import { FirstFatal } from './first-fatal';

export interface PiscinaCopyOptions {
  entry: string;
  workerData: unknown;
  copy: number;
  /** Messages the thread posts outside any task (log lines). */
  onMessage?: (message: unknown) => void;
  /** See STOP_GRACE_MS. */
  stopGraceMs?: number;
}

export class PiscinaCopy<Req, Res> implements RequestCopy<Req, Res> {
  readonly copy: number;
  inFlight = 0;
  exit: CopyExit | undefined;
  private pool: Piscina | undefined;
  private thread: Worker | undefined;
  /** The uncaught error that is taking the thread down (its exit follows). */
  private error: unknown;
  private asked = false;
  /** kill() was called: no new work; what it cancels rejects with `killedWith` (or as a death). */
  private killing = false;
  private killedWith: Error | undefined;
  /** The one death signal, also for a listener registered after it (first-fatal.ts). */
  private readonly deaths = new FirstFatal<CopyExit>();
  private markDied!: (err: CopyDiedError) => void;
  /** Rejects when the thread dies (an uncaught error, or its exit): every pending request races it. */
  private readonly died = new Promise<never>((_, reject) => (this.markDied = reject));

  constructor(private readonly opts: PiscinaCopyOptions) {
    this.copy = opts.copy;
    this.died.catch(() => undefined);
  }

  get alive(): boolean {
    return this.thread !== undefined && this.death === undefined && !this.killing;
  }

  /** How the copy died (or is dying: an uncaught error before its exit), if it did. */
  get death(): CopyExit | undefined {
    return this.exit ?? (this.error !== undefined ? { exitCode: null, signal: null, error: this.error } : undefined);
  }

  async start(): Promise<void> {
    // Required here, when a thread copy starts: every run imports this module (executors/index.ts
    // switches on the mode), and a run without thread stages need not load piscina.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Piscina: Pool } = require('piscina') as typeof import('piscina');
    const pool = new Pool({
      filename: copyEntry(this.opts.entry),
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      atomics: 'disabled',
      execArgv: copyExecArgv(),
      workerData: this.opts.workerData,
      closeTimeout: this.opts.stopGraceMs ?? STOP_GRACE_MS,
    });
    this.pool = pool;
    if (this.opts.onMessage) pool.on('message', this.opts.onMessage);
    // piscina re-emits an error of an idle thread here; the thread's own listener below has it.
    pool.on('error', () => undefined);
    const thread = pool.threads[0]; // minThreads: 1 starts it in the constructor
    if (!thread) throw new Error('piscina started no thread');
    this.thread = thread;
    thread.on('error', (err) => {
      this.error ??= err;
      this.markDied(new CopyDiedError({ exitCode: null, signal: null, error: err }));
    });
    thread.on('exit', (exitCode) => {
      this.exit = { exitCode, signal: null, ...(this.error !== undefined && { error: this.error }) };
      this.markDied(new CopyDiedError(this.exit));
      if (!this.asked) this.deaths.report(this.exit!);
    });
  }

  async request(req: Req): Promise<Res> {
    if (!this.pool) throw new Error(`thread copy ${this.copy} used before start()`);
    if (this.death) throw new CopyDiedError(this.death);
    if (this.killing) throw new CopyDiedError({ exitCode: null, signal: null });
    this.inFlight++;
    try {
      return (await Promise.race([this.pool.run(req), this.died])) as Res;
    } catch (err) {
      // piscina rejects with the thread's own error (or "worker exited"): it died, say how.
      if (this.death) throw new CopyDiedError(this.death);
      // A task kill() cancelled (queued behind the one running): the kill's reason, a death.
      if (this.killing) throw this.killedWith ?? new CopyDiedError({ exitCode: null, signal: null });
      throw err;
    } finally {
      this.inFlight--;
    }
  }

  onDeath(listener: (exit: CopyExit) => void): void {
    this.deaths.listen(listener);
  }

  /** Every request is answered by now (the executor flushed): nothing is left to finish. */
  async close(): Promise<void> {
    await this.kill();
  }

  /**
   * Stop: tasks still queued are dropped, their requests rejecting with `why` (the watchdog's
   * CopyTimeoutError: a death, retried) or as a death, never with piscina's abort error (which
   * read as the stage's own error and failed the run when the watchdog killed a copy with a
   * task queued behind the hung one); the one running may finish (at most STOP_GRACE_MS: a
   * termination inside polars panics; what it answers then goes to the watchdog's `discard`, or
   * is released by an aborted executor), then the thread is terminated. A dead thread is not
   * waited for.
   */
  kill(why?: Error): Promise<void> {
    // Once: the watchdog's kill and the replacement's come one after the other, and the second
    // must wait out the first one's grace, not terminate the running task at once.
    return (this.stopped ??= this.stop(why));
  }

  private stopped: Promise<void> | undefined;

  private async stop(why: Error | undefined): Promise<void> {
    const running = this.alive && this.inFlight > 0;
    this.asked = true;
    this.killing = true;
    this.killedWith = why;
    const pool = this.pool;
    if (!pool) return;
    // piscina's close() cancels what is queued, waits for what runs (up to its closeTimeout,
    // then reports 'error', which is ignored above) and then destroys the pool.
    if (running) await pool.close({ force: true }).catch(() => undefined);
    await pool.destroy().catch(() => undefined);
  }
}
