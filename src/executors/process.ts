/**
 * process mode: `copies` long-lived child processes, each hosting the stage through the
 * same StageHost as every other mode. Batches cross as Arrow IPC stream bytes inside
 * length-prefixed frames on a dedicated socket (never JSON, never structured clone).
 *
 * Pipelined: each child may hold the plan's `slotsPerCopy` tasks, and an I/O thread in the child
 * owns its end of the socket, so the next batch streams in and the last result streams
 * out while the stage computes (the socket is full duplex). Frames are written as chunk
 * lists (one writev, batch buffers uncopied) and read by the kernel straight into
 * recycled slabs on both sides; results carry a lease on their slab.
 *
 * Failure: a stage error comes back as a StageError; a child that exits, is killed or
 * crashes rejects every task it owed with a CopyDiedError, made the run's error (a
 * WorkerExitError: exit code or signal, last stderr lines) by supervisor/death.ts as in
 * thread mode, and, outside close/abort, is replaced (retries) or fires `onFatal`.
 */
import type { Logger } from 'pino';
import { encodeBatches } from '../batch/ipc';
import { SlabArena } from '../batch/slab';
import { checkOptionsCloneable } from './options';
import { AbortedError, type SluiceError, type WorkerExitError } from '../errors';
import { CopyDiedError, leastBusy, type CopyExit } from '../supervisor/types';
import { Copies, withRetries, type AttemptPolicy, type RetryStats } from '../supervisor/attempts';
import { afterLastAttempt, deathError } from '../supervisor/death';
import { whyNotReplayable } from './replay';
import { FirstFatal } from '../supervisor/first-fatal';
import type { PlannedStage } from '../plan/types';
import { ChildCopy } from '../supervisor/child';
import { combineFlushed } from './combine';
import type { OwnedBatch } from '../batch/owned';
import { plannedSlots } from './slots';
import type { StageExecutor, TransportStats } from './types';

export interface ProcessExecutorOptions {
  /** close(): how long children may take to finish before SIGTERM; default 10 s. */
  closeTimeoutMs?: number;
  /** After SIGTERM, how long before SIGKILL (and after SIGKILL, before giving up); default 2 s. */
  killTimeoutMs?: number;
}

type State = 'new' | 'starting' | 'running' | 'closing' | 'closed' | 'aborted';

export class ProcessExecutor implements StageExecutor {
  readonly mode = 'process' as const;
  readonly stage: string;
  readonly copies: number;
  readonly slots: number;
  private readonly tasksPerCopy: number;
  private readonly closeTimeoutMs: number;
  private readonly killTimeoutMs: number;
  private children: ChildCopy[] = [];
  /** The children, each replaced in place when it dies (retries) and the stage can be replayed. */
  private copySet: Copies<ChildCopy> | undefined;
  private readonly policy: AttemptPolicy;
  private notReplayable: string | undefined;
  private state: State = 'new';
  /** Sent with every task (leaveOut); each child takes it from its first. */
  private leftOut: string[] | undefined;
  /** A child's death outside close/abort: kept for a listener that comes later (the scheduler listens only once the run moves batches). */
  private readonly fatal = new FirstFatal<SluiceError>();
  private flushed = false;
  private readonly arena: SlabArena;

  constructor(
    private readonly planned: PlannedStage,
    private readonly deps: { log: Logger; arena?: SlabArena },
    opts: ProcessExecutorOptions = {},
  ) {
    this.arena = deps.arena ?? new SlabArena();
    this.stage = planned.name;
    this.copies = planned.copies;
    this.slots = plannedSlots(planned);
    this.tasksPerCopy = planned.slotsPerCopy;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 10_000;
    this.killTimeoutMs = opts.killTimeoutMs ?? 2_000;
    this.policy = { retries: planned.retries ?? 0, ...(planned.timeoutMs !== undefined && { timeoutMs: planned.timeoutMs }) };
  }

  /** Process ids of the children (tests, diagnostics). */
  get pids(): number[] {
    return this.children.map((c) => c.pid ?? -1);
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`process stage "${this.stage}": start() called twice`);
    checkOptionsCloneable(this.stage, 'process', this.planned.options);
    this.state = 'starting';
    this.children = Array.from({ length: this.copies }, (_, copy) => this.newChild(copy));
    this.copySet = new Copies(this.children, {
      start: async (copy) => {
        this.deps.log.warn({ stage: this.stage, worker: copy }, 'replacing a child process that died');
        const child = this.newChild(copy);
        await child.start();
        // Stopped meanwhile (the run failed elsewhere): the new child must not outlive it.
        if (this.state !== 'running') {
          await child.kill();
          throw new AbortedError(`stage "${this.stage}" was stopped`);
        }
        return child;
      },
      unreplaceable: () => this.notReplayable,
      retries: this.policy.retries,
    });
    const started = this.children.map((c) => c.start());
    // Whether a dead child may be replaced is asked while the children boot, not before: it may
    // load the stage module here, and spawning must not wait for it (early start: launched()).
    started.push(whyNotReplayable(this.planned).then((why) => void (this.notReplayable = why)));
    try {
      await Promise.all(started);
    } catch (err) {
      // Keep the other starts from rejecting unobserved, then take every child down.
      for (const s of started) s.catch(() => undefined);
      await this.abort();
      throw err;
    }
    if (this.state === 'starting') this.state = 'running';
  }

  /** Child `copy` (not started): a first one, or one replacing a dead one (the same ctx.copy). */
  private newChild(copy: number): ChildCopy {
    const init = { options: this.planned.options, logLevel: this.deps.log.level, timeouts: { closeMs: this.closeTimeoutMs, killMs: this.killTimeoutMs } };
    const child = new ChildCopy(this.planned, copy, this.deps.log.child({ stage: this.stage, worker: copy }), this.arena, init);
    child.onDeath((exit) => this.onChildGone(child, exit));
    return child;
  }

  /** Retries, replacements and timeouts of this stage's children (the run report). */
  retries(): RetryStats | undefined {
    const s = this.copySet?.stats;
    return s && (s.retried || s.replaced || s.timedOut) ? { ...s, batches: [...s.batches] } : undefined;
  }

  /** Settles once every child process exists (or failed to start); start() must have been called. */
  launched(): Promise<void> {
    return Promise.all(this.children.map((c) => c.spawned)).then(() => undefined);
  }

  leaveOut(perMember: readonly (readonly string[])[]): void {
    const columns = perMember[0] ?? [];
    this.leftOut = columns.length ? [...columns] : undefined;
  }

  process(input: OwnedBatch): Promise<OwnedBatch> {
    return this.processItem(input);
  }

  processOn(copy: number, input: OwnedBatch): Promise<OwnedBatch> {
    return this.processItem(input, copy);
  }

  /** `on`: the copy the item must run on (keyed routing), else the least busy. */
  private processItem(input: OwnedBatch, on?: number): Promise<OwnedBatch> {
    return input.consume(() => {
      if (this.state === 'aborted') throw new AbortedError(`stage "${this.stage}" was stopped`);
      if (this.state !== 'running') throw new Error(`process stage "${this.stage}": process() while ${this.state} (call start() first)`);
      const where = { stage: this.stage, seq: input.seq, sourceFile: input.sourceFile };
      // A child that dies under the task (or exceeds the timeout) is replaced and the task sent again (retries).
      return withRetries(this.copySet!, this.policy, {
        seq: input.seq,
        choose: () => (on === undefined ? leastBusy(this.children, this.tasksPerCopy) : leastBusy([this.children[on]], this.tasksPerCopy)),
        noCopy: () => {
          const dead = this.children.find((c) => !c.alive);
          if (dead) throw dead.exitError({ ...where, copy: dead.copy });
          throw new Error(`process stage "${this.stage}": more tasks than slots (${this.slots}) (scheduler bug)`);
        },
        // The chunks are views of the input's buffers: it is released after the last attempt,
        // which is after the child has read the whole frame.
        send: (child) => child.request({ message: { type: 'task', seq: input.seq, sourceFile: input.sourceFile, ...(this.leftOut && { leftOut: this.leftOut }) }, payload: encodeBatches(input.batches).chunks }),
        discard: (late) => late.release(),
        exhausted: (err, child, attempts, unreplaceable) =>
          afterLastAttempt(deathError(err, { ...where, copy: child.copy }, 'process', { attempts, unreplaceable }), {
            onError: this.planned.onError,
            attempts,
            unreplaceable,
            location: where,
            replace: () => this.copySet!.replace(child),
          }),
      });
    });
  }

  async flush(): Promise<OwnedBatch[]> {
    if (this.flushed) throw new Error(`process stage "${this.stage}": flush() called twice (flush runs once per copy)`);
    this.flushed = true;
    const settled = await Promise.allSettled(
      this.children.map((c) =>
        c.request({ message: { type: 'flush' }, payload: [] }).catch((err: unknown) => {
          throw err instanceof CopyDiedError ? deathError(err, { stage: this.stage, copy: c.copy }, 'flush') : err;
        }),
      ),
    );
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      for (const s of settled) if (s.status === 'fulfilled') s.value.release();
      throw failed.reason;
    }
    return combineFlushed(this.planned, settled.map((s) => (s as PromiseFulfilledResult<OwnedBatch>).value), { log: this.deps.log });
  }

  flushUnit(): Promise<OwnedBatch[]> {
    return this.askEvery('flush');
  }

  async renew(): Promise<void> {
    for (const empty of await this.askEvery('renew')) empty.release();
  }

  /** One request of `type` to every child; their answers, or the first failure (the others released). */
  private async askEvery(type: 'flush' | 'renew'): Promise<OwnedBatch[]> {
    const settled = await Promise.allSettled(
      this.children.map((c) =>
        c.request({ message: { type }, payload: [] }).catch((err: unknown) => {
          throw err instanceof CopyDiedError ? deathError(err, { stage: this.stage, copy: c.copy }, type === 'flush' ? 'flush' : 'setup') : err;
        }),
      ),
    );
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    const answers = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    if (failed) {
      for (const a of answers) a.release();
      throw failed.reason;
    }
    return answers;
  }

  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'aborted') return;
    this.state = 'closing';
    const unexpected: WorkerExitError[] = [];
    await Promise.all(
      this.children.map(async (c) => {
        await c.close();
        if (c.closedByItself && (c.exit!.exitCode !== 0 || c.exit!.signal)) unexpected.push(c.exitError({ stage: this.stage, copy: c.copy }));
      }),
    );
    this.state = 'closed';
    if (unexpected.length) throw unexpected[0];
  }

  async abort(): Promise<void> {
    if (this.state === 'aborted' || this.state === 'closed') return;
    this.state = 'aborted';
    const err = new AbortedError(`stage "${this.stage}" was stopped`);
    await Promise.all(this.children.map((c) => c.kill(err)));
  }

  /**
   * Resolves once every frame sent so far has left this process (the children took the
   * bytes). Diagnostics and tests: it shows transfer does not wait for a busy stage.
   */
  async written(): Promise<void> {
    await Promise.all(this.children.map((c) => c.written()));
  }

  onFatal(listener: (err: SluiceError) => void): void {
    this.fatal.listen(listener);
  }

  /** Peak RSS of each child process, as they reported it. */
  childPeakRss(): number[] {
    return this.children.map((c) => c.peakRssBytes);
  }

  stats(): TransportStats {
    let bytesSerialized = 0;
    let bytesCopied = 0;
    for (const c of this.children) {
      bytesSerialized += c.bytesSerialized;
      bytesCopied += c.bytesCopied;
    }
    // bytesCopied: result bytes copied from the read scratch into their slab (small frames and
    // the head of large ones); the kernel writes the rest of a large result into the slab itself.
    return { bytesCopied, bytesPacked: 0, bytesSerialized };
  }

  /**
   * A child that dies once it has started is the run's failure, also while the other copies are
   * still starting: start() then resolves (that child had), and the death must not be dropped,
   * or the run would go on with the children left. One that dies in its own start fails start().
   */
  private onChildGone(child: ChildCopy, exit: CopyExit): void {
    if (child.expectExit || this.fatal.reported || !child.started || (this.state !== 'running' && this.state !== 'starting')) return;
    const report = (err: SluiceError) => {
      this.deps.log.error({ stage: this.stage, worker: child.copy, err: err.message }, 'stage child process died');
      try {
        this.fatal.report(err);
      } catch (thrown) {
        this.deps.log.error({ stage: this.stage, err: (thrown as Error)?.message }, 'onFatal listener threw');
      }
    };
    // Still starting: its siblings' start decides; a replacement must wait for the run to move.
    if (this.state !== 'running' || !this.copySet) return report(deathError(exit, (child.diedUnder ?? { stage: this.stage, copy: child.copy }), 'process', { detail: child.lastWords() }));
    this.copySet.died(
      child,
      (unreplaceable) => report(deathError(exit, (child.diedUnder ?? { stage: this.stage, copy: child.copy }), 'process', { unreplaceable, detail: child.lastWords() })),
      (err: unknown) => report(err as SluiceError),
    );
  }
}
