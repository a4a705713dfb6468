/**
 * A cluster run's staged units as its commit job sees them (src/cluster/commit.ts): what the
 * workers' unit jobs recorded (each sink's frames, and the cut's before a stateful stage),
 * offered the way a resumable run's UnitRun offers its units to its job commit (units.ts), so
 * one job commit (runtime/run.ts) serves both: every unit is done, nothing is read again, each
 * stream is replayed in unit order.
 */
import type { RecordBatch } from 'apache-arrow';
import { replayStaged, type StagedFrames } from './replay';
import { stagingFailure } from './failures';
import { blobKind } from '../../batch/blob';
import { PART_BLOB, partOf } from '../parquet/encoder/parts';
import type { UnitsReport } from './units';
import type { UnitSpec } from '../../batch/unit-tag';
import type { FirstRejectLine, RejectCountLine } from './manifest';
import { shiftBatchNumbers } from './shift-batches';

export interface StagedUnit {
  /** The unit's input file. */
  file: string;
  /** Per sink of the plan: its staged frames file (absolute) and rows, or null. */
  sinks: ({ file: string; rows: number } | null)[];
  /** The output at the cut (runtime/unit-cut.ts), or null. */
  cut: { file: string; rows: number } | null;
  /** The dead-letter output's rows the unit rejected (their frames, batches numbered from the unit's start), or null. */
  dead?: { file: string; rows: number } | null;
  /** What the unit rejected and read (absent: nothing rejected, nothing counted). */
  rejects?: UnitRejects;
}

/**
 * What a unit job rejected (skipped or dead-lettered: counts per reason, its first rows) and
 * read (source batches and rows): the manifest line's fields of a resumable unit. Batch numbers
 * count from the unit's own first batch: the commit job shifts them by the batches of the units
 * before it, so they are an uninterrupted run's.
 */
export interface UnitRejects {
  rejected: number;
  rejectCounts: RejectCountLine[];
  firstRejects: FirstRejectLine[];
  sourceBatches: number;
  sourceRows: number;
}

/** A unit job's staged file that the commit job cannot read: a SinkError naming the unit and the file (failures.ts). */
function readBackFailure(err: unknown, unit: StagedFrames): Error {
  return stagingFailure(err, 'read back the staged batches', undefined, unit.unit, unit.input, unit.frames, 'nothing was committed');
}

export class StagedUnits {
  readonly todo: string[] = [];
  readonly todoUnits: UnitSpec[] = [];
  readonly schema = undefined;
  readonly done: ReadonlySet<number>;
  unitEnd: ((key: string) => { loose: RecordBatch[]; rejected: number; rejectCounts: RejectCountLine[]; firstRejects: FirstRejectLine[]; sourceBatches: number; sourceRows: number }) | undefined;

  /** Per unit: the source batches of the units before it (what its rejects' batch numbers are shifted by). */
  private readonly batchesBefore: number[];

  constructor(
    readonly runId: string,
    private readonly units: StagedUnit[],
    /** Streams 0..sinks-1 are the sinks'; then the dead-letter output's, when `dead`; any stream after them is the cut's. */
    private readonly sinks: number,
    private readonly dead = false,
  ) {
    this.done = new Set(units.map((_, u) => u));
    let before = 0;
    this.batchesBefore = units.map((u) => {
      const at = before;
      before += u.rejects?.sourceBatches ?? 0;
      return at;
    });
  }

  /**
   * What every unit rejected and read, summed in unit order (the job commit's `maxErrors` is
   * checked against it: a count, or a share of the rows read by every unit), batch numbers
   * shifted to an uninterrupted run's.
   */
  carried(): UnitRejects {
    const all = this.units.map((u, i) => ({ r: u.rejects, shift: this.batchesBefore[i] }));
    const sum = (f: (r: UnitRejects) => number) => all.reduce((n, { r }) => n + (r ? f(r) : 0), 0);
    const shift = (b: number | null | undefined, by: number) => (b === null || b === undefined ? b : b + by);
    return {
      rejected: sum((r) => r.rejected),
      rejectCounts: all.flatMap(({ r, shift: by }) => (r?.rejectCounts ?? []).map((c) => ({ ...c, at: [shift(c.at[0], by) ?? null, c.at[1]] as [number | null, number | null] }))),
      firstRejects: all.flatMap(({ r, shift: by }) => (r?.firstRejects ?? []).map((f) => ({ ...f, batch: shift(f.batch, by) ?? undefined }))),
      sourceBatches: sum((r) => r.sourceBatches),
      sourceRows: sum((r) => r.sourceRows),
    };
  }

  /** Nothing is read at a commit job: there are no items to note. */
  noteItem(): void {}

  /** A replayed batch's unit is its file (the commit job does not cut row groups at range edges again). */
  keyOf(file: string): string {
    return file;
  }

  /**
   * Nothing is staged at a commit job: the units staged every row. A plan without a stateful
   * stage runs its stages there over no input, and what they pass on with nothing read (a
   * Parquet encoder's schema-only file: the output of no rows) adds no row: it is dropped (the
   * units staged theirs); a row is a bug.
   */
  write(k: number, batch: RecordBatch, sourceFile: string | undefined): undefined {
    const empty = batch.numRows === 0 || (blobKind(batch) === PART_BLOB && partOf(batch).rows === 0);
    if (!empty) throw new Error(`internal: the commit job of a cluster run stages nothing (stream ${k} was handed ${batch.numRows} rows of ${sourceFile ?? 'no input file'})`);
    return undefined;
  }

  async finishUnits(): Promise<void> {}

  async abort(): Promise<void> {}

  *replay(k: number): Generator<RecordBatch> {
    for (const { batch } of this.replayUnits(k)) yield batch;
  }

  replayUnits(k: number): Generator<{ batch: RecordBatch; file?: string }> {
    if (this.isDead(k)) return this.replayDead();
    return replayStaged(
      this.units.map((u, i) => {
        const staged = this.streamOf(u, k);
        return staged ? { frames: staged.file, input: u.file, unit: i } : null;
      }),
      readBackFailure,
    );
  }

  rows(k: number): number {
    return this.units.reduce((n, u) => n + (this.streamOf(u, k)?.rows ?? 0), 0);
  }

  private isDead(k: number): boolean {
    return this.dead && k === this.sinks;
  }

  private streamOf(u: StagedUnit, k: number): { file: string; rows: number } | null | undefined {
    return k < this.sinks ? u.sinks[k] : this.isDead(k) ? u.dead : u.cut;
  }

  /** The dead-letter stream, each unit's batch numbers shifted by the batches the units before it read. */
  private *replayDead(): Generator<{ batch: RecordBatch; file?: string }> {
    for (const [i, u] of this.units.entries()) {
      if (!u.dead) continue;
      for (const { batch, file } of replayStaged([{ frames: u.dead.file, input: u.file, unit: i }], readBackFailure)) yield { batch: shiftBatchNumbers(batch, this.batchesBefore[i]), file };
    }
  }

  /** The cluster's commit job removes the staging itself once its result is recorded. */
  async committed(): Promise<void> {}

  report(): UnitsReport {
    return { runId: this.runId, total: this.units.length, reused: this.units.map((u) => u.file), read: [] };
  }
}
