/**
 * The plan: a validated config resolved into what the runtime executes. Paths are
 * absolute, defaults filled in, every channel bounded.
 */
import type { ResolvedParams } from '../config/params';
import type { DeadLetterConfig, OnError, SinkConfig, SourceConfig, StageMode } from '../config/types';
import type { SplitOut } from '../protocol/key-split';

export interface ChannelBounds {
  /** Most items (batches) waiting or reserved. */
  capacity: number;
  /** Most bytes waiting. */
  capacityBytes: number;
}

export interface PlannedStage {
  name: string;
  /** Absolute path of the stage module. */
  modulePath: string;
  mode: StageMode;
  copies: number;
  /**
   * Tasks one copy holds at once (defaults.ts `SLOTS_PER_COPY` for its mode), decided once
   * here: the memory bound counts them and the executor allows exactly `copies × slotsPerCopy`.
   */
  slotsPerCopy: number;
  options: Record<string, unknown>;
  /** The run's params (`ctx.params`); `{}` when absent. */
  params?: ResolvedParams['values'];
  /** Bounds of the channel this stage writes into. */
  output: ChannelBounds;
  /**
   * Set on the stage sluice adds before a Parquet sink (operators/parquet-encode.ts; it has no
   * module): row groups of `rowGroupSize` rows encoded on its threads, from the batches
   * before it, or from CSV chunks (a plain conversion: `Plan.direct`).
   */
  /** `mainThreadBytes`: an output up to this many bytes is encoded on the main thread, with no thread started (io/parquet/encoder/pool.ts; absent: 0, a thread at once). */
  encode?: { input: 'batches' | 'csv'; rowGroupSize: number; compression: string; target: string; partitioned: boolean; units?: boolean; mainThreadBytes?: number };
  /**
   * Adjacent thread stages fused into one (plan/fuse.ts): each copy runs these, in order, on
   * every batch, with no hand-off between them. The stage's own name is theirs joined by `+`.
   */
  fused?: { name: string; modulePath: string; options: Record<string, unknown> }[];
  /**
   * Keyed routing (config `key`): each row goes to the copy `hash(key values) mod copies`
   * (executors/keyed.ts), so every copy sees all rows of its keys. Absent: rows go to any copy.
   */
  key?: string[];
  /**
   * Set when this stage's only reader is a keyed stage at more than one copy and this stage runs
   * off the main thread (plan/key-split.ts): each copy cuts its output by that key into the
   * reader's parts before it crosses to main.
   */
  splitOut?: SplitOut;
  /**
   * Attempts per batch after the first when its copy dies or exceeds `timeoutMs` (config
   * `retries`); 0 or absent: the first death fails the run. A fused group retries as one.
   */
  retries?: number;
  /** Longest one batch may take in a copy (config `timeout`), in ms; absent: no limit. */
  timeoutMs?: number;
  /** What a batch on which `process` throws becomes (config `onError`); absent: `fail`. */
  onError?: OnError;
  /** Set on the stage sluice adds before a partitioned sink (operators/partition.ts): rows routed by these columns. */
  partition?: { columns: string[] };
}

/** A stage in the plan's graph: what runs (PlannedStage, all an executor needs) and what it reads. */
export interface PlannedNode extends PlannedStage {
  /**
   * What the stage reads: the index in `Plan.stages` of the stage before it in the graph, or
   * -1 for the source. Always an earlier index: `Plan.stages` is in an order where every stage
   * comes after what it reads.
   */
  input: number;
}

export interface Plan {
  name: string;
  /** Absolute path of the config file ('' when built in code). */
  configFile: string;
  /** Directory relative paths in the config are resolved against. */
  baseDir: string;
  /** Source with `path` as written (resolved against `baseDir`, which is never a glob: inputs.ts). */
  /** `readAhead`: batches a source thread parses ahead (0 when the source reads on the main thread). */
  /** `splitOut`: the source thread cuts its batches by key for its one reader, a keyed stage (plan/key-split.ts). */
  /** `batchRowsFor`: the vectorised chain `batchRows` was chosen for, when the config left it unset (plan/chain-batch.ts). */
  source: SourceConfig & { batchRows: number; thread: boolean; baseDir: string; readAhead: number; splitOut?: SplitOut; batchRowsFor?: string };
  /** Bounds of the channel the source writes into. */
  sourceOutput: ChannelBounds;
  stages: PlannedNode[];
  /** The outputs, in config order: all committed together, or none. */
  sinks: PlannedSink[];
  ordered: boolean;
  /** Where rejected rows go (config `deadLetter`, `path` made absolute). */
  deadLetter?: DeadLetterConfig;
  /** The error budget (config `maxErrors`): rows skipped or dead-lettered, or a percentage of the rows read; absent: no limit. */
  maxErrors?: number | string;
  /**
   * A resumable run (config `resumable`, `--resume`, `--restart`): cut into units, one per input
   * file, each staged and recorded on its own (io/units); row groups end at unit edges.
   */
  units?: boolean;
  /** The params resolved for this run (defaults and `--set`). */
  params: ResolvedParams;
  /**
   * Set when the pipeline is a plain CSV → Parquet conversion, which runs without Arrow
   * batches: the source yields checked chunks of `rowsPerChunk` rows of CSV text, and the
   * Parquet encoding stage parses and encodes each as one row group.
   */
  direct?: { rowsPerChunk: number };
  /**
   * Set when the first stage parses the source's CSV in its own copies (fusion): the source
   * only cuts checked chunks of `rowsPerChunk` rows on the main thread, and each copy of
   * `stage` parses the chunk it is given, then runs the stage on it. No source thread.
   */
  parseIn?: { stage: string; rowsPerChunk: number };
  /**
   * Set when the stages' `reads` leave source columns out (projection pushdown, from the
   * checks: check/projection.ts): `source.columns` is then `columns`; `pruned` are the others;
   * `missing`, per user stage in config order, the pruned columns it would have received.
   */
  projection?: { columns: string[]; pruned: string[]; missing: string[][] };
  /** Threads and processes started, against the cores, and polars' pool sizes (plan/cores.ts). */
  cores: CoreBudget;
  /** Upper estimate of batch memory held by channels and in-flight tasks. */
  memoryBoundBytes: number;
}

/** One output of the run. */
export interface PlannedSink {
  /** `sink` (one unnamed sink), or the name the config gives it. */
  name: string;
  /** Where the config declares it: `sink` or `sinks[i]` (messages name it). */
  where: string;
  /** The sink's config with `path` made absolute. */
  config: SinkConfig;
  /** What feeds it: the index in `Plan.stages` (the stage sluice added before it, if any), or -1 for the source. */
  from: number;
  /** The config's stage whose output this sink writes (its index in `Plan.stages`), or -1 for the source: where its one schema is checked. */
  writes: number;
}

/** The core budget (plan/cores.ts): what the plan starts, against the cores. */
export interface CoreBudget {
  /** os.availableParallelism() when the plan was made. */
  cores: number;
  /** Threads started in sluice's own process besides its main thread, by owner (the source, each thread stage). */
  /** `fromBytes`: none started until the output passes this many bytes (a Parquet encoding stage's mainThreadBytes). */
  threads: { owner: string; threads: number; fromBytes?: number }[];
  /** Child processes, by stage. */
  children: { owner: string; processes: number }[];
  /** Threads that run stage code at once: thread and process copies, and the main thread when a stage runs inline. */
  stageThreads: number;
  /** polars' pool in each process (sluice's and every child): polars' default (the cores), or POLARS_MAX_THREADS as set. */
  polars: { threads: number; from: 'polars default' | 'POLARS_MAX_THREADS' };
}
