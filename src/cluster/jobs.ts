/**
 * What the driver puts on the queue and what workers return: plain JSON, kept by BullMQ in
 * Redis. One flow per run: a `commit` job (id `<runId>-commit`) whose children are the `unit`
 * jobs (`<runId>-u<index>`), each with failParentOnFailure, so a unit that fails for good
 * fails the commit job at once instead of leaving it waiting for ever (bullmq#3362).
 */
import type { Fingerprint } from '../io/units/manifest';
import type { FixedSourceTypes } from '../io/sources';

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
  /** The column types the driver resolved once (CSV: the first file's inference rows), for every unit. */
  fixedTypes?: FixedSourceTypes;
}

export interface CommitJobData extends RunSpec {
  /** Every input file, in unit order. */
  files: string[];
}

/** A unit job's result: what its attempt staged, per sink (absolute frames files), and who did it. */
export interface UnitResult {
  unit: number;
  file: string;
  sinks: ({ file: string; rows: number } | null)[];
  /** A plan with stateful stages: the output at the cut (runtime/unit-cut.ts), which the commit job runs the stateful stages over. */
  cut?: { file: string; rows: number } | null;
  /** Rows the unit's source read. */
  rows: number;
  worker: string;
  ms: number;
}

/** The commit job's result (also kept as its progress once published, so a retried commit does not publish twice). */
export interface CommitResult {
  committed: true;
  /** Per sink: files published and rows. */
  sinks: { name: string; path: string; rows: number; files: string[] }[];
  worker: string;
  ms: number;
}

export const unitJobId = (runId: string, unit: number): string => `${runId}-u${unit}`;
export const commitJobId = (runId: string): string => `${runId}-commit`;
