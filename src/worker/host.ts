/**
 * Hosts one copy of a stage: loads its module, runs setup once, process per batch and
 * flush once. It does not know its transport; the inline executor, the thread entry and
 * the child-process entry all wrap this same class.
 */
import { RecordBatch, Table } from 'apache-arrow';
import type pl from 'nodejs-polars';
import type { Logger } from 'pino';
import { wellFormedEmpty } from '../batch/empty';
import { batchToDataFrame, conversions, dataFrameToBatches, dataFrameToSlab, isDataFrame } from '../batch/polars';
import { FrameReclaimer } from '../batch/reclaim';
import type { Lease } from '../batch/shared';
import { SlabArena } from '../batch/slab';
import { buildUtf8, readStrings } from '../batch/strings';
import { StageError } from '../errors';
import type { StageContext, StageDefinition, StageResult } from './api';
import { loadStageDefinition } from './load';

export interface HostOptions {
  stage: string;
  /** Absolute path of the stage module. */
  modulePath: string;
  options: Record<string, unknown>;
  copy: number;
  copies: number;
  mode: 'inline' | 'thread' | 'process';
  log: Logger;
  /** How to load the module; `sluice/testing` passes one that gives a fresh module instance per run. */
  load?: (modulePath: string) => Promise<StageDefinition>;
}

/**
 * What a stage's process or flush returned, as record batches. A DataFrame it returned is
 * converted straight into a recycled slab (batch/polars.ts): `born` holds those slabs until
 * the caller has taken its own hold (a lease, a shared descriptor, a written frame), then
 * the caller releases it. Batches from anywhere else are the stage's own memory.
 */
export interface HostOutput {
  batches: RecordBatch[];
  born: Lease;
}

export class StageHost {
  private setupDone: Promise<void> | undefined;
  /** Frees the native memory of polars frames a task left behind (see batch/reclaim.ts). */
  private readonly reclaimer: FrameReclaimer;
  /** Slabs that returned DataFrames are converted into, reused once released. */
  private readonly arena = new SlabArena();
  private lastOutputBytes = 0;

  private constructor(
    private readonly definition: StageDefinition,
    readonly ctx: StageContext,
  ) {
    // The main thread's heap is larger (a full collection costs more): collect less often.
    this.reclaimer = new FrameReclaimer({ growthBytes: (ctx.mode === 'inline' ? 128 : 64) * 1024 * 1024 });
  }

  /** Load the stage module; rejects with a StageError (phase `load`) naming the module. */
  static async load(opts: HostOptions): Promise<StageHost> {
    const where = { stage: opts.stage, copy: opts.copy };
    let definition: StageDefinition;
    try {
      definition = await (opts.load ?? loadStageDefinition)(opts.modulePath);
    } catch (err) {
      throw new StageError(where, 'load', err);
    }
    const ctx: StageContext = {
      stage: opts.stage,
      options: opts.options,
      copy: opts.copy,
      copies: opts.copies,
      mode: opts.mode,
      log: opts.log,
      toDataFrame: batchToDataFrame,
      fromDataFrame: dataFrameToBatches,
      strings: readStrings,
      utf8: buildUtf8,
    };
    return new StageHost(definition, ctx);
  }

  /**
   * Whether the stage must run as one copy: it holds state across batches (it defines
   * `flush`) and has not declared each copy's flushed output complete (`perCopyFlush`).
   */
  get stateful(): boolean {
    return typeof this.definition.flush === 'function' && this.definition.perCopyFlush !== true;
  }

  /** Runs `setup` the first time it is called; later calls wait for that same run. */
  setup(): Promise<void> {
    this.setupDone ??= (async () => {
      try {
        await this.definition.setup?.(this.ctx);
      } catch (err) {
        throw new StageError({ stage: this.ctx.stage, copy: this.ctx.copy }, 'setup', err);
      }
    })();
    return this.setupDone;
  }

  /** Run `process` over each batch; `seq`/`sourceFile` only label errors. */
  async process(batches: readonly RecordBatch[], seq?: number, sourceFile?: string): Promise<HostOutput> {
    await this.setup();
    const conversionsBefore = conversions.count;
    const out: RecordBatch[] = [];
    const born: Lease[] = [];
    try {
      for (const batch of batches) {
        try {
          out.push(...this.toRecordBatches(await this.definition.process(batch, this.ctx), born));
        } catch (err) {
          throw new StageError({ stage: this.ctx.stage, copy: this.ctx.copy, seq, sourceFile }, 'process', err);
        }
      }
    } catch (err) {
      for (const lease of born) lease.release();
      throw err;
    }
    // After tasks that went through polars (ctx.toDataFrame or fromDataFrame, a DataFrame
    // returned): a stage of plain JavaScript pays nothing. Every mode: since returned frames
    // go straight into slabs, even the main thread allocates too little JavaScript per batch
    // for V8 to collect on its own (it grew by 450 MB/s in the example job).
    if (conversions.count !== conversionsBefore) await this.reclaimer.afterTask();
    return { batches: out, born: allOf(born) };
  }

  async flush(): Promise<HostOutput> {
    await this.setup();
    const born: Lease[] = [];
    try {
      return { batches: this.toRecordBatches(await this.definition.flush?.(this.ctx), born), born: allOf(born) };
    } catch (err) {
      for (const lease of born) lease.release();
      throw new StageError({ stage: this.ctx.stage, copy: this.ctx.copy }, 'flush', err);
    }
  }

  /** A returned DataFrame goes into a slab (its lease joins `born`); anything else as toRecordBatches does. */
  private toRecordBatches(result: StageResult, born: Lease[]): RecordBatch[] {
    return toRecordBatches(result, (df) => {
      const converted = dataFrameToSlab(df, this.arena, Math.ceil(this.lastOutputBytes * 1.1));
      this.lastOutputBytes = converted.bytes;
      born.push(converted.lease);
      return converted.batches;
    });
  }
}

function allOf(leases: Lease[]): Lease {
  return { release: () => leases.forEach((l) => l.release()) };
}

/** Normalise what a stage returned into record batches (empty ones kept: they carry the schema). */
export function toRecordBatches(result: StageResult, fromDataFrame: (df: pl.DataFrame) => RecordBatch[] = dataFrameToBatches): RecordBatch[] {
  if (result === undefined || result === null) return [];
  const parts = Array.isArray(result) ? result : [result];
  const out: RecordBatch[] = [];
  for (const part of parts) {
    // apache-arrow's own brands (a Symbol.for key): they hold across copies of the module,
    // and an object that merely looks like a batch is refused here, not deep in the IPC writer.
    if (RecordBatch.isRecordBatch(part)) out.push(wellFormedEmpty(part));
    else if (Table.isTable(part)) out.push(...part.batches.map(wellFormedEmpty));
    else if (isDataFrame(part)) out.push(...fromDataFrame(part));
    else throw new TypeError(`a stage must return a RecordBatch, a Table, a polars DataFrame, an array of them, or nothing (got ${describe(part)})`);
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}
