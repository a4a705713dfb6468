/**
 * thread mode: `copies` worker threads, each a copy of its own (supervisor/piscina.ts: a
 * one-thread piscina pool), given batches least busy first. A batch crosses as a descriptor
 * of SharedArrayBuffer slabs (0 bytes copied by the hand-off); results come back the same
 * way, and the lease on their slabs goes with them to the next holder.
 *
 * A copy's thread that dies, in a task or between tasks (an error thrown from a timer), is
 * the copy's death: the task it ran fails naming stage, copy and batch, and a death between
 * tasks ends the run through `onFatal`.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { OwnedBatch } from '../batch/owned';
import { adoptShared, backingOf, fromShared, toShared, type SharedBatches } from '../batch/shared';
import { SlabArena } from '../batch/slab';
import { isCsvChunk } from '../csv/item';
import { SourceError, StageError, WorkerExitError, type BatchLocation, type SluiceError } from '../errors';
import { combineFlushed } from './combine';
import { stageErrorOf } from './failure';
import { checkOptionsCloneable } from './options';
import { OWN_EXT } from '../loader';
import { forwardLogLine } from '../log';
import type { PlannedStage } from '../plan/types';
import type { ThreadLogEvent, ThreadResult, ThreadTask, ThreadWorkerData } from '../protocol/thread';
import { PiscinaCopy } from '../supervisor/piscina';
import { CopyDiedError, leastBusy, type CopyExit } from '../supervisor/types';
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
  private readonly arena: SlabArena;
  private readonly log: Logger;
  private readonly fatal: ((err: SluiceError) => void)[] = [];
  private readonly counters: TransportStats = { bytesCopied: 0, bytesPacked: 0, bytesSerialized: 0 };
  private readonly parsing = { rows: 0, threads: new Set<number>() };
  /** The previous chunk's result, settled: a chunk that does not parse waits for every one before it. */
  private previous: Promise<unknown> = Promise.resolve();
  private stopping = false;

  constructor(
    private readonly planned: PlannedStage,
    deps: { log: Logger; arena?: SlabArena },
  ) {
    this.stage = planned.name;
    this.copies = planned.copies;
    this.slots = plannedSlots(planned, 1); // one task per thread at a time
    this.arena = deps.arena ?? new SlabArena();
    this.log = deps.log.child({ stage: planned.name });
  }

  async start(): Promise<void> {
    checkOptionsCloneable(this.stage, 'thread', this.planned.options);
    const onMessage = (m: unknown) => {
      if ((m as ThreadLogEvent)?.type === 'sluice:log') forwardLogLine(this.log, (m as ThreadLogEvent).line);
    };
    this.copiesRunning = Array.from({ length: this.copies }, (_, copy) => {
      const workerData: ThreadWorkerData = {
        stage: this.planned.name,
        modulePath: this.planned.modulePath,
        options: this.planned.options,
        params: { ...this.planned.params },
        copy,
        copies: this.copies,
        logLevel: this.log.level,
      };
      const c: ThreadCopy = new PiscinaCopy({ entry: ENTRY, workerData, copy, onMessage });
      // A task's own rejection names its batch; it arrives right after this signal, so wait a turn.
      c.onDeath((exit) => setImmediate(() => this.report(this.deathError(exit, { stage: this.stage, copy }, 'process'))));
      return c;
    });
    await Promise.all(this.copiesRunning.map((c) => c.start()));
    const results = await this.everyCopy('setup');
    const failed = results.find((r) => r.type === 'failed');
    if (failed && failed.type === 'failed') throw this.stageError(failed, 'setup', {});
  }

  process(input: OwnedBatch): Promise<OwnedBatch> {
    if (!isCsvChunk(input.batches)) return this.processItem(input);
    // Chunks of CSV text, parsed in the copies (fusion), may fail in any order: the earliest bad
    // chunk in input order is the one reported, as when the source parses them one by one.
    const previous = this.previous;
    const result = this.processItem(input).catch(async (err: unknown) => {
      if (err instanceof SourceError) await previous;
      throw err;
    });
    // Settled once this item and every item before it settled (not just the one before).
    this.previous = Promise.allSettled([previous, result]);
    return result;
  }

  parsed(): ParseStats {
    return { rows: this.parsing.rows, threads: [...this.parsing.threads].sort((a, b) => a - b) };
  }

  private processItem(input: OwnedBatch): Promise<OwnedBatch> {
    return input.consume(async () => {
      // The input's own lease holds the slabs it already lies in while the thread reads them;
      // only buffers in ordinary memory are packed, into a slab this lease holds.
      const packed = toShared(input.batches, this.arena, { callerHolds: true, backing: input.backing });
      this.counters.bytesPacked += packed.packedBytes;
      try {
        const task: ThreadTask = { type: 'process', seq: input.seq, sourceFile: input.sourceFile, input: packed.shared };
        // More tasks than copies (the scheduler keeps to `slots`) wait in the least busy copy's queue.
        const copy = leastBusy(this.copiesRunning, Infinity) ?? this.noCopyFor(input);
        const result = await this.run(copy, task, input);
        if (result.type === 'failed') throw this.stageError(result, 'process', input);
        this.counters.bytesPacked += result.packedBytes;
        this.counters.bytesCopied += result.copiedBytes;
        if (result.parsedRows !== undefined) {
          this.parsing.rows += result.parsedRows;
          this.parsing.threads.add(result.threadId!);
        }
        return adopt(result.output!, input.seq, input.sourceFile);
      } finally {
        packed.lease.release();
      }
    });
  }

  async flush(): Promise<OwnedBatch[]> {
    const results = await this.everyCopy('flush');
    // Adopt every copy's output first: a failed copy must not strand what the others returned.
    const outputs = results.map((r) => (r.type === 'ok' && r.output ? adopt(r.output, -1) : OwnedBatch.plain(-1, [])));
    const failed = results.find((r) => r.type === 'failed');
    if (failed && failed.type === 'failed') {
      for (const out of outputs) out.release();
      throw this.stageError(failed, 'flush', {});
    }
    return combineFlushed(this.planned, outputs, { log: this.log });
  }

  async close(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.copiesRunning.map((c) => c.close()));
  }

  async abort(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.copiesRunning.map((c) => c.kill()));
  }

  onFatal(listener: (err: SluiceError) => void): void {
    this.fatal.push(listener);
  }

  stats(): TransportStats {
    return { ...this.counters };
  }

  /** Arena statistics (slab reuse), for tests and the benchmarks. */
  get arenaStats() {
    return { ...this.arena.stats };
  }

  /** No copy is alive to take the item: the first one's death is the error. */
  private noCopyFor(item: Where): never {
    const dead = this.copiesRunning.find((c) => c.death);
    if (dead) throw this.deathError(dead.death!, { stage: this.stage, copy: dead.copy, seq: item.seq, sourceFile: item.sourceFile }, 'process');
    throw new Error(`thread stage "${this.stage}" used before start()`);
  }

  /** `setup` or `flush` once in each copy (each copy is a pool of its own: no barrier needed). */
  private everyCopy(type: 'setup' | 'flush'): Promise<ThreadResult[]> {
    return Promise.all(this.copiesRunning.map((c) => this.run(c, { type }, {})));
  }

  /** A copy that dies while it runs the task is a worker exit, or the error that killed its thread. */
  private async run(copy: ThreadCopy, task: ThreadTask, where: Where): Promise<ThreadResult> {
    try {
      return await copy.request(task);
    } catch (err) {
      const location = { stage: this.stage, copy: copy.copy, seq: where.seq, sourceFile: where.sourceFile };
      if (err instanceof CopyDiedError) throw this.deathError(err.exit, location, task.type);
      throw new StageError(location, task.type, err);
    }
  }

  /**
   * An uncaught error took the thread down: the stage's code threw outside the task's promise
   * (a timer, a callback, a rejection nobody handled); else it exited (process.exit).
   */
  private deathError(exit: CopyExit, location: BatchLocation, phase: StageError['phase']): SluiceError {
    if (exit.error !== undefined) return new StageError(location, phase, exit.error, 'an error thrown outside any task; it ended the worker thread');
    return new WorkerExitError(location, { exitCode: exit.exitCode });
  }

  private stageError(r: Extract<ThreadResult, { type: 'failed' }>, phase: StageError['phase'], where: Where): SluiceError {
    return stageErrorOf(r.error, { stage: this.stage, seq: where.seq, sourceFile: where.sourceFile }, phase);
  }

  private report(err: SluiceError): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const listener of this.fatal) listener(err);
  }
}

/** Take over a thread's result: main holds its slabs from here (one lease), the bytes' place kept. */
function adopt(shared: SharedBatches, seq: number, sourceFile?: string): OwnedBatch {
  return new OwnedBatch({ seq, sourceFile, batches: fromShared(shared), lease: adoptShared(shared), backing: backingOf(shared) });
}
