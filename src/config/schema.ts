/**
 * The shape of a pipeline config, as zod schemas: each rule with the words of its message
 * (`stages[1].concurrency: must be an integer >= 1, got 0`). The public types derive from
 * them (types.ts); config/validate.ts checks a config against them.
 */
import { z } from './zod';
import { MAX_ROW_BYTES_LIMIT, PARQUET_MAX_ROW_GROUP_ROWS } from '../defaults';
import type { ParamsSpec } from './params';
import { durationMs } from './duration';

const positiveInt = (what = 'an integer >= 1') => z.number({ error: `must be ${what}` }).int({ error: `must be ${what}` }).min(1, { error: `must be ${what}` });
const nonEmpty = (what: string) => z.string({ error: `must be ${what}` }).min(1, { error: `must be ${what}` });
const oneOf = <T extends string>(values: readonly [T, ...T[]]) => z.enum(values, { error: `must be one of ${values.join(', ')}` });
const char = (what: string) => z.string({ error: `must be ${what}` }).length(1, { error: `must be ${what}` });

/** Column type names accepted in an explicit `schema` (see io/sources for the mapping). */
export const COLUMN_TYPES = ['utf8', 'bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64', 'date', 'datetime', 'timestamp'] as const;

// The schema is the one truth about a config's shape: config/types.ts derives the public
// types from it (z.input), and the comment on each key is what an editor shows on hover
// over that key in a user's pipeline.config.ts. Defaults named here live in defaults.ts.

const channel = z.strictObject({
  /** Most batches waiting or reserved in the channel. Default 4. */
  capacity: positiveInt().optional(),
  /** Most bytes waiting in the channel. Default 64 MiB. */
  capacityBytes: positiveInt('a byte count >= 1').optional(),
});

/**
 * What to do with a row that cannot be read or that a stage cannot process: `fail` the run
 * (the default), `skip` it (counted, against `maxErrors`), or send it to the `deadLetter`
 * output (counted too) with where it came from and why.
 */
const onError = oneOf(['fail', 'skip', 'dead-letter']);

const source = z.strictObject({
  /** The input format. */
  format: oneOf(['csv', 'parquet', 'arrow', 'ndjson']),
  /** A file, a glob, or a list of files/globs; read in a stable (sorted) order. */
  path: z.union([nonEmpty('a file path or glob'), z.array(nonEmpty('a file path or glob')).min(1, { error: 'must list at least one file' })], {
    error: 'must be a file path, a glob, or a list of them',
  }),
  /** Rows per batch. Default 65 536. */
  batchRows: positiveInt().optional(),
  /** Columns to read (projection); default all. */
  columns: z.array(nonEmpty('a column name')).min(1, { error: 'must name at least one column' }).optional(),
  /** Per-column type overrides, e.g. `{ zip: 'utf8', amount: 'float64' }`. */
  schema: z.record(z.string(), oneOf(COLUMN_TYPES), { error: 'must map column names to type names' }).optional(),
  /** CSV: field delimiter, one character. Default `,`. */
  delimiter: char('one character').optional(),
  /** CSV: quote character, one character. Default `"`. */
  quote: char('one character').optional(),
  /** CSV: whether the first row holds column names. Default true. */
  header: z.boolean({ error: 'must be true or false' }).optional(),
  /** CSV: strings read as null (besides the empty field). */
  nullValues: z.array(z.string({ error: 'must be a string' }), { error: 'must be a list of strings' }).optional(),
  /** CSV: input encoding; only UTF-8 is read, anything else is rejected with its position. */
  encoding: z.literal('utf8', { error: 'must be "utf8" (the only encoding read)' }).optional(),
  /** CSV: rows sampled to infer the schema. Default 10 000. */
  inferRows: positiveInt().optional(),
  /**
   * CSV and NDJSON: the longest row (line) read, in bytes; a longer one is an error naming
   * file and line, found once that much is read. Default 64 MiB, at most 1 GiB.
   */
  maxRowBytes: positiveInt('a byte count >= 1')
    .max(MAX_ROW_BYTES_LIMIT, { error: `must be at most ${MAX_ROW_BYTES_LIMIT} bytes (1 GiB)` })
    .optional(),
  /**
   * Read and parse on a thread of its own, so the main thread is free for inline stages and
   * hand-offs. Default: true when some stage is inline, false otherwise (the main thread
   * then only coordinates, and reading there costs less).
   */
  thread: z.boolean({ error: 'must be true or false' }).optional(),
  /**
   * A row that cannot be read (a value that does not fit its column's type, invalid UTF-8):
   * `fail` the run (default), `skip` it, or send it to `deadLetter` with its file, line,
   * column, reason, raw text and the values that did parse. Skipped and dead-lettered rows
   * count against `maxErrors`.
   */
  onError: onError.optional(),
  /**
   * Incremental runs (a nightly job over a landing folder): each run reads only the input
   * files that earlier runs of this pipeline did not commit (known by path, identity and
   * content hash, in `_sluice_incremental.json` in the first sink's directory), and adds its
   * output as a new part file (`part-…`) to each sink, which must then be a directory (a
   * `path` ending in `/`, or `partitionBy`). A changed file is read again (its earlier rows
   * stay in the earlier part); `sluice run --full` reads everything and replaces the outputs.
   * `'per-run'`: the same, and stages with `flush()` are allowed: their state (an aggregate)
   * covers only the files each run reads. Default false.
   */
  incremental: z.union([z.boolean(), z.literal('per-run')], { error: 'must be true, false or "per-run"' }).optional(),
  /**
   * Parquet, in a resumable or cluster run: a file of more rows than this is cut into units of
   * whole row groups of about this many rows each, so `--resume` redoes only the unfinished
   * ranges and a cluster spreads one big file over its workers (each unit's row groups end at
   * its edge). Default 1 000 000. CSV and NDJSON files are always whole units.
   */
  unitRows: positiveInt().optional(),
});

const stage = z.strictObject({
  /** The stage's name: unique in the pipeline; errors, logs and the report use it. */
  name: nonEmpty('a non-empty name'),
  /** Path of the stage module, relative to the config file. */
  module: nonEmpty('the path of a stage module'),
  /** Where the stage runs: `inline` (main thread), `thread` (worker threads) or `process` (child processes). */
  mode: oneOf(['inline', 'thread', 'process']),
  /** Copies of the stage working at once. Default 1. */
  concurrency: positiveInt().optional(),
  /**
   * Keyed routing: the columns whose values pick a row's copy (`hash(values) mod concurrency`),
   * so every copy sees all rows of its keys, batch after batch. A stage with `flush` (a per-key
   * aggregate) then runs at `concurrency` > 1 with the answer of one copy; its flushed output
   * comes copy after copy. Only with `concurrency: 1` it changes nothing.
   */
  key: z.array(nonEmpty('a column name')).min(1, { error: 'must name at least one column' }).optional(),
  /** Passed to the stage as `ctx.options`; for `thread` and `process` stages it must be structured-cloneable (checked). */
  options: z.record(z.string(), z.unknown(), { error: 'must be an object' }).optional(),
  /** Bounds of this stage's output channel; defaults to the pipeline's `channel`. */
  channel: channel.optional(),
  /**
   * The stage passes on the columns it receives (it may change rows and values, not which
   * columns there are). When every stage says so, `sink.partitionBy` is checked against the
   * source's columns before the run, as it is for a pipeline without stages.
   */
  keepsColumns: z.boolean({ error: 'must be true or false' }).optional(),
  /**
   * What the stage reads: the name of an earlier stage, or `"source"`. Default: the stage
   * before it (the source for the first), so a list of stages is a line. Several stages (and
   * sinks) may read one stage: each gets every batch, shared, not copied.
   */
  input: nonEmpty('a stage name or "source"').optional(),
  /**
   * Attempts per batch after the first when a copy dies on it (thread exit, uncaught error,
   * child exit or signal, out of memory) or exceeds `timeout`: the copy is replaced (same
   * `ctx.copy`, `setup()` again) and the batch sent again. Default 0 (the run fails). A stage
   * with `flush` is never retried mid-stream: its copy's state would be lost.
   */
  retries: z.number({ error: 'must be an integer >= 0' }).int({ error: 'must be an integer >= 0' }).min(0, { error: 'must be an integer >= 0' }).optional(),
  /**
   * Longest one batch may take in a copy: `'30s'`, `'500ms'`, `'2m'` or milliseconds. Past it
   * the copy is killed (an attempt, see `retries`). Default none. An `inline` stage's busy
   * loop cannot be interrupted: only a promise that never settles ends there.
   */
  timeout: z
    .union([z.number(), z.string()], { error: "must be a duration: milliseconds, or a string like '30s' or '500ms'" })
    .refine((v) => durationMs(v) !== undefined, { error: "must be a duration > 0: milliseconds, or a string like '30s', '500ms' or '2m'" })
    .optional(),
  /**
   * A batch on which `process` throws: `fail` the run (default), or find the rows that make it
   * throw (the batch re-run on halves until they are isolated) and `skip` them or send them to
   * `deadLetter` with the stage's message and stack; the other rows flow on. A stage with
   * `flush` (state) has the whole batch rejected. Counted against `maxErrors`.
   */
  onError: onError.optional(),
});

const sink = z.strictObject({
  /** The sink's name, for the report and `--sink-path <name>=<path>`; needed when there are several `sinks`. */
  name: nonEmpty('a non-empty name').optional(),
  /** What the sink writes: the name of a stage, or `"source"`. Default: the last stage. */
  from: nonEmpty('a stage name or "source"').optional(),
  /** The output format. */
  format: oneOf(['parquet', 'csv', 'ndjson', 'arrow']),
  /** Output file, or a directory when `partitionBy` is set. */
  path: nonEmpty('an output path'),
  /** What to do when the output exists. Default `overwrite`. */
  mode: oneOf(['overwrite', 'error-if-exists', 'append']).optional(),
  /** Hive-style partition columns: `day=2026-11-24/part-00000.parquet`. */
  partitionBy: z.array(nonEmpty('a column name')).min(1, { error: 'must name at least one column' }).optional(),
  /** Parquet compression. Default `zstd`. */
  compression: oneOf(['zstd', 'snappy', 'gzip', 'lz4', 'brotli', 'uncompressed']).optional(),
  /** Parquet rows per row group. Default 262 144 (polars' own); at most 524 287 (the most polars writes as one group). */
  rowGroupSize: positiveInt()
    .max(PARQUET_MAX_ROW_GROUP_ROWS, { error: `must be at most ${PARQUET_MAX_ROW_GROUP_ROWS} rows (the most polars 0.24.1 writes as one row group)` })
    .optional(),
  /** Partitioned output: the most files open at once. Default 32. */
  maxOpenFiles: positiveInt().optional(),
});

/** The dead-letter output: a sink without `name`/`from` (it writes the rejected rows). */
const deadLetter = sink.omit({ name: true, from: true, partitionBy: true });

/** A count of rows (`1000`) or a percentage of the rows read (`'0.1%'`). */
const MAX_ERRORS = 'must be a row count (an integer >= 0) or a percentage of the rows read such as "0.1%"';
const maxErrors = z.union([z.number({ error: MAX_ERRORS }).int({ error: MAX_ERRORS }).min(0, { error: MAX_ERRORS }), z.string({ error: MAX_ERRORS }).regex(/^\d+(\.\d+)?%$/, { error: MAX_ERRORS })], { error: MAX_ERRORS });

const pipeline = z.strictObject({
  /** The pipeline's name, shown in logs and the run report. */
  name: nonEmpty('a non-empty name'),
  /** Where the rows come from. Paths are relative to the config file's directory. */
  source,
  /** The stages every batch goes through, in order; may be empty (a plain conversion). */
  stages: z.array(stage, { error: 'must be a list of stages (may be empty)' }),
  /** Where the rows go: written to a temporary sibling and renamed on success. Give `sink` or `sinks`. */
  sink: sink.optional(),
  /**
   * Several outputs written in one pass (each with a `name`, and `from` the stage it writes):
   * all committed together, or none. Give `sink` or `sinks`.
   */
  sinks: z.array(sink, { error: 'must be a list of sinks' }).min(1, { error: 'must list at least one sink' }).optional(),
  /**
   * Where rejected rows go when `source.onError` or a stage's `onError` is `dead-letter`: one
   * more output of the run, in any sink format, committed together with the others or not at
   * all. One row per rejected row: origin, file, line, column, stage, reason, its raw text,
   * the values that did parse (`values`, a JSON object) and a stack for a stage's throw.
   */
  deadLetter: deadLetter.optional(),
  /**
   * The error budget: the most rows skipped or dead-lettered (all places together) before
   * the run fails as it would without `onError`, nothing committed. A count (`1000`) or a
   * percentage of the rows read (`'0.1%'`). Default: no limit.
   */
  maxErrors: maxErrors.optional(),
  /** Default bounds of every channel. */
  channel: channel.optional(),
  /** Keep output in input order (default true); `false` lets batches pass as they finish. */
  ordered: z.boolean({ error: 'must be true or false' }).optional(),
  /** Cut the run into units (one per input file), each staged on its own, so a failed run can be resumed (`sluice run --resume`). */
  resumable: z.boolean({ error: 'must be true or false' }).optional(),
  // Checked (and resolved with --set) by params.ts, whose messages name the param.
  params: z.custom<ParamsSpec>().optional(),
});

/** The schemas the public config types are derived from (config/types.ts). */
export { pipeline as pipelineSchema, deadLetter as deadLetterSchema, source as sourceSchema, stage as stageSchema, sink as sinkSchema, channel as channelSchema };
