/**
 * A resumable run's manifest: one NDJSON file, appended and fsynced line by line. Its first
 * line says what the run is (its fingerprint: config, stage modules, inputs); a `schema` line
 * keeps the source's column types once they are fixed; one `unit` line per unit whose staged
 * files are durable (written, fsynced, renamed: staging.ts) — a unit is done only if it has
 * its line; `committed` says the job commit published every sink. A torn last line (a kill
 * mid-append) is no line. Hadoop's manifest committer is the anchor: the manifest, not the
 * files present, decides what is done.
 */
import { existsSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';

export interface Fingerprint {
  /** sha256 of the config file and the effective overrides. */
  config: string;
  /** Stage name → sha256 of its module file. */
  stages: Record<string, string>;
  /**
   * Every input in unit order: path and identity (size, mtime, inode); in an incremental run
   * also the sha256 its selection hashed (a resumed run hashes them again: an edit that kept
   * the identity is refused rather than recorded as committed with bytes the output lacks).
   */
  inputs: { file: string; id: string; sha256?: string }[];
}

/** The first line: what the run is. */
export interface RunLine {
  type: 'run';
  version: 1;
  runId: string;
  fingerprint: Fingerprint;
  /** How many units the run is cut into (more than its inputs when Parquet files are cut into row-group ranges). */
  units?: number;
}

/** The source's column types, fixed once from the run's first file. */
export interface SchemaLine {
  type: 'schema';
  csv?: unknown;
  ndjson?: unknown;
}

/** A unit whose files every sink staged durably: per sink, its frames file (relative to that sink's staging directory) and rows, or null for none. */
export interface UnitLine {
  type: 'unit';
  unit: number;
  file: string;
  /** A range of the file's row groups (first, last): the unit is that range, not the whole file (io/units/ranges.ts). */
  groups?: [number, number];
  sinks: ({ file: string; rows: number } | null)[];
  /** Rows the unit rejected (skipped or dead-lettered: `onError`), when any: a resumed run's `maxErrors` counts them. */
  rejected?: number;
  /** Batches the source read of the unit: a resumed run numbers its batches on from the units before it. */
  sourceBatches?: number;
  /** Rows the source read of the unit's file (rejected ones included): a resumed run's `maxErrors` share counts them. */
  sourceRows?: number;
  /**
   * The unit's rejects per place, action and reason, when any (`at`: batch and row of the first,
   * numbered as an uninterrupted run's; null: unknown): a resumed run's report adds them to its own.
   */
  rejectCounts?: RejectCountLine[];
  /** The unit's first rejected rows (at most the few a budget error names), without their text and values: a resumed run's budget error names them first. */
  firstRejects?: FirstRejectLine[];
}

/** Where a rejected row was and why (runtime/rejects.ts Reject, less its raw text, values and stack). */
export interface FirstRejectLine {
  origin: 'source' | 'stage';
  stage?: string;
  file?: string;
  line?: number;
  row?: number;
  column?: string;
  batch?: number;
  reason: string;
}

/** Rows a unit rejected at one place (`source` or a stage), by one action, for one reason. */
export interface RejectCountLine {
  place: string;
  action: 'skip' | 'dead-letter';
  reason: string;
  rows: number;
  at: [number | null, number | null];
}

/** The job commit published every sink. */
export interface CommittedLine {
  type: 'committed';
}

/** A line of the manifest file (a format on disk, not a message between threads). */
export type ManifestLine = RunLine | SchemaLine | UnitLine | CommittedLine;

export interface ManifestState {
  run?: RunLine;
  schema?: SchemaLine;
  units: Map<number, UnitLine>;
  committed: boolean;
}

export function readManifest(file: string): ManifestState {
  const state: ManifestState = { units: new Map(), committed: false };
  if (!existsSync(file)) return state;
  const text = readFileSync(file, 'utf8');
  // Only whole lines count: the last one may have been cut by a kill while it was appended.
  const whole = text.slice(0, text.lastIndexOf('\n') + 1);
  for (const line of whole.split('\n')) {
    if (!line) continue;
    const m = JSON.parse(line) as ManifestLine;
    if (m.type === 'run') state.run = m;
    else if (m.type === 'schema') state.schema = m;
    else if (m.type === 'unit') state.units.set(m.unit, m);
    else state.committed = true;
  }
  return state;
}

/** Appends one line and fsyncs it, off the thread (the run's I/O queue, io-queue.ts, keeps the order): once this resolves, the line survives a crash. */
export async function appendManifestAsync(file: string, line: ManifestLine): Promise<void> {
  const fh = await open(file, 'a');
  try {
    await fh.write(JSON.stringify(line) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
}
