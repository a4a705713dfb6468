/**
 * Hosts one copy of a stage: loads its module, runs setup once, process per batch and
 * flush once. It does not know its transport; the inline executor, the thread entry and
 * the child-process entry all wrap this same class.
 */
import { installFastVectorFromArray } from '../batch/fast-from-array';
import { installFastStringToArray } from '../batch/fast-to-array';
import { installLeftOutGuard, onStagesBehalf, refuseEnumeration, withLeftOut } from '../batch/left-out-guard';
import { buildTable } from '../batch/table';
import { RecordBatch, Table } from 'apache-arrow';
import type pl from 'nodejs-polars';
import type { Logger } from 'pino';
import { wellFormedEmpty } from '../batch/empty';
import { batchToDataFrame, conversions, dataFrameToBatches, dataFrameToSlab, isDataFrame } from '../batch/polars';
import { frameOf, handoffs, handsOnAsIs, materialise, rowCount, standIn, stillAFrame } from '../batch/frame-handoff';
import { FrameReclaimer } from '../batch/reclaim';
import type { Backing, Lease } from '../batch/owned';
import { SlabArena } from '../batch/slab';
import { STRICT_SLABS, keptBatchMessage, movedOn, noteInput, staleMemory } from '../batch/generation';
import { buildUtf8, readStrings } from '../batch/strings';
import { StageError, type BatchLocation } from '../errors';
import type { StageContext, StageDefinition, StageResult } from './api';
import { loadStageDefinition } from './load';
import { RejectScope, rejectScope } from './reject-rows';
import type { StageReject } from '../protocol/rejects';

export interface HostOptions {
  stage: string;
  /** Absolute path of the stage module. */
  modulePath: string;
  options: Record<string, unknown>;
  /** The run's params (absent: none). */
  params?: Record<string, string | number | boolean>;
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
  /** The single output batch is exactly the IPC file a returned DataFrame was written as. */
  backing?: Backing;
  /** Rows of the input the stage rejected with `ctx.reject` (absent: none). */
  rejected?: StageReject[];
}

/** What a task gives the host: its batches and, when known, where the (single) batch's bytes lie. */
export interface HostInput {
  batches: readonly RecordBatch[];
  backing?: Backing;
}

export class StageHost {
  private setupDone: Promise<void> | undefined;
  /** Frees the native memory of polars frames a task left behind (see batch/reclaim.ts). */
  private readonly reclaimer: FrameReclaimer;
  /** Slabs that returned DataFrames are converted into, reused once released. */
  private readonly arena = new SlabArena();
  private lastOutputBytes = 0;
  /** The task running now: `ctx.toDataFrame` reads its batch's IPC bytes in place when it has them. */
  private current: HostInput | undefined;
  /** Columns the source left out that this stage would have received (batch/left-out-guard.ts). */
  private leftOut: ReadonlySet<string> | undefined;

  private constructor(
    private readonly definition: StageDefinition,
    readonly ctx: StageContext,
  ) {
    // On the main thread, after every task that used polars, within a quarter of its time: a
    // whole row group's frames are garbage after each (issue 28's job: 3 members × 4 row groups),
    // and waiting for 128 MiB of growth first left that job's peak RSS at 215-222 MB; collecting
    // each time, 173-186 MB at no more CPU (freed pages are reused instead of faulted in anew).
    // Budgets of 5 % and 10 % stopped a third to half of them on a loaded machine (194-229 MB).
    // (1 M flights, load 12-15, 3 runs each.)
    this.reclaimer = new FrameReclaimer(ctx.mode === 'inline' ? { growthBytes: 0, budget: 0.25 } : { growthBytes: 64 * 1024 * 1024 });
  }

  /** Load the stage module; rejects with a StageError (phase `load`) naming the module. */
  static async load(opts: HostOptions): Promise<StageHost> {
    installFastStringToArray(); // the obvious `column.toArray()` on strings, fast (batch/fast-to-array.ts)
    installFastVectorFromArray(opts.modulePath); // and the obvious `tableFromArrays` of strings (batch/fast-from-array.ts)
    installLeftOutGuard(); // asking for a column projection pushdown left out, or learning the column list, fails (batch/left-out-guard.ts)
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
      // Frozen: inline copies share one object, and no stage may change another's view.
      params: Object.freeze({ ...opts.params }),
      copy: opts.copy,
      copies: opts.copies,
      mode: opts.mode,
      log: opts.log,
      toDataFrame: (batch) => {
        // A DataFrame shows every column (df.columns, pl.all(), unique()), past any guard of ours.
        refuseEnumeration(batch, 'ctx.toDataFrame(batch): a DataFrame shows every column');
        // The frame the stage before this one returned, handed on (batch/frame-handoff.ts): a
        // clone (its columns shared, not copied), so neither stage's in-place changes reach the other.
        const handed = frameOf(batch);
        if (handed) {
          handoffs.taken++;
          return handed.clone();
        }
        return onStagesBehalf(() => batchToDataFrame(batch, host.current?.batches.length === 1 && host.current.batches[0] === batch ? host.current.backing : undefined));
      },
      fromDataFrame: dataFrameToBatches,
      strings: (batch, column) => onStagesBehalf(() => readStrings(batch, column)),
      utf8: buildUtf8,
      table: buildTable,
      reject: (rows, reason) => {
        const scope = rejectScope.getStore();
        if (!scope || scope.host !== host) throw new Error(`ctx.reject(rows, reason) names rows of the batch process() is running on, so it is for process() only (stage "${opts.stage}" called it outside process(): in setup, flush or combine, or from a callback process() did not await)`);
        scope.add(rows, reason);
      },
    };
    const host: StageHost = new StageHost(definition, ctx);
    return host;
  }

  /**
   * Whether the stage must run as one copy: it holds state across batches (it defines
   * `flush`) and has not declared each copy's flushed output complete (`perCopyFlush`).
   */
  get stateful(): boolean {
    return typeof this.definition.flush === 'function' && this.definition.perCopyFlush !== true && typeof this.definition.combine !== 'function';
  }

  /**
   * The columns the source left out (projection pushdown) that this stage would have received:
   * asking a batch for one by name in `process` throws, naming it. Told after the copies started
   * (the checks find the projection while they boot); the same for every task after.
   */
  leaveOut(columns: readonly string[]): void {
    this.leftOut = columns.length ? new Set(columns) : undefined;
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

  /**
   * Run `process` over each batch; `seq`/`sourceFile` only label errors. `taskRows`: the input's
   * rows are the task's, one to one (false for a fused member after one that changed the row
   * count), so a rejected row's position in the task is known. `handOn`: the output goes to the
   * next stage in this thread (a fused group's next member), so a DataFrame it returns is handed
   * on as it is where that changes no value (batch/frame-handoff.ts).
   */
  async process(input: HostInput, seq?: number, sourceFile?: string, taskRows = true, handOn = false): Promise<HostOutput> {
    await this.setup();
    const polarsBefore = polarsUse();
    const out: RecordBatch[] = [];
    const born: Lease[] = [];
    let backing: Backing | undefined;
    const moved = STRICT_SLABS ? movedOn(input.batches.filter((b) => !stillAFrame(b))) : undefined;
    if (moved) throw new StageError({ stage: this.ctx.stage, copy: this.ctx.copy, seq, sourceFile }, 'process', new Error(`its input batch lies in memory that is not its own any more: ${moved} before the stage got it (an ownership bug in sluice; SLUICE_STRICT_SLABS)`));
    this.current = input;
    const frames = input.batches.filter(stillAFrame);
    const inputSlabs = noteInput(input.batches.filter((b) => !stillAFrame(b)));
    const rejected: StageReject[] = [];
    let offset = 0;
    try {
      for (const batch of input.batches) {
        const scope = new RejectScope(this, batch);
        try {
          const result = await rejectScope.run(scope, () => withLeftOut(batch, this.leftOut, this.definition.passesOnUnlisted !== true, () => this.definition.process(batch, this.ctx)));
          rejected.push(...scope.close(this.ctx.stage, taskRows ? offset : undefined));
          offset += rowCount(batch);
          // A handed-on frame the stage read as a batch, or returned as it is (made real here, before the
          // check below walks it), lies in a slab of the stage before, held for this call: this call's input.
          for (const f of frames) {
            if (result === f || (Array.isArray(result) && result.includes(f))) materialise(f);
            if (!stillAFrame(f)) for (const slab of noteInput([f])) inputSlabs.add(slab);
          }
          checkNotKept(result, inputSlabs);
          const handed = handOn && input.batches.length === 1 ? this.handOn(result, born) : undefined;
          out.push(...(handed ?? this.toRecordBatches(result, born, (b) => (backing = b))));
        } catch (err) {
          scope.end(); // a late ctx.reject of this failed attempt throws; its rows count nowhere
          throw new StageError({ stage: this.ctx.stage, copy: this.ctx.copy, seq, sourceFile }, 'process', err);
        }
      }
    } catch (err) {
      for (const lease of born) lease.release();
      throw err;
    } finally {
      this.current = undefined;
    }
    // After tasks that went through polars (ctx.toDataFrame or fromDataFrame, a DataFrame
    // returned): a stage of plain JavaScript pays nothing. Every mode: since returned frames
    // go straight into slabs, even the main thread allocates too little JavaScript per batch
    // for V8 to collect on its own (it grew by 450 MB/s in the example job).
    if (polarsUse() !== polarsBefore) await this.reclaimer.afterTask();
    return { batches: out, born: allOf(born), backing: out.length === 1 ? backing : undefined, ...(rejected.length > 0 && { rejected }) };
  }

  /**
   * A single DataFrame returned, whose columns come back from Arrow as they are: a batch standing
   * for it (batch/frame-handoff.ts), converted into a slab of this host's only if something reads
   * it as a batch, its lease then in `born`. Undefined for anything else (converted as usual).
   */
  private handOn(result: StageResult, born: Lease[]): RecordBatch[] | undefined {
    const df = Array.isArray(result) ? (result.length === 1 ? result[0] : undefined) : result;
    if (!isDataFrame(df) || !handsOnAsIs(df)) return undefined;
    let lease: Lease | undefined;
    let released = false;
    born.push({
      release: () => {
        released = true;
        lease?.release();
      },
    });
    return [
      standIn(df, () => {
        // The next stage's call holds `born` until the chain's caller took its own hold: a read after is a bug of ours.
        if (released) throw new Error(`internal: the frame stage "${this.ctx.stage}" handed on was read as a batch after its hold was given up`);
        const converted = dataFrameToSlab(df, this.arena, Math.ceil(this.lastOutputBytes * 1.1), true);
        this.lastOutputBytes = converted.bytes;
        lease = converted.lease;
        if (converted.batches.length !== 1) throw new Error(`internal: a handed-on frame of stage "${this.ctx.stage}" became ${converted.batches.length} batches`);
        return converted.batches[0];
      }),
    ];
  }

  async flush(): Promise<HostOutput> {
    await this.setup();
    return this.outputOf(() => this.definition.flush?.(this.ctx), { stage: this.ctx.stage, copy: this.ctx.copy }, 'flush');
  }

  /** Whether the stage merges its copies' flushed results (`combine`). */
  get combines(): boolean {
    return typeof this.definition.combine === 'function';
  }

  /** `combine` over every copy's flushed batches (on the main thread, once). */
  combine(partials: RecordBatch[]): Promise<HostOutput> {
    return this.outputOf(() => this.definition.combine!(partials, this.ctx), { stage: this.ctx.stage }, 'combine');
  }

  /** What a flush or combine returned, as batches with their leases; a throw blamed on `phase`. */
  private async outputOf(run: () => StageResult | Promise<StageResult>, where: BatchLocation, phase: 'flush' | 'combine'): Promise<HostOutput> {
    const born: Lease[] = [];
    let backing: Backing | undefined;
    try {
      const result = await run();
      checkNotKept(result, new Set());
      const batches = this.toRecordBatches(result, born, (b) => (backing = b));
      return { batches, born: allOf(born), backing: batches.length === 1 ? backing : undefined };
    } catch (err) {
      for (const lease of born) lease.release();
      throw new StageError(where, phase, err);
    }
  }

  /**
   * A returned DataFrame goes into a slab (its lease joins `born`, its IPC file's place goes to
   * `onBacking`); anything else as toRecordBatches does.
   */
  private toRecordBatches(result: StageResult, born: Lease[], onBacking: (b: Backing | undefined) => void): RecordBatch[] {
    return toRecordBatches(result, (df) => {
      const converted = dataFrameToSlab(df, this.arena, Math.ceil(this.lastOutputBytes * 1.1));
      this.lastOutputBytes = converted.bytes;
      born.push(converted.lease);
      onBacking(converted.backing);
      return converted.batches;
    });
  }
}

/**
 * What a worker entry reports for a failed task: the StageError the host threw, or anything
 * else (a failure of the entry itself) as a StageError of `phase` at `location`.
 */
export function asStageError(err: unknown, location: BatchLocation, phase: StageError['phase']): StageError {
  return err instanceof StageError ? err : new StageError(location, phase, err);
}

/**
 * Throws when what the stage returned points into a slab that is not its current input's and
 * was reused or released since the stage got it (a batch kept past process() without a copy).
 */
function checkNotKept(result: StageResult, inputSlabs: ReadonlySet<SharedArrayBuffer>): void {
  if (result === undefined || result === null) return;
  const batches: RecordBatch[] = [];
  for (const part of Array.isArray(result) ? result : [result]) {
    if (RecordBatch.isRecordBatch(part)) batches.push(part);
    else if (Table.isTable(part)) batches.push(...part.batches);
  }
  const why = batches.length ? staleMemory(batches, inputSlabs) : undefined;
  if (why) throw new Error(keptBatchMessage(why));
}

/** Conversions and frames handed on in this thread: a task that changed it left polars frames behind. */
function polarsUse(): number {
  return conversions.count + handoffs.frames + handoffs.taken;
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
