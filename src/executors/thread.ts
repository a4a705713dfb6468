/**
 * thread mode: a piscina pool of `copies` worker threads. A batch crosses as a descriptor
 * of SharedArrayBuffer slabs (0 bytes copied by the hand-off); results come back the same
 * way, and the lease on their slabs goes with them to the next holder.
 *
 * Piscina rejects a task whose thread dies, but a thread can also die between tasks
 * (an error thrown from a timer) and piscina would quietly replace it, losing the copy's
 * state: we watch for that ourselves and end the run (see piscina#304 for why we do not
 * trust a task's promise alone).
 */
import path from 'node:path';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import { adoptShared, fromShared, toShared } from '../batch/shared';
import { SlabArena } from '../batch/slab';
import { StageError, WorkerExitError, deserializeError, type SluiceError } from '../errors';
import { checkOptionsCloneable } from './options';
import { loaderExecArgv, OWN_EXT } from '../loader';
import { forwardLogLine } from '../log';
import type { PlannedStage } from '../plan/types';
import type { ThreadLogEvent, ThreadResult, ThreadTask, ThreadWorkerData } from '../protocol/thread';
import type { Item, StageExecutor, StageOutput, TransportStats } from './types';

const ENTRY = path.join(__dirname, '..', 'worker', `thread-entry${OWN_EXT}`);
/** How long `setup`/`flush` may take in the slowest copy before the run fails instead of waiting. */
const EVERY_COPY_TIMEOUT_MS = 10 * 60_000;

export class ThreadExecutor implements StageExecutor {
  readonly mode = 'thread' as const;
  readonly stage: string;
  readonly copies: number;
  readonly slots: number;
  private pool: Piscina | undefined;
  private readonly arena: SlabArena;
  private readonly log: Logger;
  private readonly fatal: ((err: SluiceError) => void)[] = [];
  private readonly counters: TransportStats = { bytesCopied: 0, bytesPacked: 0, bytesSerialized: 0 };
  private stopping = false;

  constructor(
    private readonly planned: PlannedStage,
    deps: { log: Logger; arena?: SlabArena },
  ) {
    this.stage = planned.name;
    this.copies = planned.copies;
    this.slots = planned.copies;
    this.arena = deps.arena ?? new SlabArena();
    this.log = deps.log.child({ stage: planned.name });
  }

  async start(): Promise<void> {
    checkOptionsCloneable(this.stage, 'thread', this.planned.options);
    const workerData: ThreadWorkerData = {
      stage: this.planned.name,
      modulePath: this.planned.modulePath,
      options: this.planned.options,
      copies: this.copies,
      logLevel: this.log.level,
      copyCounter: new SharedArrayBuffer(4),
    };
    const pool = new Piscina({
      filename: ENTRY,
      minThreads: this.copies,
      maxThreads: this.copies,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      maxQueue: 'auto',
      atomics: 'disabled',
      execArgv: loaderExecArgv(this.planned.modulePath),
      workerData,
    });
    this.pool = pool;
    pool.on('message', (m: ThreadLogEvent) => {
      if (m?.type === 'sluice:log') forwardLogLine(this.log, m.line);
    });
    pool.on('error', (err: Error) => this.report(new WorkerExitError({ stage: this.stage }, { detail: err.message })));
    // A task's own rejection names its batch; it arrives right after this event, so wait a turn.
    pool.on('workerDestroy', () => setImmediate(() => this.report(new WorkerExitError({ stage: this.stage }, { detail: 'a worker thread stopped' }))));
    const results = await this.everyCopy('setup');
    const failed = results.find((r) => r.type === 'error');
    if (failed && failed.type === 'error') throw this.stageError(failed, {});
  }

  async process(item: Item): Promise<StageOutput> {
    const packed = toShared(item.batches, this.arena);
    this.counters.bytesPacked += packed.packedBytes;
    try {
      const task: ThreadTask = { type: 'process', seq: item.seq, sourceFile: item.sourceFile, input: packed.shared };
      const result = await this.run(task, item);
      if (result.type === 'error') throw this.stageError(result, item);
      this.counters.bytesPacked += result.packedBytes;
      this.counters.bytesCopied += result.copiedBytes;
      return { batches: fromShared(result.output!), lease: adoptShared(result.output!) };
    } finally {
      packed.lease.release();
    }
  }

  async flush(): Promise<StageOutput[]> {
    const results = await this.everyCopy('flush');
    const outputs: StageOutput[] = [];
    for (const r of results) {
      if (r.type === 'error') throw this.stageError(r, {});
      outputs.push(r.output ? { batches: fromShared(r.output), lease: adoptShared(r.output) } : { batches: [] });
    }
    return outputs;
  }

  async close(): Promise<void> {
    this.stopping = true;
    await this.pool?.destroy();
  }

  async abort(): Promise<void> {
    this.stopping = true;
    await this.pool?.destroy().catch(() => undefined);
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

  private async everyCopy(type: 'setup' | 'flush'): Promise<ThreadResult[]> {
    const barrier = new SharedArrayBuffer(4);
    const tasks = Array.from({ length: this.copies }, () => this.run({ type, barrier, copies: this.copies, timeoutMs: EVERY_COPY_TIMEOUT_MS }, {}));
    return Promise.all(tasks);
  }

  /** piscina rejects only when the thread itself failed: that is a worker exit, not a stage error. */
  private async run(task: ThreadTask, where: Partial<Item>): Promise<ThreadResult> {
    if (!this.pool) throw new Error(`thread stage "${this.stage}" used before start()`);
    try {
      return (await this.pool.run(task)) as ThreadResult;
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      const code = /exited with code:? (-?\d+)/.exec(message);
      const location = { stage: this.stage, seq: where.seq, sourceFile: where.sourceFile };
      if (code) throw new WorkerExitError(location, { exitCode: Number(code[1]) });
      // Not an exit: the stage's code threw outside the task's promise (a timer, a callback,
      // a rejection nobody handled) and the error took its thread down.
      throw new StageError(location, task.type, err, 'an error thrown outside any task; it ended the worker thread');
    }
  }

  private stageError(r: Extract<ThreadResult, { type: 'error' }>, where: Partial<Item>): StageError {
    return new StageError({ stage: this.stage, copy: r.copy, seq: where.seq, sourceFile: where.sourceFile }, r.phase, deserializeError(r.cause));
  }

  private report(err: SluiceError): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const listener of this.fatal) listener(err);
  }
}
