/**
 * thread mode: `copies` worker threads, each a copy of its own (supervisor/piscina.ts: a
 * one-thread piscina pool), given batches least busy first. A batch crosses as a descriptor
 * of SharedArrayBuffer slabs (0 bytes copied by the hand-off); results come back the same
 * way, and the lease on their slabs goes with them to the next holder.
 *
 * A copy's thread that dies, in a task or between tasks (an error thrown from a timer), is
 * the copy's death: the task it ran fails naming stage, copy and batch, and a death between
 * tasks ends the run through `onFatal`.
 *
 * Fusion: a copy may parse its input from CSV text first (plan.parseIn), and may run several
 * adjacent stages in order (plan/fuse.ts; worker/chain.ts); a death then names the member.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { OwnedBatch, type KeyedSplit } from '../batch/owned';
import type { StageReject } from '../protocol/rejects';
import { adoptShared, backingOf, fromShared, toShared, type SharedBatches } from '../batch/shared';
import { SlabArena } from '../batch/slab';
import { isCsvChunk } from '../csv/item';
import { AbortedError, SluiceError, SourceError, StageError, type BatchLocation } from '../errors';
import { combineFlushed, memberStage, stageCombines } from './combine';
import { stageErrorOf } from '../supervisor/failure';
import { checkOptionsCloneable } from './options';
import { OWN_EXT } from '../loader';
import { forwardLogLine } from '../log';
import type { PlannedStage } from '../plan/types';
import type { ThreadLogEvent, ThreadResult, ThreadTask, ThreadWorkerData } from '../protocol/thread';
import { InputOrderFailures } from '../supervisor/input-order';
import { PiscinaCopy } from '../supervisor/piscina';
import { CopyDiedError, leastBusy, type CopyExit } from '../supervisor/types';
import { Copies, withRetries, type AttemptPolicy, type RetryStats } from '../supervisor/attempts';
import { afterLastAttempt, deathError } from '../supervisor/death';
import { whyNotReplayable } from './replay';
import { FirstFatal } from '../supervisor/first-fatal';
import { plannedSlots } from './slots';
import type { ParseStats, StageExecutor, TransportStats } from './types';

type Where = { seq?: number; sourceFile?: string };

const ENTRY = path.join(__dirname, '..', 'worker', `thread-entry${OWN_EXT}`);
type ThreadCopy = PiscinaCopy<ThreadTask, ThreadResult>;

export class ThreadExecutor implements StageExecutor {
  readonly mode = 'thread' as const;
  readonly stage: string;
  readonly copies: number;
  readonly slots: number;
  private copiesRunning: ThreadCopy[] = [];
  /** The copies, each replaced in place when it dies (retries) and the stage can be replayed. */
  private copySet: Copies<ThreadCopy> | undefined;
  private readonly policy: AttemptPolicy;
  /** Why a dead copy is not replaced (a stage with flush), once known at start(). */
  private notReplayable: string | undefined;
  private onMessage: ((m: unknown) => void) | undefined;
  private readonly arena: SlabArena;
  private readonly log: Logger;
  /** A copy's death outside any task: kept for a listener that comes later (the scheduler listens only once the run moves batches). */
  private readonly fatal = new FirstFatal<SluiceError>();
  private readonly counters: TransportStats = { bytesCopied: 0, bytesPacked: 0, bytesSerialized: 0 };
  private readonly parsing = { rows: 0, threads: new Set<number>() };
  /** A chunk that does not parse fails only once every chunk before it has settled. */
  private readonly failures = new InputOrderFailures();
  private runningMember: Int32Array[] = [];
  private stopping = false;
  /** abort() was called: results that still arrive are released, not handed out. */
  private aborted = false;
  /** Sent with every task (leaveOut); the copies take it from the first. */
  private leftOut: string[][] | undefined;

  constructor(
    private readonly planned: PlannedStage,
    deps: { log: Logger; arena?: SlabArena },
  ) {
    this.stage = planned.name;
    this.copies = planned.copies;
    this.slots = plannedSlots(planned, 1); // one task per thread at a time
    this.arena = deps.arena ?? new SlabArena();
    this.log = deps.log.child({ stage: planned.name });
    this.policy = { retries: planned.retries ?? 0, ...(planned.timeoutMs !== undefined && { timeoutMs: planned.timeoutMs }) };
  }

  async start(): Promise<void> {
    checkOptionsCloneable(this.stage, 'thread', this.planned.options);
    this.onMessage = (m: unknown) => {
      if ((m as ThreadLogEvent)?.type === 'sluice:log') forwardLogLine(this.log, (m as ThreadLogEvent).line);
    };
    // Fused: which member each copy is running (written by the copy), to name it if the copy dies.
    this.runningMember = Array.from({ length: this.copies }, () => new Int32Array(new SharedArrayBuffer(4)));
    this.copiesRunning = Array.from({ length: this.copies }, (_, copy) => this.newCopy(copy));
    this.copySet = new Copies(this.copiesRunning, {
      start: async (copy) => {
        this.log.warn({ copy }, 'replacing a copy that died');
        const c = this.newCopy(copy);
        await c.start();
        const r = await this.run(c, { type: 'setup' }, {});
        // Stopped meanwhile (the run failed elsewhere): the new copy must not outlive it.
        if (this.stopping) await c.kill();
        if (this.stopping) throw new AbortedError(`stage "${this.stage}" was stopped`);
        if (r.type === 'failed') throw this.stageError(r, 'setup', {});
        return c;
      },
      unreplaceable: () => this.notReplayable,
      retries: this.policy.retries,
    });
    // Whether a dead copy may be replaced is asked while the copies boot, not before: it may load
    // the stage module here, and the copies must not wait for that (early start, runtime/early-start.ts).
    const replayable = whyNotReplayable(this.planned).then((why) => void (this.notReplayable = why));
    await Promise.all([...this.copiesRunning.map((c) => c.start()), replayable]);
    const results = await this.everyCopy({ type: 'setup' });
    const failed = results.find((r) => r.type === 'failed');
    if (failed && failed.type === 'failed') throw this.stageError(failed, 'setup', {});
  }

  /** Copy `copy` (not started): a first one, or one replacing a dead one (the same ctx.copy). */
  private newCopy(copy: number): ThreadCopy {
    const workerData: ThreadWorkerData = {
      stage: this.planned.name,
      modulePath: this.planned.modulePath,
      options: this.planned.options,
      params: { ...this.planned.params },
      copy,
      copies: this.copies,
      logLevel: this.log.level,
      ...(this.planned.splitOut && { splitOut: this.planned.splitOut }),
      ...(this.planned.fused && { members: this.planned.fused.map((m) => ({ stage: m.name, modulePath: m.modulePath, options: m.options })), runningMember: this.runningMember[copy].buffer as SharedArrayBuffer }),
    };
    const c: ThreadCopy = new PiscinaCopy({ entry: ENTRY, workerData, copy, onMessage: this.onMessage });
    // A task's own rejection names its batch; it arrives right after this signal, so wait a turn.
    c.onDeath((exit) => setImmediate(() => this.onCopyDeath(c, exit)));
    return c;
  }

  /**
   * A death nobody asked for. With retries, a stage that can be replayed gets a new copy in its
   * place (its tasks are sent again by withRetries); otherwise the run stops with the death.
   */
  private onCopyDeath(c: ThreadCopy, exit: CopyExit): void {
    if (this.stopping || !this.copySet) return;
    this.copySet.died(
      c,
      (unreplaceable) => this.report(deathError(exit, this.where(c.copy, exit), 'process', { unreplaceable })),
      (err: unknown) => this.report(err instanceof SluiceError ? err : new StageError({ stage: this.stage, copy: c.copy }, 'setup', err)),
    );
  }

  leaveOut(perMember: readonly (readonly string[])[]): void {
    this.leftOut = perMember.some((m) => m.length) ? perMember.map((m) => [...m]) : undefined;
  }

  process(input: OwnedBatch): Promise<OwnedBatch> {
    if (!isCsvChunk(input.batches)) return this.processItem(input);
    // Chunks of CSV text, parsed in the copies (fusion), may fail in any order: the earliest bad
    // chunk in input order is the one reported, as when the source parses them one by one.
    return this.failures.track(this.processItem(input), (err) => err instanceof SourceError);
  }

  processOn(copy: number, input: OwnedBatch): Promise<OwnedBatch> {
    return this.processItem(input, 0, copy);
  }

  parsed(): ParseStats {
    return { rows: this.parsing.rows, threads: [...this.parsing.threads].sort((a, b) => a - b) };
  }

  /** `from`: the fused member the item enters at (0: the first); `on`: the copy it must run on (keyed routing), else the least busy. */
  private processItem(input: OwnedBatch, from = 0, on?: number): Promise<OwnedBatch> {
    return input.consume(async () => {
      // The input's own lease holds the slabs it already lies in while the thread reads them;
      // only buffers in ordinary memory are packed, into a slab this lease holds.
      const packed = toShared(input.batches, this.arena, { callerHolds: true, backing: input.backing });
      this.counters.bytesPacked += packed.packedBytes;
      try {
        const task: ThreadTask = { type: 'process', seq: input.seq, sourceFile: input.sourceFile, input: packed.shared, ...(from && { from }), ...(this.leftOut && { leftOut: this.leftOut }) };
        // More tasks than copies (the scheduler keeps to `slots`) wait in the least busy copy's queue.
        // A copy that dies under it (or times out) is replaced and the task sent again (retries).
        const result = await withRetries(this.copySet!, this.policy, {
          seq: input.seq,
          choose: () => (on === undefined ? leastBusy(this.copiesRunning, Infinity) : this.alive(on)),
          noCopy: () => this.noCopyFor(input),
          send: (copy) => copy.request(task),
          discard: (late) => {
            if (late.type === 'ok' && late.output) adopt(late.output, input.seq).release();
          },
          exhausted: (err, copy, attempts, unreplaceable) =>
            afterLastAttempt(deathError(err, this.where(copy.copy, err.exit, input), 'process', { attempts, unreplaceable }), {
              onError: this.planned.onError,
              attempts,
              unreplaceable,
              location: { stage: this.stage, seq: input.seq, sourceFile: input.sourceFile },
              replace: () => this.copySet!.replace(copy),
            }),
        }).catch((err: unknown) => {
          if (err instanceof SluiceError) throw err;
          throw new StageError({ stage: this.stage, seq: input.seq, sourceFile: input.sourceFile }, 'process', err);
        });
        if (result.type === 'failed') throw this.stageError(result, 'process', input);
        this.counters.bytesPacked += result.packedBytes;
        this.counters.bytesCopied += result.copiedBytes;
        if (result.parsedRows !== undefined) {
          this.parsing.rows += result.parsedRows;
          this.parsing.threads.add(result.threadId!);
        }
        // Cut by its copy for the keyed stage that reads it (plan/key-split.ts): the parts, and the copy of each.
        const split = result.split && this.planned.splitOut && { ...this.planned.splitOut, ...result.split };
        const output = adopt(result.output!, input.seq, input.sourceFile, split, result.rejected);
        // Nothing is handed out after abort(): a task its stop let finish gives its output back here.
        if (this.aborted) {
          output.release();
          throw new AbortedError(`stage "${this.stage}" was stopped`);
        }
        return output;
      } finally {
        packed.lease.release();
      }
    });
  }

  async flush(): Promise<OwnedBatch[]> {
    const members = this.planned.fused;
    if (!members) return combineFlushed(this.planned, await this.flushCopies({ type: 'flush' }), { log: this.log });
    // Fused stages flush one after another, as they would unfused: each member's flushed output
    // goes through the members after it; a member's `combine` merges its copies' partials here
    // first, and the merged output re-enters the copies after it.
    const out: OwnedBatch[] = [];
    try {
      for (let m = 0; m < members.length; m++) {
        const member = memberStage(this.planned, m);
        const combines = await stageCombines(member, { log: this.log });
        const flushed = await this.flushCopies({ type: 'flush', member: m, pipe: !combines });
        if (!combines) {
          out.push(...flushed);
          continue;
        }
        const merged = await combineFlushed(member, flushed, { log: this.log });
        for (const item of merged) out.push(m === members.length - 1 ? item : await this.processItem(item, m + 1));
      }
    } catch (err) {
      for (const o of out) o.release();
      throw err;
    }
    return out;
  }

  flushUnit(): Promise<OwnedBatch[]> {
    return this.flushCopies({ type: 'flush' });
  }

  async renew(): Promise<void> {
    const failed = (await this.everyCopy({ type: 'renew' })).find((r) => r.type === 'failed');
    if (failed && failed.type === 'failed') throw this.stageError(failed, 'setup', {});
  }

  /** A flush in every copy, its outputs adopted (all of them first: a failed copy must not strand what the others returned). */
  private async flushCopies(task: Extract<ThreadTask, { type: 'flush' }>): Promise<OwnedBatch[]> {
    const results = await this.everyCopy(task);
    const outputs = results.map((r) => (r.type === 'ok' && r.output ? adopt(r.output, -1) : OwnedBatch.plain(-1, [])));
    const failed = results.find((r) => r.type === 'failed');
    if (failed && failed.type === 'failed') {
      for (const out of outputs) out.release();
      throw this.stageError(failed, 'flush', {});
    }
    return outputs;
  }

  async close(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.copiesRunning.map((c) => c.close()));
  }

  async abort(): Promise<void> {
    this.stopping = true;
    this.aborted = true;
    await Promise.all(this.copiesRunning.map((c) => c.kill()));
  }

  onFatal(listener: (err: SluiceError) => void): void {
    this.fatal.listen(listener);
  }

  stats(): TransportStats {
    return { ...this.counters };
  }

  /** Arena statistics (slab reuse), for tests and the benchmarks. */
  get arenaStats() {
    return { ...this.arena.stats };
  }

  /** The stage a copy is running now: a fused member's own name (what it wrote last), else this stage's. */
  private stageIn(copy: number): string {
    const members = this.planned.fused;
    return members ? (members[Atomics.load(this.runningMember[copy], 0)]?.name ?? this.stage) : this.stage;
  }

  /** Copy `copy` when it is alive (a dead one's death is the error: noCopyFor). */
  private alive(copy: number): ThreadCopy | undefined {
    const c = this.copiesRunning[copy];
    if (c?.death && !(this.policy.retries > 0 && this.notReplayable === undefined)) throw deathError(c.death, this.where(copy, c.death), 'process');
    return c?.alive ? c : undefined;
  }

  /** No copy is alive to take the item: the first one's death is the error. */
  private noCopyFor(item: Where): never {
    const dead = this.copiesRunning.find((c) => c.death);
    if (dead) throw deathError(dead.death!, this.where(dead.copy, dead.death!, item), 'process');
    throw new Error(`thread stage "${this.stage}" used before start()`);
  }

  /** `setup` or a flush once in each copy (each copy is a pool of its own: no barrier needed). */
  private everyCopy(task: Extract<ThreadTask, { type: 'setup' | 'flush' | 'renew' }>): Promise<ThreadResult[]> {
    return Promise.all(this.copiesRunning.map((c) => this.run(c, task, {})));
  }

  /** A copy that dies while it runs the task is a worker exit, or the error that killed its thread. */
  private async run(copy: ThreadCopy, task: ThreadTask, where: Where): Promise<ThreadResult> {
    try {
      return await copy.request(task);
    } catch (err) {
      const location = { stage: this.stageIn(copy.copy), copy: copy.copy, seq: where.seq, sourceFile: where.sourceFile };
      // A renew loads the module again and runs its setup: a failure there is setup's.
      const phase = task.type === 'renew' ? 'setup' : task.type;
      if (err instanceof CopyDiedError) throw deathError(err, this.where(copy.copy, err.exit, where), phase);
      throw new StageError(location, phase, err);
    }
  }

  /**
   * A fused group's death from an error thrown outside any task: the member it came from is the
   * one its stack names (the copy may have moved on to the next member before it surfaced).
   */
  private where(copy: number, exit: CopyExit, item: Where = {}): BatchLocation {
    const from = exit.error !== undefined ? this.planned.fused?.find((m) => m.modulePath && String((exit.error as Error)?.stack ?? '').includes(m.modulePath)) : undefined;
    return { stage: from?.name ?? this.stageIn(copy), copy, seq: item.seq, sourceFile: item.sourceFile };
  }

  /** Retries, replacements and timeouts of this stage's copies (the run report). */
  retries(): RetryStats | undefined {
    const s = this.copySet?.stats;
    return s && (s.retried || s.replaced || s.timedOut) ? { ...s, batches: [...s.batches] } : undefined;
  }

  private stageError(r: Extract<ThreadResult, { type: 'failed' }>, phase: StageError['phase'], where: Where): SluiceError {
    return stageErrorOf(r.error, { stage: this.stage, seq: where.seq, sourceFile: where.sourceFile }, phase);
  }

  /** A death nobody asked for (close() and abort() ask): the first one is the run's, told now or to a listener that comes later. */
  private report(err: SluiceError): void {
    if (this.stopping) return;
    this.fatal.report(err);
  }
}

/** Take over a thread's result: main holds its slabs from here (one lease), the bytes' place kept. */
function adopt(shared: SharedBatches, seq: number, sourceFile?: string, split?: KeyedSplit, rejected?: StageReject[]): OwnedBatch {
  return new OwnedBatch({ seq, sourceFile, batches: fromShared(shared), lease: adoptShared(shared), backing: backingOf(shared), ...(split && { split }), ...(rejected && { rejected }) });
}
