/** What a run reports while it runs (progress) and at its end (the run report). */
import type { RejectCount } from './rejects';
import type { Logger } from 'pino';
import type { KeyedStats, ParseStats, TransportStats } from '../executors/types';
import type { StageMode } from '../config/types';
import type { RetryStats } from '../supervisor/attempts';
import type { StageTimeline } from './timeline';
import type { UnitMode, UnitsReport } from '../io/units/units';
import type { IncrementalReport } from '../io/units/incremental';
import type { StagedUnit, UnitRejects } from '../io/units/staged-units';
import type { FixedSourceTypes } from '../io/sources';

export interface StageMetrics {
  name: string;
  mode: StageMode;
  copies: number;
  rowsIn: number;
  rowsOut: number;
  batchesIn: number;
  batchesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Sum over copies of time spent running tasks (copy-milliseconds). */
  busyMs: number;
  /** Copy-milliseconds a free copy waited because its input channel was empty. */
  idleMs: number;
  /** Copy-milliseconds a free copy waited because its output channel was full. */
  blockedMs: number;
  /** Most tasks in flight at once. */
  peakInFlight: number;
  /** Copy-milliseconds free, per reason (`idle: no input`, `held: output full`, …; runtime/decide.ts). */
  waits: Record<string, number>;
  transport: TransportStats;
  /** Set when the stage parsed its input from the source's CSV text in its copies (fusion). */
  parsed?: ParseStats;
  /** Set for a keyed stage at more than one copy: where its input was cut by key, and the bytes the cut copied. */
  keyed?: KeyedStats;
  /** Set when a copy died or timed out and was replaced (config `retries`, `timeout`): what was sent again. */
  retries?: RetryStats;
  /** Rows it threw on, skipped or dead-lettered (`onError`; its other input rows went on to `rowsOut` or were dropped by the stage on purpose). */
  rejected?: number;
}

export interface ChannelMetrics {
  /** `source→stage`, `stage→sink`, … */
  name: string;
  capacity: number;
  capacityBytes: number;
  /** Most items held (waiting + reserved + reordering) at once. */
  peakDepth: number;
  peakBytes: number;
  /** What passed through it to its reader (absent in reports of older versions). */
  batches?: number;
  rows?: number;
  bytes?: number;
  /** How long its producer was held back because it had no credit (it was full). */
  creditWaitMs?: number;
}

export interface RunReport {
  pipeline: string;
  ok: boolean;
  /**
   * Only in the report of a run that died after its sink committed (written for it by the
   * death watch, cli/watcher.cjs): what it committed. `ok` is false (the run did not finish),
   * but its output is complete and in place.
   */
  committed?: string[];
  /**
   * Only in the report of a run that died in the middle of a commit of several outputs, after
   * its commit journal was whole (written by the death watch): the commit is decided but not
   * every output is published yet; `sluice recover` (or the next run on any of these paths)
   * publishes the rest.
   */
  commitPending?: string[];
  /** A resumable run's units (io/units): how many, which input files an earlier attempt committed (not read again) and which this run read. */
  units?: UnitsReport;
  /**
   * An incremental run (`source.incremental`): the part it added (none when nothing was new),
   * the files it read, how many earlier runs had committed (not read), the changed files read
   * again and the committed files that are gone.
   */
  incremental?: IncrementalReport;
  /** A staged unit (RunOptions.stageUnit): per sink, its frames file (absolute) and rows, or null when it was handed nothing. */
  staged?: ({ file: string; rows: number } | null)[];
  /** A staged unit of a plan with stateful stages: the output at the cut (runtime/unit-cut.ts), staged for the commit job. */
  stagedCut?: { file: string; rows: number } | null;
  /** A staged unit of a plan with a deadLetter output: its dead-lettered rows, staged for the commit job (null: none). */
  stagedDead?: { file: string; rows: number } | null;
  /** A staged unit: what it rejected and read, for the commit job's maxErrors and report (io/units/staged-units.ts). */
  stagedRejects?: UnitRejects;
  /** The params the run used (defaults and `--set`), by name; `{}` without params (set by every run; optional for reports built elsewhere). */
  params?: Record<string, string | number | boolean>;
  startedAt: string;
  durationMs: number;
  /** Of durationMs: opening source and sink and starting every stage's copies (threads, processes, setup). */
  startupMs: number;
  source: {
    /** Rows the source passed on (its rejected rows not counted: see rowsRead). */
    rows: number;
    /**
     * Rows the source read this run: `rows` plus those it took out (`source.onError`). Rows read
     * = rows written + rows rejected + rows a stage drops on purpose. (Absent in reports of runs before 2026-12-08.)
     */
    rowsRead?: number;
    batches: number;
    bytes: number;
    files: number;
    busyMs: number;
    blockedMs: number;
    /** Columns the source left out, as no stage reads them and the sink does not get them (projection pushdown). */
    leftOut?: string[];
  };
  stages: StageMetrics[];
  /**
   * The one sink of a one-sink run (the same as `sinks[0]`). With several sinks, all of them
   * together: rows, batches, bytes and busy time summed, every file, `path` the folder that
   * holds every output; `sinks` has each.
   */
  sink: SinkReport;
  /** Every sink, in config order (set by every run; absent in reports written before runs had several sinks). */
  sinks?: SinkReport[];
  /**
   * Rows taken out of the stream by `onError: 'skip' | 'dead-letter'`, per place (`source` or a
   * stage's name), action and reason; absent when no place has `onError`. Rows read = rows
   * written + `rejected.rows` + rows the stages dropped on purpose (a filter).
   */
  rejected?: { rows: number; deadLetter?: SinkReport; counts: RejectCount[] };
  channels: ChannelMetrics[];
  /** Set when the run was a direct CSV → Parquet conversion (runtime/direct.ts): no stages, no batches. */
  direct?: { rowsPerChunk: number };
  /** Peak RSS of the main process (its threads included) plus each child process's peak: an upper bound of the run's memory at any moment. */
  peakRssBytes: number;
  /** The parts of peakRssBytes: the main process and every stage child process. */
  peakRss?: { mainBytes: number; children: Array<{ stage: string; copy: number; bytes: number }> };
  /**
   * Why the run failed: the code and message, the error's class (`name`), and where: the
   * stage, copy, batch, source file and phase of a stage failure (a dead worker: its exit
   * code or signal), or the file, line and column of bad input.
   */
  error?: {
    code: string;
    message: string;
    name?: string;
    stage?: string;
    copy?: number;
    batch?: number;
    sourceFile?: string;
    phase?: string;
    exitCode?: number | null;
    signal?: string | null;
    file?: string;
    line?: number;
    column?: string;
  };
  /** Over time: each stage's copies (runtime/timeline.ts) and periodic samples (runtime/samples.ts); bounded for any run length. */
  timeline?: { stages: StageTimeline[]; samples: RunSamples };
}

/** What one sink wrote (the rows its writers wrote, counted at the sink). */
export interface SinkReport {
  /** `sink` for one unnamed sink, else its config name (absent in reports written before runs had several sinks). */
  name?: string;
  rows: number;
  batches: number;
  bytes: number;
  path: string;
  files: string[];
  busyMs: number;
  /**
   * A Parquet sink's encoder over the run: threads started, milliseconds its threads worked
   * (reading batches, parsing CSV, encoding row groups) and milliseconds the sink waited for
   * one of its slots (the encoder holding the run back).
   */
  encoder?: EncoderWork;
}

export interface ProgressSnapshot {
  elapsedMs: number;
  /** `waitReason`: why the source is not reading now (`held: output full`: a reader's channel is full), from the scheduler. */
  source: { rows: number; batches: number; done: boolean; waitReason?: string };
  /** Input bytes read of the input files' total size (for percent done and ETA), when known. */
  input?: { bytesRead: number; totalBytes: number };
  stages: ProgressStage[];
  sink: {
    rows: number;
    queueDepth: number;
    /** A Parquet sink's encoder over the last interval: its threads' busy share, and the share of the time the sink waited for a slot. */
    encoder?: { busyPercent: number; waitPercent: number };
  };
}

export interface ProgressStage {
  name: string;
  rowsOut: number;
  rowsPerSec: number;
  queueDepth: number;
  /** Tasks dispatched and not yet done: may exceed `copies` when copies take pipelined work. */
  inFlight: number;
  /** Copies running a task now: min(inFlight, copies). */
  busy: number;
  copies: number;
  /** Flushed and closed. */
  done: boolean;
  /** Why free copies wait, from the scheduler (a policy's words) or derived from its counters. */
  waitReason?: string;
}

export interface RunOptions {
  log?: Logger;
  /**
   * A resumable run (plan.units): start afresh (`fresh`, refused if a failed run left units),
   * continue what a failed run staged (`resume`), or discard it first (`restart`). Default fresh.
   */
  units?: UnitMode;
  /**
   * An incremental run (`source.incremental`): read every input file, not only the new ones,
   * and replace the outputs and their state (`sluice run --full`). Ignored otherwise.
   */
  full?: boolean;
  /**
   * Cluster mode (src/cluster): run one unit, its input file alone, and stage what each sink is
   * handed in `dirs[k]` (an attempt directory of that sink's staging) instead of writing the
   * sinks: nothing is opened, locked or committed at the targets; the commit job does that.
   * The report's `staged` lists what was staged. `fixedTypes`: the column types the driver
   * resolved once for every unit.
   */
  stageUnit?: StageUnit;
  /**
   * Cluster mode's commit job for a plan with stateful stages (runtime/unit-cut.ts): the units
   * staged by the workers (their head sinks' and the cut's frames), replayed as a resumable
   * run's job commit replays its units: the head sinks get their staged batches, the stateful
   * stages and what follows them run over every unit's cut, in unit order, and every sink is
   * committed together. Nothing is read from the source.
   */
  commitUnits?: CommitUnits;
  /** Called about every `progressIntervalMs` while running. */
  onProgress?: (snapshot: ProgressSnapshot) => void;
  progressIntervalMs?: number;
  /** Abort the run (e.g. on SIGINT): stops everything and leaves no output. */
  signal?: AbortSignal;
  /** Called (synchronously) as soon as the sink has committed, before the report is built: the run's output is in place from here on. */
  onCommitted?: (files: readonly string[]) => void;
  /**
   * Called (synchronously) just before the sinks' renames publish their outputs (one entry per
   * sink, in plan order): once every `temp` is gone (renamed to its `target`) the outputs are
   * committed, even if the process is killed before onCommitted; with several sinks, once the
   * commit journal is whole (io/sinks/journal.ts) the commit is decided and `sluice recover`
   * finishes it. A death watch records it, so a kill there is taken for what it is.
   */
  onCommitting?: (publish: readonly { temp: string; target: string; rows: number; sink?: string }[]) => void;
  /** The commit onCommitting announced failed (its temporary is removed next): forget it. */
  onCommitFailed?: () => void;
}

/** The staged units of a cluster run, for its commit job (RunOptions.commitUnits). */
export interface CommitUnits {
  /** The run's id (partitioned output's file names). */
  runId: string;
  /** Per unit, in unit order: its input file, each sink's staged frames file (absolute; null: nothing) and the cut's. */
  units: StagedUnit[];
}

/** One unit of a cluster run, staged (RunOptions.stageUnit). */
export interface StageUnit {
  unit: number;
  file: string;
  /** A range of the file's row groups (first, last) and the file's rows before it: the unit is that range (io/units/ranges.ts). */
  groups?: [number, number];
  firstRow?: number;
  /** Per sink of the plan: the attempt directory its batches are staged in. */
  dirs: string[];
  fixedTypes?: FixedSourceTypes;
}

/** What a Parquet sink's encoder did over a run (RunReport.sink.encoder). */
export interface EncoderWork {
  threadsStarted: number;
  /** Row groups encoded on the main thread instead (a small output: PARQUET_MAIN_THREAD_BYTES). */
  groupsOnMainThread: number;
  busyMs: number;
  slotWaitMs: number;
}

/** The report's periodic samples of a run (runtime/samples.ts records them). */
export interface RunSample {
  /** ms since the run's start. */
  t: number;
  sourceRows: number;
  sinkRows: number;
  /** Rows out of each stage so far (cumulative). */
  stageRows: number[];
  /** Items in each channel (the highest seen, once merged). */
  depths: number[];
  /** Resident set size of the main process (its threads included; child processes are not sampled). */
  rssBytes: number;
}

export interface RunSamples {
  intervalMs: number;
  channels: string[];
  samples: RunSample[];
}
