/**
 * Parquet encoding as a stage of the topology, not a scheduler beside it (as in Ray Data,
 * where a write is an operator like any other). The plan puts it last before a Parquet sink:
 * it takes the sink's input, cuts it into exact row groups and has its threads encode each as
 * a small whole Parquet file, and passes the parts on as its output, which the sink appends in
 * order. So its memory is in the plan's bound, its busy / idle / blocked time in the report and
 * the live display, its threads in `explain`, and a failure is the run's like any stage's.
 *
 * The same stage is the whole of a plain CSV → Parquet conversion: the source yields checked
 * chunks of CSV text and the threads parse and encode them, no Arrow in between. A chunk of
 * `rowGroupSize` rows is a row group of its own (encoded in parallel with the others); the
 * shorter chunks small files end in are joined into one group until it holds `rowGroupSize`
 * rows (the source lines chunk edges up across files: openCsvChunks' `alignAcrossFiles`), so
 * 10 000 files of 3 rows make row groups of `rowGroupSize` rows, not 10 000 groups of 3. A chunk that does not parse fails the run with its file, line and column, and the
 * earliest bad chunk in input order is the one reported (chunks parse concurrently), so the
 * same file gives the same error on every run.
 *
 * Input arrives in order (the scheduler dispatches a channel's items in order); the cutting
 * happens in that order, one item after another, however many items are in flight.
 */
import type { Logger } from 'pino';
import { OwnedBatch } from '../batch/owned';
import { partitionOf, tagPartition } from '../batch/partition-tag';
import { tagUnit } from '../batch/unit-tag';
import { SinkError, SourceError, StageError, WorkerExitError, type SluiceError } from '../errors';
import { readCsvChunk } from '../csv/item';
import type { ChunkText, CsvParse } from '../csv/parse';
import { EncoderPool, type OpenGroup, type Part } from '../io/parquet/encoder/pool';
import { partBatch } from '../io/parquet/encoder/parts';
import { RowGroupCutter } from '../io/parquet/encoder/row-groups';
import type { PlannedStage } from '../plan/types';
import type { BatchLocation } from '../errors';
import type { StageExecutor, TransportStats } from '../executors/types';
import { InputOrderFailures } from '../supervisor/input-order';
import { FirstFatal } from '../supervisor/first-fatal';

/** A part on its way, the partition it belongs to ('' for one file), and the unit, when it is not its item's (batch/unit-tag.ts). */
type Keyed = { key: string; part: Promise<Part>; unit?: string };

/**
 * An encoder pool its owner keeps across runs (a cluster worker's warm copies, runtime/warm-copies.ts):
 * lent to one executor at a time, which names the batch a thread's death hits (`where`) and
 * hears of that death while it holds it; the executor never destroys it (its owner does).
 */
export interface LentEncoderPool {
  lend(where: () => BatchLocation, onDeath: (err: Error) => void): EncoderPool;
}

export class ParquetEncodeExecutor implements StageExecutor {
  readonly stage: string;
  readonly mode = 'thread' as const;
  readonly copies: number;
  readonly slots: number;
  private readonly encode: NonNullable<PlannedStage['encode']>;
  private pool: EncoderPool | undefined;
  /** One cutter per output file: per partition (the tag the partitioning stage set), or '' for one file. */
  private readonly cutters = new Map<string, RowGroupCutter>();
  /** Items are cut into row groups strictly one after another, in input order. */
  private cutting: Promise<unknown> = Promise.resolve();
  /** An item's failure waits for every item before it (errors in input order). */
  private readonly failures = new InputOrderFailures();
  /** The last chunk without rows (it has the columns): encoded at flush if no chunk has rows. */
  private emptyChunk: (ChunkText & { parse: CsvParse }) | undefined;
  private chunksWithRows = 0;
  /** The row group short chunks are joined into, and its rows so far. */
  private joining: { group: OpenGroup; rows: number } | undefined;
  /** Resumable runs: the input file of the last item cut; row groups end where it changes (plan.units). */
  private unitFile: string | undefined;
  /**
   * Resumable runs: the unit of an item (its input file and run-local batch number): its file,
   * or the range of the file's row groups it was read from (io/units/units.ts keyOf). Unset: the file.
   */
  unitOf: ((file: string, seq: number) => string) | undefined;
  /** Items taken and not yet passed on (their seq and file): an encoder thread's death names the earliest. */
  private readonly unencoded = new Map<number, string | undefined>();
  /** The last item taken: its rows may wait in an open row group after it was passed on. */
  private lastTaken: { seq: number; sourceFile?: string } | undefined;
  /** An encoder thread's death: kept for a listener that comes later (the scheduler listens only once the run moves batches). */
  private readonly fatal = new FirstFatal<SluiceError>();

  /** A pool lent for this run (not destroyed here), and its work before this run (work() counts this run's). */
  private readonly lent: LentEncoderPool | undefined;
  private before = { busyMs: 0, slotWaitMs: 0 };

  constructor(stage: PlannedStage, deps: { log: Logger; lent?: LentEncoderPool }) {
    if (!stage.encode) throw new Error(`internal: stage "${stage.name}" is not a Parquet encoding stage`);
    this.stage = stage.name;
    this.copies = stage.copies;
    this.slots = stage.copies * stage.slotsPerCopy;
    this.encode = stage.encode;
    this.lent = deps.lent;
  }

  async start(): Promise<void> {
    const onDeath = (err: Error) => this.fatal.report(this.failure(err));
    const pool = this.lent ? this.lent.lend(() => this.earliestUnencoded(), onDeath) : new EncoderPool({ threads: this.copies, where: () => this.earliestUnencoded(), mainThreadBytes: this.encode.mainThreadBytes ?? 0 });
    this.pool = pool;
    if (this.lent) this.before = { busyMs: pool.stats.busyMs, slotWaitMs: pool.stats.slotWaitMs };
    else pool.onDeath(onDeath);
    // One file gets its file even without rows (the schema only); partitions exist only with rows.
    if (this.encode.input === 'batches' && !this.encode.partitioned) this.cutterFor('');
  }

  process(input: OwnedBatch): Promise<OwnedBatch> {
    const { seq, sourceFile } = input;
    this.unencoded.set(seq, sourceFile);
    this.lastTaken = { seq, sourceFile };
    const work = (this.encode.input === 'csv' ? this.encodeChunk(input) : this.encodeBatches(input)).finally(() => this.unencoded.delete(seq));
    // Reported in input order: whatever failed before this item fails the run first.
    return this.failures.track(work.catch((err: unknown) => Promise.reject(this.failure(err))));
  }

  async flush(): Promise<OwnedBatch[]> {
    const pool = this.ready();
    let parts: Keyed[] = [];
    if (this.encode.input === 'batches') {
      parts = await this.inOrder(async () => [...this.cutters].flatMap(([key, cutter]) => cutter.finish().map((part) => ({ key, part }))));
    } else if (this.chunksWithRows > 0) {
      // The group the last short chunks were joined into, after every item was handled.
      parts = await this.inOrder(async () => (this.joining ? [{ key: '', part: this.endJoining(pool) }] : []));
    } else if (this.emptyChunk) {
      // No rows in any chunk, but columns: a file with them, as polars parses them.
      parts = [{ key: '', part: (await pool.csv(this.emptyChunk, this.encode.compression, true)).part }];
    }
    try {
      return [await this.output(0, undefined, parts)];
    } catch (err) {
      throw this.failure(err);
    }
  }

  async close(): Promise<void> {
    if (!this.lent) await this.pool?.destroy();
  }

  async abort(): Promise<void> {
    for (const cutter of this.cutters.values()) cutter.abort();
    if (this.joining) this.pool?.drop(this.joining.group);
    this.joining = undefined;
    // A lent pool may still hold this run's groups: its owner destroys it (runtime/warm-copies.ts drops a failed unit's copies).
    if (!this.lent) await this.pool?.destroy();
  }

  onFatal(listener: (err: SluiceError) => void): void {
    this.fatal.listen(listener);
  }

  /** Its threads' work so far: threads started, time they worked, time callers waited for a slot. */
  work(): { threadsStarted: number; groupsOnMainThread: number; busyMs: number; slotWaitMs: number } {
    const s = this.pool?.stats;
    // A lent pool's threads were started before this run (threadsStarted 0 says so).
    return { threadsStarted: this.lent ? 0 : (s?.threadsStarted ?? 0), groupsOnMainThread: s?.groupsOnMainThread ?? 0, busyMs: (s?.busyMs ?? 0) - this.before.busyMs, slotWaitMs: (s?.slotWaitMs ?? 0) - this.before.slotWaitMs };
  }

  stats(): TransportStats {
    // Batches reach the threads as IPC bytes copied into the pool's slots (or read in place).
    const copied = this.pool?.stats.bytesCopied ?? 0;
    return { bytesCopied: 0, bytesPacked: copied, bytesSerialized: copied };
  }

  private async encodeBatches(input: OwnedBatch): Promise<OwnedBatch> {
    // The input is released once the pool holds its rows (copied into a slot, or its slab held).
    const parts = await input.consume((item) =>
      this.inOrder(async () => {
        const ended: Keyed[] = this.unitEdge(item, (unit) => [...this.cutters].flatMap(([key, cutter]) => cutter.cut().map((part) => ({ key, part, unit }))));
        for (const batch of item.batches) {
          const key = partitionOf(batch) ?? '';
          for (const part of await this.cutterFor(key).write(batch, item.backing)) ended.push({ key, part });
        }
        return ended;
      }),
    );
    return this.output(input.seq, input.sourceFile, parts);
  }

  private cutterFor(key: string): RowGroupCutter {
    let cutter = this.cutters.get(key);
    if (!cutter) this.cutters.set(key, (cutter = new RowGroupCutter(this.ready(), { rowGroupSize: this.encode.rowGroupSize, compression: this.encode.compression, file: key ? `${this.encode.target}/${key}` : this.encode.target })));
    return cutter;
  }

  private async encodeChunk(input: OwnedBatch): Promise<OwnedBatch> {
    const pool = this.ready();
    const { seq, sourceFile } = input;
    // Items arrive in order, but the joining must also happen in that order: one item after another.
    const parts = await input.consume((item) =>
      this.inOrder(async (): Promise<Keyed[]> => {
        const chunk = readCsvChunk(item.batch);
        if (chunk.rows === 0) {
          this.emptyChunk = { ...chunk, text: Buffer.from(chunk.text) }; // a copy: the item is released
          return [];
        }
        this.chunksWithRows++;
        const size = this.encode.rowGroupSize;
        // A resumable run's unit ends with its file: so does the group its short chunks were joined into.
        const ended: Keyed[] = this.unitEdge(item, (unit) => (this.joining ? [{ key: '', part: this.endJoining(pool), unit }] : []));
        // A chunk cut short by bytes (wide rows) may not fit what the group still needs: end it first.
        if (this.joining && this.joining.rows + chunk.rows > size) ended.push({ key: '', part: this.endJoining(pool) });
        if (!this.joining && chunk.rows >= size) return [...ended, { key: '', part: (await pool.csv(chunk, this.encode.compression, false)).part }];
        const joining = (this.joining ??= { group: pool.open(() => undefined), rows: 0 });
        await pool.csvInto(joining.group, chunk);
        joining.rows += chunk.rows;
        if (joining.rows >= size) ended.push({ key: '', part: this.endJoining(pool) });
        return ended;
      }),
    );
    return this.output(seq, sourceFile, parts);
  }

  /**
   * Resumable runs (plan.units): where the input file changes, a unit ends, and with it every
   * open row group (`end`), its parts tagged with the unit they belong to. Elsewhere nothing.
   */
  private unitEdge(item: { sourceFile: string | undefined; seq: number }, end: (unit: string) => Keyed[]): Keyed[] {
    if (!this.encode.units || item.sourceFile === undefined) return [];
    const file = this.unitOf ? this.unitOf(item.sourceFile, item.seq) : item.sourceFile;
    const before = this.unitFile;
    this.unitFile = file;
    return before !== undefined && before !== file ? end(before) : [];
  }

  private endJoining(pool: EncoderPool): Promise<Part> {
    const { group } = this.joining!;
    this.joining = undefined;
    return pool.end(group, this.encode.compression, false);
  }

  /** The parts, once all are encoded, as this stage's output item (numbered as its input), each tagged with its partition. */
  private async output(seq: number, sourceFile: string | undefined, parts: Keyed[]): Promise<OwnedBatch> {
    const done = await Promise.all(parts.map(async ({ key, part, unit }) => ({ key, part: await part, unit })));
    const batches = done.flatMap(({ key, part, unit }) => {
      const batch = partBatch(part);
      const tagged = batch && unit !== undefined ? tagUnit(batch, unit) : batch;
      return !tagged ? [] : this.encode.partitioned ? [tagPartition(tagged, key)] : [tagged];
    });
    return new OwnedBatch({ seq, sourceFile, batches, rows: done.reduce((n, { part }) => n + part.rows, 0) });
  }

  private inOrder<T>(work: () => Promise<T>): Promise<T> {
    const next = this.cutting.then(work);
    this.cutting = next.catch(() => undefined);
    return next;
  }

  private ready(): EncoderPool {
    if (!this.pool) throw new Error(`internal: stage "${this.stage}" used before start()`);
    return this.pool;
  }

  /**
   * Where a thread's death is: this stage, and the earliest item not yet passed on, or else the
   * last one taken (a row group spans items: its rows wait in the open group, on some thread).
   */
  private earliestUnencoded(): { stage: string; seq?: number; sourceFile?: string } {
    let seq: number | undefined;
    for (const s of this.unencoded.keys()) if (seq === undefined || s < seq) seq = s;
    const item = seq !== undefined ? { seq, sourceFile: this.unencoded.get(seq) } : this.lastTaken;
    return { stage: this.stage, ...(item && { seq: item.seq }), ...(item?.sourceFile !== undefined && { sourceFile: item.sourceFile }) };
  }

  /** Bad CSV stays the source's error (file, line, column); a thread's death is named as any copy's (supervisor/death.ts); anything else is the sink's. */
  private failure(err: unknown): SluiceError {
    if (err instanceof SourceError || err instanceof SinkError || err instanceof WorkerExitError || err instanceof StageError) return err;
    return new SinkError(`cannot write Parquet ${this.encode.target}`, err);
  }
}
