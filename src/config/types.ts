/**
 * The shapes a user writes in `pipeline.config.ts`. Paths inside a config are relative
 * to the config file's directory. The schema in `schema.ts` validates exactly these.
 */

import type { FromParams, ParamsSpec } from './params';

export type StageMode = 'inline' | 'thread' | 'process';

/** Column type names accepted in an explicit `schema` (see io/sources for the mapping). */
export type ColumnTypeName =
  | 'utf8'
  | 'bool'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'float32'
  | 'float64'
  | 'date'
  | 'datetime'
  | 'timestamp';

export interface CsvSourceOptions {
  /** Field delimiter, one character. Default `,`. */
  delimiter?: string;
  /** Quote character, one character. Default `"`. */
  quote?: string;
  /** Whether the first row holds column names. Default true. */
  header?: boolean;
  /** Strings read as null (besides the empty field). */
  nullValues?: string[];
  /** Input encoding; only UTF-8 is read, anything else is rejected with its position. */
  encoding?: 'utf8';
  /** Rows sampled to infer the schema. Default 10 000. */
  inferRows?: number;
}

export interface SourceConfig extends CsvSourceOptions {
  format: 'csv' | 'parquet' | 'arrow' | 'ndjson';
  /** A file, a glob, or a list of files/globs; read in a stable (sorted) order. */
  path: string | string[];
  /** Rows per batch. Default 65 536. */
  batchRows?: number;
  /** Columns to read (projection); default all. */
  columns?: string[];
  /**
   * CSV and NDJSON: the longest row (line) read, in bytes; a longer one is an error naming
   * file and line, found once that much is read. Default 64 MiB, at most 1 GiB.
   */
  maxRowBytes?: number;
  /** Per-column type overrides, e.g. `{ zip: 'utf8', amount: 'float64' }`. */
  schema?: Record<string, ColumnTypeName>;
  /**
   * Read and parse on a thread of its own, so the main thread is free for inline stages and
   * hand-offs. Default: true when some stage is inline, false otherwise (the main thread
   * then only coordinates, and reading there costs less).
   */
  thread?: boolean;
}

export interface SinkConfig {
  format: 'parquet' | 'csv' | 'ndjson' | 'arrow';
  /** Output file, or a directory when `partitionBy` is set. */
  path: string;
  /** What to do when the output exists. Default `overwrite`. */
  mode?: 'overwrite' | 'error-if-exists' | 'append';
  /** Hive-style partition columns: `day=2026-11-24/part-00000.parquet`. */
  partitionBy?: string[];
  /** Parquet compression. Default `zstd`. */
  compression?: 'zstd' | 'snappy' | 'gzip' | 'lz4' | 'brotli' | 'uncompressed';
  /** Parquet rows per row group. Default 262 144 (polars' own); at most 524 287 (the most polars writes as one group). */
  rowGroupSize?: number;
  /** Partitioned output: the most files open at once. Default 32. */
  maxOpenFiles?: number;
}

/** Bounds of the channel that feeds a stage (or the sink). */
export interface ChannelConfig {
  /** Most batches waiting or reserved in the channel. Default 4. */
  capacity?: number;
  /** Most bytes waiting in the channel. Default 64 MiB. */
  capacityBytes?: number;
}

export interface StageConfig {
  name: string;
  /** Path of the stage module, relative to the config file. */
  module: string;
  mode: StageMode;
  /** Copies of the stage working at once. Default 1. */
  concurrency?: number;
  /** Passed to the stage as `ctx.options`; for `thread` and `process` stages it must be structured-cloneable (checked). */
  options?: Record<string, unknown>;
  /** Bounds of this stage's output channel; defaults to the pipeline's `channel`. */
  channel?: ChannelConfig;
  /**
   * The stage passes on the columns it receives (it may change rows and values, not which
   * columns there are). When every stage says so, `sink.partitionBy` is checked against the
   * source's columns before the run, as it is for a pipeline without stages.
   */
  keepsColumns?: boolean;
}

export interface PipelineConfig {
  name: string;
  source: SourceConfig;
  stages: StageConfig[];
  sink: SinkConfig;
  /** Default bounds of every channel. */
  channel?: ChannelConfig;
  /** Keep output in input order (default true); `false` lets batches pass as they finish. */
  ordered?: boolean;
  /**
   * Run parameters, set with `--set name=value`: a default (`limit: 100`, its type follows) or
   * `{ type: 'string' | 'number' | 'boolean' | 'date', default?, description? }`; without a
   * default the param is required. Stages read them as `ctx.params`.
   */
  params?: ParamsSpec;
}

/** A config as written: `source.path` and `sink.path` may be computed from the params (`({ params }) => …`). */
export type PipelineInput<P extends ParamsSpec = ParamsSpec> = Omit<PipelineConfig, 'params' | 'source' | 'sink'> & {
  params?: P;
  source: Omit<SourceConfig, 'path'> & { path: FromParams<string | string[], P> };
  sink: Omit<SinkConfig, 'path'> & { path: FromParams<string, P> };
};

/**
 * Identity function that exists for its types, like vitest's `defineConfig`. `P` is taken
 * from the `params` block, so a path function sees `params.day` typed (and a typo refused).
 */
export function definePipeline<const P extends ParamsSpec = Record<never, never>, const T extends PipelineInput<P> = PipelineInput<P>>(config: T & { params?: P }): T {
  return config;
}
