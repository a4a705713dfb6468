/**
 * What a stage module sees. The same in every mode: inline, thread and process copies
 * all host the stage through `worker/host.ts`.
 */
import type { RecordBatch, Table, Utf8, Vector } from 'apache-arrow';
import type { DataFrame } from 'nodejs-polars';
import type { Logger } from 'pino';
import type { TableColumn } from '../batch/table';
import type { RejectRows } from './reject-rows';

export type { RejectRows };

/** What `process` and `flush` may return. Nothing (undefined/null) means "no rows". */
export type StageResult =
  | RecordBatch
  | Table
  | DataFrame
  | null
  | undefined
  | void
  | ReadonlyArray<RecordBatch | Table | DataFrame>;

/** The run's params as a stage sees them: a date param is its `YYYY-MM-DD` string. */
export type StageParams = Readonly<Record<string, string | number | boolean>>;

export interface StageContext<Options = Record<string, unknown>, Params = StageParams> {
  /** The stage's name in the pipeline config. */
  readonly stage: string;
  /** `options` from the stage's config entry (`{}` when absent). */
  readonly options: Options;
  /** The run's params (the config's `params` defaults, `--set` values); frozen, the same for every stage. */
  readonly params: Readonly<Params>;
  /** Index of this copy of the stage, `0 … concurrency-1`. */
  readonly copy: number;
  /** How many copies of the stage run. */
  readonly copies: number;
  readonly mode: 'inline' | 'thread' | 'process';
  /** A pino child logger with `stage` and `worker` fields; lands in the run's log stream. */
  readonly log: Logger;
  /** The batch as a polars DataFrame (one conversion through Arrow IPC). */
  toDataFrame(batch: RecordBatch): DataFrame;
  /** A polars DataFrame as Arrow record batches (usually one). */
  fromDataFrame(df: DataFrame): RecordBatch[];
  /**
   * Strings of a utf8 / utf8view / dictionary column as a JS array, about 2× faster
   * than apache-arrow's `toArray()`. Nulls come back as null.
   */
  strings(batch: RecordBatch, column: string): (string | null)[];
  /** JS strings as a Utf8 column, built in one buffer (much faster than `vectorFromArray`). */
  utf8(values: readonly (string | null | undefined)[]): Vector<Utf8>;
  /**
   * A Table from plain JS columns, for a stage's output: `ctx.table({ day: days, delay: delays })`.
   * Strings become Utf8 in one buffer (`tableFromArrays` would build a dictionary value by
   * value, several times slower), numbers Float64, booleans Bool, bigints Int64, Dates
   * Timestamp(ms); typed arrays and Vectors are taken as they are. Nulls allowed; one kind of
   * value per column and one value per row in every column, or it throws saying which.
   */
  table(columns: Record<string, TableColumn>): Table;
  /**
   * Take rows of the batch `process` is running on out of the stream, saying why: they go
   * where the stage's `onError` says, with the stage's name, the source file, the source row
   * number (when the rows before this stage are still the file's, one to one), the batch, the
   * row's values as the stage received them, and `reason`.
   *
   * - `rows`: indices into that batch (`number[]`, `Int32Array`, `Uint32Array`, 0-based), or a
   *   mask with one entry per row, true for a rejected row (`boolean[]`, `Uint8Array`, an Arrow
   *   `Bool` vector). A row rejected twice counts once, with its first reason.
   * - `onError: 'dead-letter'`: written to the `deadLetter` output; `'skip'`: counted and
   *   dropped; both count against `maxErrors`. `'fail'` (the default): the run fails, naming
   *   the stage, the batch, the first rows and the reason (a stage that rejects rows wants them
   *   somewhere: say where with `onError`).
   *
   * It only records what was rejected from the INPUT: what `process` returns is the stage's
   * output as usual, so return the batch without the rejected rows (e.g. `batch.filter`, or
   * build the output from the rows you keep) unless you mean to pass them on as well. The run
   * then holds: rows read = rows written + rows rejected + rows stages dropped on purpose.
   *
   * Only inside `process` (before it returns or its promise settles): in `setup`, `flush` or
   * `combine` there is no input batch, and such a call throws. When `process` throws, or its
   * copy dies and the batch is run again (`retries`), the rows that attempt rejected are
   * forgotten: only the attempt whose output is used counts.
   */
  reject(rows: RejectRows, reason: string): void;
}

export interface StageDefinition<Options = Record<string, unknown>, Params = StageParams> {
  /** Once per copy, before its first batch. */
  setup?(ctx: StageContext<Options, Params>): void | Promise<void>;
  /**
   * Once per incoming record batch. The batch's memory belongs to the engine: in `thread` and
   * `process` mode it is a recycled shared-memory slab, reused once `process` has returned.
   * Return it (or slices of it) freely, but a stage that keeps rows for later (in `flush`)
   * must copy them first, e.g. with `ctx.toDataFrame(batch)` or by building new vectors.
   */
  process(batch: RecordBatch, ctx: StageContext<Options, Params>): StageResult | Promise<StageResult>;
  /** Once per copy at end of stream; stateful stages return their remaining rows. */
  flush?(ctx: StageContext<Options, Params>): StageResult | Promise<StageResult>;
  /**
   * Merges the copies' flushed results into the stage's one output: the map-side combine of a
   * per-key aggregate. With it, a stage with `flush` may run as several copies (each keeps the
   * partial state of the batches it saw, and its `flush` returns that partial result); once
   * every copy has flushed, `combine` is called once, on the main thread, with all their
   * batches (in copy order), and what it returns is what the stage passes on.
   */
  combine?(partials: RecordBatch[], ctx: StageContext<Options, Params>): StageResult | Promise<StageResult>;
  /**
   * A stage with `flush` keeps state across batches, and each copy sees only some of the
   * batches, so it runs as one copy: `concurrency` above 1 is refused. Set this to true when
   * each copy's flushed output is complete on its own (e.g. it writes a per-copy summary).
   */
  perCopyFlush?: boolean;
  /**
   * The stage passes on the columns it receives (it may change rows and values, not which
   * columns there are), wherever it is used: like a config entry's `keepsColumns: true`, it
   * lets `validate` check `sink.partitionBy` and later stages' columns against the source.
   */
  keepsColumns?: boolean;
  /**
   * The input columns the stage reads, by the option that names them (`{ columns:
   * options.columns }`), so `validate` checks them against the source's columns before a
   * run: a misspelt column in a stage's options would otherwise match nothing and be
   * skipped without a word. Checked when every stage before this one keeps its columns.
   */
  inputColumns?(options: Options): Record<string, readonly string[] | undefined>;
  /**
   * The columns the stage passes on, given those it receives (`(input) => [...input, 'day']`
   * for a stage that adds `day`), so the checks can follow the columns past it.
   */
  outputColumns?(input: readonly string[], options: Options): readonly string[];
  /**
   * Every input column `process` (and `flush`) reads, when it reads no others (`() =>
   * ['ts', 'status']`); the rest it passes on untouched or not at all, as `outputColumns` or
   * `keepsColumns` says. When every stage says both, the plan reads from the source only the
   * columns some stage reads or the sink gets (projection pushdown: the others are never
   * parsed, converted or handed off; `explain` lists them). A column read but not listed is
   * then missing from the batch: list them all. `validate` checks the names. Undefined: it
   * cannot say for these options (it may read any column).
   */
  reads?(options: Options): readonly string[] | undefined;
  /**
   * With `reads`: the stage reads only the columns `reads` lists even where it learns them all
   * (a `batch.schema.fields` loop, `ctx.toDataFrame(batch)`, `new Table(batch)`, a row's keys),
   * and passes the others on untouched or drops them, so a column projection pushdown left out
   * cannot change its result. Without it, a stage whose batch lacks a left-out column fails
   * when it learns the column list (batch/left-out-guard.ts). Asking for a left-out column by
   * name fails either way.
   */
  passesOnUnlisted?: boolean;
  /**
   * The stage works on whole columns (polars, Arrow compute), not row by row: it pays per batch
   * (a conversion, an expression plan, a hash table) rather than per row, so larger batches are
   * cheaper for it. When the one stage reading a Parquet or Arrow source is inline and every
   * stage fused with it says this, and `source.batchRows` is not set, the source hands on its
   * row groups (record batches) whole, up to 1 048 576 rows, instead of 65 536-row slices
   * (plan/chain-batch.ts; `explain` says so). The rows, their order and the output are the same.
   */
  vectorised?: boolean;
}

/** Identity function that exists for its types: `defineStage<{ salt: string }, { day: string }>({ … })`. */
export function defineStage<Options = Record<string, unknown>, Params = StageParams>(
  stage: StageDefinition<Options, Params>,
): StageDefinition<Options, Params> {
  return stage;
}
