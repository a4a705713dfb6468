/**
 * A cluster run's staged units as its commit job sees them (src/cluster/commit.ts): what the
 * workers' unit jobs recorded (each sink's frames, and the cut's before a stateful stage),
 * offered the way a resumable run's UnitRun offers its units to its job commit (units.ts), so
 * one job commit (runtime/run.ts) serves both: every unit is done, nothing is read again, each
 * stream is replayed in unit order.
 */
import type { RecordBatch } from 'apache-arrow';
import { replayStaged } from './replay';
import type { UnitsReport } from './units';
import type { UnitSpec } from '../../batch/unit-tag';
import type { FirstRejectLine, RejectCountLine } from './manifest';

export interface StagedUnit {
  /** The unit's input file. */
  file: string;
  /** Per sink of the plan: its staged frames file (absolute) and rows, or null. */
  sinks: ({ file: string; rows: number } | null)[];
  /** The output at the cut (runtime/unit-cut.ts), or null. */
  cut: { file: string; rows: number } | null;
}

export class StagedUnits {
  readonly todo: string[] = [];
  readonly todoUnits: UnitSpec[] = [];
  readonly schema = undefined;
  readonly done: ReadonlySet<number>;
  unitEnd: ((key: string) => { loose: RecordBatch[]; rejected: number; rejectCounts: RejectCountLine[]; firstRejects: FirstRejectLine[]; sourceBatches: number; sourceRows: number }) | undefined;

  constructor(
    readonly runId: string,
    private readonly units: StagedUnit[],
    /** Streams 0..sinks-1 are the sinks'; any stream after them is the cut's. */
    private readonly sinks: number,
  ) {
    this.done = new Set(units.map((_, u) => u));
  }

  /** Nothing was rejected before: a run with rejects is not cut in cluster mode yet (src/cluster/plan.ts). */
  carried(): { rejected: number; rejectCounts: RejectCountLine[]; firstRejects: FirstRejectLine[]; sourceBatches: number; sourceRows: number } {
    return { rejected: 0, rejectCounts: [], firstRejects: [], sourceBatches: 0, sourceRows: 0 };
  }

  /** Nothing is read at a commit job: there are no items to note. */
  noteItem(): void {}

  /** A replayed batch's unit is its file (the commit job does not cut row groups at range edges again). */
  keyOf(file: string): string {
    return file;
  }

  write(): never {
    throw new Error('internal: the commit job of a cluster run stages nothing');
  }

  async finishUnits(): Promise<void> {}

  async abort(): Promise<void> {}

  *replay(k: number): Generator<RecordBatch> {
    for (const { batch } of this.replayUnits(k)) yield batch;
  }

  replayUnits(k: number): Generator<{ batch: RecordBatch; file?: string }> {
    return replayStaged(
      this.units.map((u) => {
        const staged = k < this.sinks ? u.sinks[k] : u.cut;
        return staged ? { frames: staged.file, input: u.file } : null;
      }),
    );
  }

  rows(k: number): number {
    return this.units.reduce((n, u) => n + ((k < this.sinks ? u.sinks[k] : u.cut)?.rows ?? 0), 0);
  }

  /** The cluster's commit job removes the staging itself once its result is recorded. */
  committed(): void {}

  report(): UnitsReport {
    return { runId: this.runId, total: this.units.length, reused: this.units.map((u) => u.file), read: [] };
  }
}
