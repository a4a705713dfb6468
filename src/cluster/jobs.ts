/**
 * What the driver puts on the queue and what workers return: plain JSON, kept by BullMQ in
 * Redis. One flow per run: a `commit` job (id `<runId>-commit`) whose children are the `unit`
 * jobs (`<runId>-u<index>`), each with failParentOnFailure, so a unit that fails for good
 * fails the commit job at once instead of leaving it waiting for ever (bullmq#3362).
 */
import type { Fingerprint } from '../io/units/manifest';
import type { FixedSourceTypes } from '../io/sources';
import type { UnitRejects } from '../io/units/staged-units';
import type { RejectCount } from '../runtime/rejects';

/** The queue every cluster run of this Redis uses (both job kinds). */
export const QUEUE = 'sluice';

/** The CLI overrides the driver ran with: every worker applies the same ones. */
export interface ClusterOverrides {
  mode?: string[];
  concurrency?: string[];
  sinkPath?: string[];
  sourcePath?: string[];
  set?: string[];
}

/** What every job of a run carries: which pipeline, as the driver saw it. */
export interface RunSpec {
  runId: string;
  /** The config file's absolute path (the same on every machine: shared storage). */
  config: string;
  overrides: ClusterOverrides;
  /** The driver's hashes of the config and stage modules: a worker whose copies differ refuses the job. */
  fingerprint: Omit<Fingerprint, 'inputs'>;
}

export interface UnitJobData extends RunSpec {
  unit: number;
  file: string;
  /** A range of the file's row groups (first, last) and the file's rows before it, when the unit is one (io/units/ranges.ts). */
  groups?: [number, number];
  firstRow?: number;
  /** The column types the driver resolved once (CSV: the first file's inference rows), for every unit. */
  fixedTypes?: FixedSourceTypes;
}

export interface CommitJobData extends RunSpec {
  /** Every unit's input file, in unit order (a file cut into row-group ranges is there once per range). */
  files: string[];
}

/** A unit job's result: what its attempt staged, per sink (absolute frames files), and who did it. */
export interface UnitResult {
  unit: number;
  file: string;
  groups?: [number, number];
  sinks: ({ file: string; rows: number } | null)[];
  /** A plan with stateful stages: the output at the cut (runtime/unit-cut.ts), which the commit job runs the stateful stages over. */
  cut?: { file: string; rows: number } | null;
  /** A plan with a deadLetter output: the rows the unit dead-lettered (frames, batches numbered from the unit's start), or null. */
  dead?: { file: string; rows: number } | null;
  /** What the unit rejected and read: the commit job checks maxErrors over every unit's, and reports them. */
  rejects?: UnitRejects;
  /** Rows the unit's source read. */
  rows: number;
  worker: string;
  ms: number;
  /** When the unit's run started on its worker (ISO), and its start-up (copies ready) in ms. */
  startedAt?: string;
  startupMs?: number;
  /** CPU time of the worker process over the unit, ms (with several units at once on a worker, theirs overlap). */
  cpuMs?: number;
  /** The unit ran on copies an earlier unit of the run had started (runtime/warm-copies.ts). */
  warm?: boolean;
}

/** What a unit job reports while it runs (job.updateProgress): the driver's live display sums it over workers. */
export interface UnitProgress {
  /** Rows the unit's source has read so far, and its input bytes read of the file's size. */
  rows: number;
  bytesRead: number;
  totalBytes: number;
  worker: string;
}

/** The commit job's result (also kept as its progress once published, so a retried commit does not publish twice). */
export interface CommitResult {
  committed: true;
  /** Per sink: files published and rows (the dead-letter output last, named `deadLetter`, when the plan has one). */
  sinks: { name: string; path: string; rows: number; files: string[] }[];
  /** Rows the units (and the commit job's stages) rejected, per place, action and reason, as an embedded run's report has them. */
  rejected?: { rows: number; counts: RejectCount[] };
  worker: string;
  ms: number;
}

export const unitJobId = (runId: string, unit: number): string => `${runId}-u${unit}`;
export const commitJobId = (runId: string): string => `${runId}-commit`;
